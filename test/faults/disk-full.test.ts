/**
 * Disk full: `webtree install` of an archive that overflows a small tmpfs the test mounts, first
 * under the products root, then under the whole site (web tree, state, products), where the lock,
 * the journal or the unpacking meets the full disk depending on how much is left. Each time: exit
 * 1, a message that says the disk is full and names the file system and `df -h`, the live
 * version untouched, the tree as it was (no staging, trash, temporary, lock or journal); once the
 * space is freed the same archive installs and `verify` is clean. Mounting needs root, as in CI.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { makeSandbox, runCli, type Sandbox } from '../helpers/cli.js';
import { fillLeaving, freeBytes, listing, moveOntoTmpfs } from './tree.js';

const MiB = 1024 * 1024;
const canMount = process.getuid?.() === 0;
// Outside CI a non-root run may skip; under CI=true a missing root is a failure, never a skip.
const run = canMount || process.env.CI === 'true';

/** TV 3.4 with 2 MiB of incompressible data in it: more than the space left in each case below. */
const bigArchive = (dir: string) =>
  writeSampleArchive(dir, 'TV', '3.4', { 'product/big.bin': randomBytes(1.5 * MiB).toString('base64') });

const HISTORY = 'www/state/history.jsonl';
/** Given up on a full disk and made again when there is room: its times change, nothing a reader sees. */
const RESERVE = 'www/state/reserve';
/**
 * The status page and <state>/watch.json follow every change, a failed one too (README: `watch.page`,
 * "written after every check and every change"): rewritten in place by rename, so their size and
 * times may change; their mode, owner and presence are still the tree as it was.
 */
const FOLLOWS = ['www/html/webtree/index.html', 'www/state/watch.json'];

/** The listing, with the size and times of the files that follow every change left out. */
async function asItWas(root: string, except: string[]): Promise<string[]> {
  return (await listing(root, except)).map((l) =>
    FOLLOWS.some((f) => l.startsWith(`${f} `)) ? l.split(' ').slice(0, 3).join(' ') : l,
  );
}

interface Site {
  sb: Sandbox;
  site: string;
  unmount?: () => Promise<void>;
  big: string;
}

async function sandboxWithTv(): Promise<Site> {
  const sb = await makeSandbox();
  const arch = path.join(sb.dir, 'archives');
  await fs.mkdir(arch);
  const first = await sb.run(['install', await writeSampleArchive(arch, 'TV', '3.3a')]);
  expect(first.exitCode, first.stderr).toBe(0);
  return { sb, site: path.join(sb.dir, 'site'), big: await bigArchive(arch) };
}

/** Install the big archive onto the full disk and check everything a failed install promises. */
async function installOntoFullDisk(s: Site, mountDir: string): Promise<string> {
  const served = await fs.readFile(path.join(s.site, 'www/html/TV/tv.wsgi'));
  const before = await asItWas(s.site, [HISTORY, 'filler', RESERVE]);
  const r = await s.sb.run(['install', s.big]);
  expect(r.exitCode, r.stderr).toBe(1);
  expect(r.stderr).toMatch(/^webtree: the disk is full: could not /m);
  expect(r.stderr).toContain(`(tmpfs webtree-test mounted on ${mountDir})`);
  expect(r.stderr).toContain(`free space on ${mountDir} (\`df -h ${mountDir}\` shows what is left`);
  expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
  // The live version untouched: the same link, the same bytes served.
  expect(await fs.readlink(path.join(s.site, 'dbwebtools/tv/current'))).toBe('3.3a');
  expect(await fs.readFile(path.join(s.site, 'www/html/TV/tv.wsgi'))).toEqual(served);
  // The tree as it was: no staging, trash or temporary; the lock released, no journal pending.
  expect(await asItWas(s.site, [HISTORY, 'filler', RESERVE])).toEqual(before);
  const state = await fs.readdir(path.join(s.site, 'www/state'));
  expect(state).not.toContain('lock');
  expect(state).not.toContain('journal.json');
  return r.stderr;
}

