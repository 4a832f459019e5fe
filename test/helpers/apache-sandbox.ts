/**
 * The site the end-to-end tests serve with the real Apache 2.4 + mod_wsgi: a sandbox made by
 * `webtree init` whose Apache listens on a free loopback port, run as the service account, sample
 * archives installed through the CLI, then render and `apache start`. The tests take the steps
 * they need in the order they need them, and stopApacheSandbox undoes it all: Apache stopped, any
 * process of the tree left behind killed, the directory removed.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { findOurProcesses } from '../../src/apache/process.js';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { makeSandbox, type CliResult, type Sandbox } from './cli.js';
import { freePort } from './http.js';
import { ensureServiceAccount } from './service-account.js';

export interface ApacheSandbox extends Sandbox {
  port: number;
  /** The service account Apache runs as, which owns the tree. */
  account: { uid: number; gid: number };
  /** Where the tests write their archives (made empty). */
  archives: string;
  /** A path in the site (the init prefix). */
  site(...p: string[]): string;
  /** The URL of a path on the sandbox's Apache (`/TV`). */
  url(p: string): string;
  /** Runs webtree and expects exit 0 (the output in the failure message). */
  ok(args: string[]): Promise<CliResult>;
  /** Writes a file as the account would (mode 0644, its owner), so that Apache may read it. */
  put(file: string, text: string): Promise<void>;
  /** Installs a sample archive of each product at its version, in order. */
  install(versions: Iterable<readonly [string, string]>): Promise<void>;
  /** `webtree render`, then `webtree apache start`. */
  serve(): Promise<void>;
  /** The processes of this tree's Apache that are running. */
  leftovers(): Promise<number[]>;
}

export async function makeApacheSandbox(initArgs: string[] = []): Promise<ApacheSandbox> {
  const account = await ensureServiceAccount();
  const port = await freePort();
  const sb = await makeSandbox(initArgs, { listen: `127.0.0.1:${port}` });
  const archives = path.join(sb.dir, 'archives');
  await fs.mkdir(archives);
  const site = (...p: string[]) => path.join(sb.dir, 'site', ...p);
  const ok = async (args: string[]) => {
    const r = await sb.run(args);
    expect(r.exitCode, `webtree ${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
    return r;
  };
  return {
    ...sb,
    port,
    account,
    archives,
    site,
    url: (p) => `http://127.0.0.1:${port}${p}`,
    ok,
    async put(file, text) {
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, text, { mode: 0o644 });
      await fs.chown(file, account.uid, account.gid);
    },
    async install(versions) {
      for (const [p, v] of versions) await ok(['install', await writeSampleArchive(archives, p, v)]);
    },
    async serve() {
      await ok(['render']);
      await ok(['apache', 'start']);
    },
    leftovers: () => findOurProcesses(site('www')),
  };
}

/**
 * Stops the sandbox's Apache, kills whatever process of its tree is left, removes the sandbox;
 * returns the processes still there after that (none, when all went well). Safe on a sandbox
 * that was never made (its beforeAll failed).
 */
export async function stopApacheSandbox(sb: ApacheSandbox | undefined): Promise<number[]> {
  if (!sb) return [];
  await sb.run(['apache', 'stop']);
  for (const pid of await sb.leftovers()) process.kill(pid, 'SIGKILL');
  const left = await sb.leftovers();
  await sb.cleanup();
  return left;
}
