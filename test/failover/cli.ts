/**
 * Run the built CLI (node bin/webtree.js) against real temp trees. The build is checked once
 * per test process: dist/ is rebuilt when any src/ file is newer, under a mkdir lock so that two
 * test files never run tsc into the same dist/ at once.
 */
import { mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa, execaSync } from 'execa';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin', 'webtree.js');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

let built = false;
export function ensureBuilt(): void {
  if (built) return;
  const lock = path.join(os.tmpdir(), 'webtree-test-build.lock');
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (i > 600) throw new Error(`build lock ${lock} held for a minute; remove it if no test runs`);
      execaSync('sleep', ['0.1']);
    }
  }
  try {
    const out = statSync(path.join(ROOT, 'dist', 'cli.js'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
    if (newest(path.join(ROOT, 'src')) > out) execaSync('npx', ['tsc', '-p', ROOT], { cwd: ROOT });
  } finally {
    rmdirSync(lock);
  }
  built = true;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function webtree(config: string, args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const r = await execa('node', [BIN, '--config', config, ...args], { reject: false, env: { WEBTREE_LOCK_WAIT: '10', ...env }, stdin: 'ignore' });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** A sandbox laid out by `webtree init --prefix` (extra init options allowed). */
export async function initSandbox(extra: string[] = []): Promise<{ dir: string; config: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-fo-'));
  const config = path.join(dir, 'webtree.yaml');
  const r = await webtree(config, ['init', '--prefix', dir, ...extra]);
  if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`);
  return { dir, config };
}