async function freeAndInstall(s: Site, filler: string): Promise<void> {
  await fs.rm(filler);
  const r = await s.sb.run(['install', s.big]);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(await fs.readlink(path.join(s.site, 'dbwebtools/tv/current'))).toBe('3.4');
  expect(await fs.readFile(path.join(s.site, 'www/html/TV/tv.wsgi'), 'utf8')).toMatch(/VERSION = "3.4"/);
  const v = await s.sb.run(['verify']);
  expect(v.exitCode, v.stdout + v.stderr).toBe(0);
}

describe.runIf(run)('disk full under the products root', () => {
  let s: Site;
  let products: string;
  beforeAll(async () => {
    s = await sandboxWithTv();
    products = path.join(s.site, 'dbwebtools');
    s.unmount = await moveOntoTmpfs(products, 4 * MiB);
  });
  afterAll(async () => {
    await s?.unmount?.();
    await s?.sb.cleanup();
  });

  it('an archive that overflows it: exit 1, "the disk is full" with the file system, the tree as it was', async () => {
    await fillLeaving(path.join(products, 'filler'), 512 * 1024);
    expect(await freeBytes(products)).toBeLessThan(MiB);
    const stderr = await installOntoFullDisk(s, products);
    expect(stderr).toMatch(new RegExp(`could not \\S+ \\S*${products}/tv/`));
    const history = (await fs.readFile(path.join(s.site, HISTORY), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(history.at(-1)).toMatchObject({
      action: 'install',
      product: 'TV',
      to: '3.4',
      outcome: 'failed',
      message: expect.stringMatching(/^the disk is full: could not write /),
    });
  });

  it('the same file system read-only: refused before the journal, naming it, the tree as it was', async () => {
    await execa('mount', ['-o', 'remount,ro', products]);
    try {
      const before = await asItWas(s.site, ['filler', RESERVE]);
      const r = await s.sb.run(['install', s.big]);
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toMatch(
        /^webtree: a directory that `install TV 3\.4[^`]*` needs is on a read-only file system; nothing was changed\n/,
      );
      expect(r.stderr).toContain(`\n  ${products}/tv (read-only file system): `);
      expect(r.stderr).toContain(
        `hint: remount read-write (\`mount -o remount,rw\` on the file system of ${products}/tv)`,
      );
      expect(await asItWas(s.site, ['filler', RESERVE])).toEqual(before);
    } finally {
      await execa('mount', ['-o', 'remount,rw', products]);
    }
  });

  it('once the space is freed, the same archive installs and verify is clean', async () => {
    await freeAndInstall(s, path.join(products, 'filler'));
  });
});

describe.runIf(run)('disk full under the whole site: the lock, the journal and the unpacking', () => {
  let s: Site;
  let filler: string;
  beforeAll(async () => {
    s = await sandboxWithTv();
    s.unmount = await moveOntoTmpfs(s.site, 8 * MiB);
    filler = path.join(s.site, 'filler');
  });
  afterAll(async () => {
    await s?.unmount?.();
    await s?.sb.cleanup();
  });

  it('nothing left: the reserve is given up for the lock and the journal; the unpacking meets the full disk', async () => {
    await fillLeaving(filler, 0);
    const stderr = await installOntoFullDisk(s, s.site);
    expect(stderr).toContain(
      `webtree: warning: the disk is full: webtree gave up its reserve (${path.join(s.site, 'www/state')}/reserve) to take its lock`,
    );
    expect(stderr).toMatch(new RegExp(`could not \\S+ \\S*${s.site}/dbwebtools/tv/`));
  });

  it('no reserve left and nothing free: taking the lock meets it, named, the tree as it was', async () => {
    await fs.rm(path.join(s.site, RESERVE), { force: true });
    await fillLeaving(filler, 0);
    const stderr = await installOntoFullDisk(s, s.site);
    expect(stderr).toContain(`could not take webtree's lock in ${path.join(s.site, 'www/state')}`);
  });

  it('256 KiB left: the unpacking meets it; the failure is in the history', async () => {
    await fillLeaving(filler, 256 * 1024);
    const stderr = await installOntoFullDisk(s, s.site);
    expect(stderr).toMatch(new RegExp(`could not \\S+ \\S*${s.site}/dbwebtools/tv/`));
    const history = (await fs.readFile(path.join(s.site, HISTORY), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(history.at(-1)).toMatchObject({
      action: 'install',
      product: 'TV',
      to: '3.4',
      outcome: 'failed',
      message: expect.stringMatching(/^the disk is full: could not write /),
    });
  });

  it('once the filler is deleted, the same archive installs and verify is clean', async () => {
    await freeAndInstall(s, filler);
  });
});

describe.runIf(run)(
  'a full disk: the reserve lets the prune and the rollback that the message names run, and they tell the truth',
  () => {
    let s: Site;
    let filler: string;
    const current = () => fs.readlink(path.join(s.site, 'dbwebtools/tv/current'));
    beforeAll(async () => {
      s = await sandboxWithTv();
      for (const v of ['3.4', '3.5', '3.6']) {
        const r = await s.sb.run(['install', await writeSampleArchive(path.join(s.sb.dir, 'archives'), 'TV', v)]);
        expect(r.exitCode, r.stderr).toBe(0);
      }
      expect(await fs.stat(path.join(s.site, RESERVE))).toMatchObject({ size: 512 * 1024 });
      s.unmount = await moveOntoTmpfs(s.site, 8 * MiB);
      filler = path.join(s.site, 'filler');
    });
    afterAll(async () => {
      await s?.unmount?.();
      await s?.sb.cleanup();
    });

    it('rollback with a few KiB free: done and live (exit 0), or refused and as it was (exit 1) — here done', async () => {
      await fillLeaving(filler, 4096);
      const r = await s.sb.run(['rollback', 'TV']);
      expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
      // The exit and the tree agree: never "nothing changed" over a live change.
      expect(r.exitCode, r.stderr).toBe(0);
      expect(await current()).toBe('3.5');
      const state = await fs.readdir(path.join(s.site, 'www/state'));
      expect(state).not.toContain('journal.json');
      expect(state).not.toContain('lock');
      const last = JSON.parse((await fs.readFile(path.join(s.site, HISTORY), 'utf8')).trim().split('\n').at(-1)!);
      expect(last).toMatchObject({ action: 'rollback', product: 'TV', to: '3.5', outcome: 'ok' });
    });

    it('prune, as the "disk is full" hint says, runs on the full disk and frees space', async () => {
      await fillLeaving(filler, 0);
      const r = await s.sb.run(['prune', 'TV', '--keep', '1']);
      expect(r.exitCode, r.stderr).toBe(0);
      // Kept: 3.6 (the newest), 3.5 (current), 3.4 (previous); 3.3a goes.
      expect((await s.sb.json(['list', 'TV'])).products[0].versions).toEqual(['3.4', '3.5', '3.6']);
    });

    it('once there is room, the next changing command makes the reserve again; verify is clean', async () => {
      await fs.rm(filler);
      expect((await s.sb.run(['prune', 'TV', '--keep', '5'])).exitCode).toBe(0);
      expect(await fs.stat(path.join(s.site, RESERVE))).toMatchObject({ size: 512 * 1024 });
      const v = await s.sb.run(['verify']);
      expect(v.exitCode, v.stdout).toBe(0);
    });
  },
);

describe.skipIf(!run)('init onto a read-only file system', () => {
  it('names the file system and the fix, exit 1, no stack trace', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-ro-'));
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'webtree-test', dir]);
    try {
      const r = await runCli(['init', '--prefix', path.join(dir, 'site'), '--listen', '127.0.0.1:18099']);
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^webtree: the file system is read-only: could not create the directory ${dir}/site \\(tmpfs webtree-test mounted on ${dir}\\)`,
        ),
      );
      expect(r.stderr).toContain(`mount -o remount,rw ${dir}`);
      expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
    } finally {
      await execa('umount', [dir]);
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
