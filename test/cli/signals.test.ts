/**
 * Ctrl-C (SIGINT) and SIGTERM sent to a real `webtree` process. Before the change is live the
 * tree is as it was the moment the process exits, not only after the next command's recovery:
 * no staging, temp or stage directories, no journal, the lock released, links and files as they
 * were, an 'undone' history entry, exit 128 + the signal's number and "interrupted: nothing was
 * changed". After the commit point the change is finished instead, and the exit says so.
 */
import { execa, type ResultPromise } from 'execa';
import { pathExists } from '../../src/state/fs-read.js';
import { watch } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { BIN, makeSandbox, type Sandbox } from '../helpers/cli.js';

let sb: Sandbox;
let site: string;
const tvDir = () => path.join(site, 'dbwebtools/tv');
const stateDir = () => path.join(site, 'www/state');

beforeAll(async () => {
  sb = await makeSandbox();
  site = path.join(sb.dir, 'site');
  expect((await sb.run(['install', await writeSampleArchive(sb.dir, 'TV', '1.0')])).exitCode).toBe(0);
});
afterAll(async () => sb.cleanup());

/** Every name under dir (recursively) that webtree uses for something half-made. */
async function litter(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir, { recursive: true });
  return names.filter((n) => /(^|\/)\.webtree-|\.raw$|\.tmp/.test(n));
}

/** What must hold the instant a process stopped before its change went live. */
async function expectAsItWas(
  r: { exitCode?: number; stderr: string },
  exit: number,
  snapshot: Record<string, string>,
): Promise<void> {
  expect(r.exitCode, r.stderr).toBe(exit);
  expect(r.stderr).toMatch(/^webtree: interrupted: nothing was changed$/m);
  expect(r.stderr, 'no stack trace').not.toMatch(/^\s+at /m);
  expect(await pathExists(path.join(stateDir(), 'journal.json')), 'no pending journal').toBe(false);
  expect(await pathExists(path.join(stateDir(), 'lock')), 'lock released').toBe(false);
  expect(await litter(site), 'no staging or temp files').toEqual([]);
  expect(await snapshotTree()).toEqual(snapshot);
}

/** Links (as their targets) and generated files (as their bytes) a reader sees. */
async function snapshotTree(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const top of ['dbwebtools', 'www/html', 'www/conf', 'www/conf.d', 'www/state/manifests']) {
    const dir = path.join(site, top);
    for (const rel of (await fs.readdir(dir, { recursive: true }).catch(() => [])) as string[]) {
      const p = path.join(dir, rel);
      const st = await fs.lstat(p);
      if (st.isSymbolicLink()) out[`${top}/${rel}`] = `-> ${await fs.readlink(p)}`;
      else if (st.isFile()) out[`${top}/${rel}`] = (await fs.readFile(p)).toString('base64').slice(0, 64);
      else if (st.isDirectory()) out[`${top}/${rel}/`] = 'dir';
    }
  }
  return out;
}

/** A spawned process's end, with its output as text. */
async function ended(child: ResultPromise): Promise<{ exitCode?: number; stdout: string; stderr: string }> {
  const r = await child;
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

const lastEntry = async () => (await sb.json(['history'])).entries.at(-1);

/** Resolve once the child's stderr has shown a line matching re (its --debug operation lines). */
function whenLine(child: ResultPromise, re: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stderr!.on('data', (b: Buffer) => {
      text += String(b);
      if (re.test(text)) resolve();
    });
    child.then(() => reject(new Error(`the process ended before printing ${re}:\n${text}`)), reject);
  });
}

/** An archive big enough that unpacking it takes a while (many files, each written and chowned). */
async function bigArchive(version: string): Promise<string> {
  const extra: Record<string, string> = {};
  for (let i = 0; i < 1500; i++) extra[`product/data/d${i % 30}/f${i}.txt`] = `${i} `.repeat(500);
  return writeSampleArchive(sb.dir, 'TV', version, extra);
}

