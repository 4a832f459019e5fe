/** Run the built CLI (dist/bundle/, as `npx webtree` would) against a sandbox in a temporary directory. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { copyFileSync, cpSync, mkdirSync, readdirSync, rmdirSync, statSync, symlinkSync } from 'node:fs';
import { execa, execaSync, type ResultPromise } from 'execa';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
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
/**
 * `npm test` builds first; a test file run on its own rebuilds dist/ when src/ is newer, under a
 * mkdir lock so that two test files never run tsc into the same dist/ at once.
 */
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
    // The bundle (what bin/webtree.js runs) is made last: it is as new as the whole build.
    const out = statSync(path.join(ROOT, 'dist', 'bundle', 'cli.cjs'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
    if (newest(path.join(ROOT, 'src')) > out) {
      execaSync('npx', ['tsc', '-p', ROOT], { cwd: ROOT });
      execaSync(process.execPath, [path.join(ROOT, 'scripts', 'bundle.mjs')], { cwd: ROOT });
    }
  } finally {
    rmdirSync(lock);
  }
  built = true;
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  dir: string;
  config: string;
  run(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** The command line of `webtree --config CONFIG ARGS` (node first), for tests that run it under another program (strace, unshare). */
  argv(args: string[]): string[];
  spawn(args: string[], env?: Record<string, string>): ResultPromise;
  json<T = any>(args: string[]): Promise<T>;
  cleanup(): Promise<void>;
}

/** Run as root, the tree goes to an unprivileged service account; otherwise to whoever runs the tests. */
export async function serviceUser(): Promise<string[]> {
  if (process.getuid?.() !== 0) return ['--user', os.userInfo().username];
  const r = await execa('id', ['-u', 'codemanager'], { reject: false });
  if (r.exitCode !== 0)
    throw new Error(
      'the service account codemanager is missing: .ci/run creates it (groupadd sispi; useradd -g sispi codemanager)',
    );
  return ['--user', 'codemanager'];
}

export async function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  ensureBuilt();
  const r = await execa(process.execPath, [BIN, ...args], {
    reject: false,
    env: { WEBTREE_LOCK_WAIT: '5', ...env },
    stdin: 'ignore',
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** `listen`: where the sandbox's Apache listens (HOST:PORT); tests that start Apache give a free port. */
export async function makeSandbox(initArgs: string[] = [], opts: { listen?: string } = {}): Promise<Sandbox> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-test-'));
  await fs.chmod(dir, 0o755);
  const config = path.join(dir, 'site', 'webtree.yaml');
  const sb: Sandbox = {
    dir,
    config,
    run: (args, env) => runCli(['--config', config, ...args], env),
    argv: (args) => [process.execPath, BIN, '--config', config, ...args],
    spawn: (args, env = {}) =>
      execa(process.execPath, sb.argv(args).slice(1), {
        reject: false,
        env: { WEBTREE_LOCK_WAIT: '5', ...env },
      }),
    async json(args) {
      const r = await sb.run([...args, '--json']);
      if (r.exitCode !== 0) throw new Error(`webtree ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}`);
      return JSON.parse(r.stdout);
    },
    cleanup: () => fs.rm(dir, { recursive: true, force: true }),
  };
  const r = await sb.run([
    'init',
    '--prefix',
    path.join(dir, 'site'),
    '--listen',
    opts.listen ?? '127.0.0.1:18080',
    ...(await serviceUser()),
    ...initArgs,
  ]);
  if (r.exitCode !== 0) throw new Error(`init failed: ${r.stderr}`);
  return sb;
}

/**
 * A copy of the package under `into` (its own bin/, dist/, products/, templates; the same
 * node_modules), for tests that damage its build. Times kept: dist/catalog-cache.json is used only
 * while each descriptor's mtime is as the build saw it, and a copy with new mtimes parses them all.
 */
export function copyPackage(into: string): string {
  for (const d of ['bin', 'dist', 'products', 'conf-templates'])
    cpSync(path.join(ROOT, d), path.join(into, d), { recursive: true, preserveTimestamps: true });
  copyFileSync(path.join(ROOT, 'package.json'), path.join(into, 'package.json'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(into, 'node_modules'));
  return into;
}
