/**
 * The failover tests' view of the built CLI: the shared runner of test/helpers/cli.ts, with the
 * result named as these tests use it, and a sandbox whose prefix is the temp dir itself.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { consumerPaths } from './consumers.js';

export { BIN, ensureBuilt, ROOT } from '../helpers/cli.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function webtree(
  config: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  const r = await runCli(['--config', config, ...args], { WEBTREE_LOCK_WAIT: '10', ...env });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

/** A sandbox laid out by `webtree init --prefix` (extra init options allowed). */
export async function initSandbox(extra: string[] = []): Promise<{ dir: string; config: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-fo-'));
  await fs.chmod(dir, 0o755); // the service account (Apache) must reach the tree, as on the host
  const config = path.join(dir, 'webtree.yaml');
  const r = await webtree(config, ['init', '--prefix', dir, ...extra]);
  if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`);
  return { dir, config };
}

/**
 * The sandboxes of one test file: the CLI built before its tests, every directory handed out
 * removed after them. Call once, at the top of the file (it registers the file's hooks).
 */
export function sandboxes() {
  const dirs: string[] = [];
  beforeAll(() => ensureBuilt(), 120_000);
  afterAll(async () => {
    for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
  });
  return {
    /** A directory the test made itself, removed with the others. */
    keep: (dir: string): string => {
      dirs.push(dir);
      return dir;
    },
    /** An initSandbox, with its site file loaded and the paths of every per-server consumer. */
    withConsumers: async (extra: string[] = []) => {
      const s = await initSandbox(extra);
      dirs.push(s.dir);
      return { ...s, ...(await consumerPaths(s.config)) };
    },
  };
}
