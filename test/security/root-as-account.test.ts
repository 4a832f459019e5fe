/**
 * Root works in the tree as the service account. The account owns the tree, so it can swap a
 * product directory for a link to a directory of root's at any moment; root's webtree must then
 * be refused as the account would be, never write, chown or delete there. Real processes: root
 * runs the built CLI while a process running as codemanager swaps products/tv for a link to a
 * root-owned directory, over and over. WEBTREE_ROOT_RACE_ROUNDS sets the number of root commands
 * (default 100: about a minute on an idle 2-core machine, each round one CLI process while the
 * swapper takes a core; the "hundreds": WEBTREE_ROOT_RACE_ROUNDS=500 for a soak).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { makeSandbox, type Sandbox } from '../helpers/cli.js';
import { ensureServiceAccount } from '../helpers/service-account.js';

const ROUNDS = Number(process.env.WEBTREE_ROOT_RACE_ROUNDS ?? 100);
const isRoot = process.getuid?.() === 0;
if (!isRoot) {
  if (process.env.CI === 'true')
    describe('root works as the service account', () =>
      it('runs as root', () => {
        throw new Error('these tests run as root (CI runs them as root)');
      }));
  else console.warn('skipping the root-as-account tests: they run as root');
}

/** Every entry under dir: name, type, mode, owner, size, content hash or link target. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for (const name of (await fs.readdir(path.join(dir, rel))).sort()) {
      const r = path.join(rel, name);
      const p = path.join(dir, r);
      const st = await fs.lstat(p);
      const what = st.isSymbolicLink()
        ? `-> ${await fs.readlink(p)}`
        : st.isFile()
          ? createHash('sha256')
              .update(await fs.readFile(p))
              .digest('hex')
          : 'dir';
      out.push(`${r} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${what}`);
      if (st.isDirectory()) await walk(r);
    }
  };
  const top = await fs.lstat(dir);
  out.push(`. ${top.mode.toString(8)} ${top.uid}:${top.gid}`);
  await walk('');
  return out;
}

describe.skipIf(!isRoot)('root works in the tree as the service account', () => {
  let sb: Sandbox;
  let account: { uid: number; gid: number };
  let victim: string;
  let archives: string;
  const tv = () => path.join(sb.dir, 'site', 'dbwebtools', 'tv');

  beforeAll(async () => {
    account = await ensureServiceAccount();
    sb = await makeSandbox();
    archives = path.join(sb.dir, 'archives');
    await fs.mkdir(archives);
    for (const v of ['3.3a', '3.4'])
      expect((await sb.run(['install', await writeSampleArchive(archives, 'TV', v)])).exitCode).toBe(0);
    // root's directory, which the account can reach but not write: where a planted link leads.
    victim = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-victim-'));
    await fs.chmod(victim, 0o755);
    await fs.mkdir(path.join(victim, 'sub'));
    await fs.writeFile(path.join(victim, 'keep'), 'root data\n');
    await fs.writeFile(path.join(victim, 'sub', 'keep'), 'more root data\n');
  }, 120_000);

  afterAll(async () => {
    await sb?.cleanup();
    if (victim) await fs.rm(victim, { recursive: true, force: true });
  });

  it('a planted tv -> root directory: install, activate, prune and rollback are refused as the account; nothing changes there', async () => {
    const before = await snapshot(victim);
    await fs.rename(tv(), `${tv()}.real`);
    await fs.symlink(victim, tv());
    await fs.lchown(tv(), account.uid, account.gid);
    try {
      const runs = [
        ['install', await writeSampleArchive(archives, 'TV', '3.5')],
        ['activate', 'TV', '3.3a'],
        ['prune', 'TV', '--keep', '0'],
        ['rollback', 'TV'],
      ];
      for (const args of runs) {
        const r = await sb.run(args);
        // Refused as the account; prune finds nothing of its own there, which is no change either.
        expect([args[0] === 'prune' ? 0 : 1, 1], `${args.join(' ')}: ${r.stdout}${r.stderr}`).toContain(r.exitCode);
        if (args[0] === 'install') expect(r.stderr).toMatch(/permission denied: codemanager/);
        expect(r.stderr).not.toMatch(/unexpected error|    at /);
      }
      expect(await snapshot(victim)).toEqual(before);
    } finally {
      await fs.rm(tv());
      await fs.rename(`${tv()}.real`, tv());
    }
    expect((await sb.run(['verify'])).exitCode).toBe(0);
  }, 120_000);

  it(
    `while the account keeps swapping products/tv for a link to root's directory, ${ROUNDS} root commands change nothing outside the tree`,
    async () => {
      const before = await snapshot(victim);
      const stop = path.join(sb.dir, 'stop-swapping');
      // The swapper runs as the account: it may do only what the account may do.
      const swap = `const fs = require('fs'); const [tv, victim, stop] = process.argv.slice(1); let n = 0;
      while (!fs.existsSync(stop)) {
        try { fs.renameSync(tv, tv + '.real'); fs.symlinkSync(victim, tv); for (let i = 0; i < 200; i++); fs.unlinkSync(tv); fs.renameSync(tv + '.real', tv); n++; } catch (e) {}
      }
      console.log(n);`;
      const swapper = execa(process.execPath, ['-e', swap, tv(), victim, stop], {
        uid: account.uid,
        gid: account.gid,
        reject: false,
      });
      const codes: Record<string, number> = {};
      try {
        for (let i = 0; i < ROUNDS; i++) {
          const args = [
            ['activate', 'TV', i % 2 ? '3.3a' : '3.4'],
            ['install', await writeSampleArchive(archives, 'TV', `4.${i}`), '--no-activate'],
            ['prune', 'TV', '--keep', '3'],
            ['render'],
            ['rollback', 'TV'],
            ['status'],
          ][i % 6];
          const r = await sb.run(args);
          expect([0, 1], `${args.join(' ')}: ${r.stdout}${r.stderr}`).toContain(r.exitCode);
          expect(r.stderr).not.toMatch(/unexpected error|    at /);
          codes[`${args[0]} ${r.exitCode}`] = (codes[`${args[0]} ${r.exitCode}`] ?? 0) + 1;
        }
      } finally {
        await fs.writeFile(stop, '');
      }
      const swaps = Number((await swapper).stdout);
      expect(swaps).toBeGreaterThan(ROUNDS);
      expect(await snapshot(victim)).toEqual(before);
      // Whatever root made in the tree, it made as the account.
      expect((await execa('find', [path.join(sb.dir, 'site'), '-uid', '0'])).stdout.trim()).toBe('');
      console.log(`root-as-account race: ${swaps} swaps; commands by exit: ${JSON.stringify(codes)}`);
    },
    Math.max(300_000, ROUNDS * 10_000),
  );
});