describe('signals before the change is live leave the tree as it was, at once', () => {
  for (const [sig, exit] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${sig} while install unpacks`, async () => {
      const archive = await bigArchive(`2.${sig}`);
      const before = await snapshotTree();
      const child = sb.spawn(['install', archive]);
      // Signal as soon as the unpack has begun writing into its staging directory.
      const staging = async () =>
        (await fs.readdir(tvDir()).catch(() => [])).some((n) => n.startsWith('.webtree-staging-'));
      for (let i = 0; i < 2000 && !(await staging()); i++) await new Promise((r) => setTimeout(r, 5));
      expect(await staging(), 'the unpack began').toBe(true);
      child.kill(sig);
      const r = await ended(child);
      await expectAsItWas(r, exit, before);
      expect(r.stderr).toMatch(new RegExp(`^${sig} arrived (during unpack|before check) `, 'm'));
      expect(await lastEntry()).toMatchObject({
        action: 'install',
        version: `2.${sig}`,
        outcome: 'undone',
        message: `interrupted by ${sig} before it took effect; nothing was changed`,
      });
      expect((await sb.json(['list', 'TV'])).products[0].versions).not.toContain(`2.${sig}`);
      // Nothing was left for the next command to recover: it says nothing of an interrupted change.
      const v = await sb.run(['verify']);
      expect(v.exitCode, v.stdout).toBe(0);
      expect(v.stderr).not.toMatch(/interrupted/);
      await fs.rm(archive);
    }, 60_000);
  }

  it('SIGINT during the last flush before the commit point is seen at the commit point: nothing goes live', async () => {
    const archive = await writeSampleArchive(sb.dir, 'TV', '2.flush');
    const before = await snapshotTree();
    // The flush (sync -f) is held open for 3 s: the signal lands inside it, after the last check of old.
    const child = sb.spawn(['install', archive], { WEBTREE_TEST_FLUSH_DELAY_MS: '3000' });
    // The manifest is written before the flush ends (while the unpack checks the tree); the flush is then held 3 s.
    const manifest = path.join(stateDir(), 'manifests', 'TV', '2.flush.json');
    for (let i = 0; i < 2000 && !(await pathExists(manifest)); i++) await new Promise((res) => setTimeout(res, 5));
    expect(await pathExists(manifest), 'the manifest was written').toBe(true);
    await new Promise((res) => setTimeout(res, 500));
    child.kill('SIGINT');
    const r = await ended(child);
    await expectAsItWas(r, 130, before);
    expect(r.stderr).not.toMatch(/once the change was live/);
    expect(r.stderr).toMatch(/^SIGINT arrived before rename /m);
    expect(await lastEntry()).toMatchObject({ action: 'install', version: '2.flush', outcome: 'undone' });
    await fs.rm(archive);
  }, 60_000);

  it('Ctrl-C to the whole process group while render tests the new tree with httpd -t', async () => {
    const before = await snapshotTree();
    expect((await sb.run(['render', '--diff'])).exitCode, 'render has work to do').toBe(3);
    // As a terminal does: the signal goes to webtree and to its children (httpd -t) alike.
    const child = execa(process.execPath, [BIN, '--config', sb.config, 'render'], {
      reject: false,
      detached: true,
      stdin: 'ignore',
    });
    let landed = 'after the stage';
    const watcher = watch(path.join(site, 'www'), (_e, name) => {
      if (String(name).startsWith('.webtree-render-') && landed !== 'in httpd -t') {
        landed = 'in httpd -t';
        process.kill(-child.pid!, 'SIGINT');
      }
    });
    const r = await ended(child);
    watcher.close();
    if (r.exitCode === 0) throw new Error('the render finished before the stage appeared; cannot test');
    await expectAsItWas(r, 130, before);
    expect(await lastEntry()).toMatchObject({
      action: 'render',
      outcome: 'undone',
      message: 'interrupted by SIGINT before it took effect; nothing was changed',
    });
    expect((await sb.run(['render', '--diff'])).exitCode, 'still pending').toBe(3);
    expect((await sb.run(['verify'])).exitCode).toBe(0);
    console.log(`render Ctrl-C landed ${landed}`);
  }, 60_000);

  it('SIGTERM to render between planning and writing', async () => {
    const before = await snapshotTree();
    const child = sb.spawn(['render'], { WEBTREE_TEST_PAUSE_MS: '20000' });
    // The pause follows the plan (httpd -t done) under the lock: wait for the stage to come and go.
    let staged = false;
    const watcher = watch(
      path.join(site, 'www'),
      (_e, name) => void (String(name).startsWith('.webtree-render-') && (staged = true)),
    );
    for (let i = 0; i < 1000; i++) {
      const stageLeft = (await fs.readdir(path.join(site, 'www'))).some((n) => n.startsWith('.webtree-render-'));
      if (staged && !stageLeft) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    watcher.close();
    child.kill('SIGTERM');
    const r = await ended(child);
    await expectAsItWas(r, 143, before);
    expect(r.stderr).toMatch(/^SIGTERM arrived /m);
    expect(await lastEntry()).toMatchObject({ action: 'render', outcome: 'undone' });
    expect((await sb.run(['verify'])).exitCode).toBe(0);
  }, 60_000);

  it('a command waiting for the lock stops at once on SIGINT, before the holder is done', async () => {
    const holder = sb.spawn(['install', await writeSampleArchive(sb.dir, 'TV', '3.0'), '--no-activate'], {
      WEBTREE_TEST_PAUSE_MS: '20000',
    });
    const lockFile = path.join(stateDir(), 'lock');
    for (
      let i = 0;
      i < 500 &&
      (await fs.readFile(lockFile, 'utf8').then(
        (t) => JSON.parse(t).pid,
        () => 0,
      )) !== holder.pid;
      i++
    )
      await new Promise((r) => setTimeout(r, 20));
    const waiter = sb.spawn(['activate', 'TV', '1.0'], { WEBTREE_LOCK_WAIT: '60' });
    // A waiter writes its would-be lock as lock.<token> before it waits: signal once that is there.
    const waiting = async () => (await fs.readdir(stateDir())).some((n) => /^lock\.[0-9a-f]{16}$/.test(n));
    for (let i = 0; i < 1000 && !(await waiting()); i++) await new Promise((r) => setTimeout(r, 10));
    expect(await waiting(), 'the second command waits for the lock').toBe(true);
    waiter.kill('SIGINT');
    const w = await ended(waiter);
    expect(w.exitCode, w.stderr).toBe(130);
    expect(w.stderr).toMatch(/interrupted: nothing was changed/);
    expect(w.stderr).toMatch(new RegExp(`SIGINT arrived while waiting for the lock held by pid ${holder.pid}`));
    // The holder still holds it: the waiter did not wait for it.
    expect(JSON.parse(await fs.readFile(lockFile, 'utf8')).pid).toBe(holder.pid);
    holder.kill('SIGINT');
    const h = await ended(holder);
    expect(h.exitCode).toBe(130);
    expect(await pathExists(lockFile)).toBe(false);
    expect((await sb.run(['verify'])).exitCode).toBe(0);
  }, 60_000);
});

describe('a signal after the commit point: the change is finished, and the exit says so', () => {
  it("SIGINT at install's rename, then a second SIGINT: ignored with a message; the version is live", async () => {
    const archive = await writeSampleArchive(sb.dir, 'TV', '4.0');
    const child = sb.spawn(['install', archive, '--debug'], { WEBTREE_TEST_OP_DELAY_MS: '150' });
    await whenLine(child, /rename .*\.webtree-staging-4\.0.*\n/);
    child.kill('SIGINT');
    await whenLine(child, /SIGINT: stopping/);
    child.kill('SIGINT');
    const r = await ended(child);
    expect(r.exitCode, r.stderr).toBe(130);
    expect(r.stderr).toMatch(
      /^webtree: interrupted after the change took effect: it was finished \(install TV 4\.0 and activate it/m,
    );
    expect(r.stderr).toMatch(/SIGINT ignored: still putting the tree in order/);
    expect(await fs.readlink(path.join(tvDir(), 'current'))).toBe('4.0');
    expect(await lastEntry()).toMatchObject({ action: 'install', version: '4.0', outcome: 'ok' });
    expect(await litter(site)).toEqual([]);
    expect(await pathExists(path.join(stateDir(), 'lock'))).toBe(false);
    // The check that follows an activation is left to `webtree recover`, which runs it; then all is clean.
    expect((await sb.run(['recover'])).exitCode).toBe(0);
    const v = await sb.run(['verify']);
    expect(v.exitCode, v.stdout + v.stderr).toBe(0);
    expect(await pathExists(path.join(stateDir(), 'journal.json'))).toBe(false);
  }, 60_000);

  it('SIGTERM while render writes its files: all are written, none is left old', async () => {
    const child = sb.spawn(['render', '--debug'], { WEBTREE_TEST_OP_DELAY_MS: '150' });
    await whenLine(child, /write .*\n/);
    child.kill('SIGTERM');
    const r = await ended(child);
    expect(r.exitCode, r.stderr).toBe(143);
    expect(r.stderr).toMatch(/^webtree: interrupted after the change took effect: it was finished \(render /m);
    expect(await lastEntry()).toMatchObject({ action: 'render', outcome: 'ok' });
    expect((await sb.run(['recover'])).exitCode).toBe(0);
    const v = await sb.run(['verify']);
    expect(v.exitCode, v.stdout + v.stderr).toBe(0);
    expect((await sb.run(['render', '--diff'])).exitCode, 'every file is the new one').toBe(0);
    expect(await litter(site)).toEqual([]);
  }, 60_000);
});
