/** The executor and its primitives against real temporary directories. */
import fs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Executor } from '../../src/apply/executor.js';
import { swapLink } from '../../src/apply/fsatomic.js';
import { pathExists } from '../../src/state/fs-read.js';
import { journalFile, writeJournal } from '../../src/apply/journal.js';
import { acquireLock } from '../../src/apply/lock.js';
import { WebtreeError } from '../../src/core/errors.js';
import type { Plan } from '../../src/plan/ops.js';
import type { HistoryEntry } from '../../src/state/history.js';
import { readHistory } from '../../src/state/history.js';
import type { Site } from '../../src/site/types.js';
import { sandboxSite } from '../helpers/site.js';
import { buildManifest, sha256File, verifyManifest, type Manifest } from '../../src/archive/manifest.js';
import { writeSampleArchive } from '../../src/demo/samples.js';

let dir: string;
let site: Site;
const p = (...parts: string[]) => path.join(dir, ...parts);
const entry = (id: string): HistoryEntry => ({
  id,
  time: 't',
  user: 'u',
  action: 'activate',
  product: 'TV',
  from: '1',
  to: '2',
  outcome: 'ok',
});

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-exec-'));
  site = sandboxSite(dir);
  for (const d of [site.paths.state, p('dbwebtools/tv/1'), p('dbwebtools/tv/2'), p('www/html/cfg'), site.paths.switch])
    await fs.mkdir(d, { recursive: true });
  await fs.symlink('1', p('dbwebtools/tv/current'));
});
afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

describe('swapLink', () => {
  it('replaces a link in one rename and leaves no temporary behind', async () => {
    expect(await swapLink(p('dbwebtools/tv/current'), '2')).toEqual({ previous: '1' });
    expect(await fs.readlink(p('dbwebtools/tv/current'))).toBe('2');
    expect((await fs.readdir(p('dbwebtools/tv'))).sort()).toEqual(['1', '2', 'current']);
  });

  it('refuses a real directory where the link should be, and never follows the link it replaces', async () => {
    await fs.mkdir(p('www/html/TV'));
    await expect(swapLink(p('www/html/TV'), '/x')).rejects.toMatchObject({ code: 'ELINKISDIR' });
    await fs.writeFile(p('dbwebtools/tv/1/keep'), 'k');
    await swapLink(p('dbwebtools/tv/current'), '2');
    expect(await fs.readdir(p('dbwebtools/tv/1'))).toEqual(['keep']); // the old target is untouched
  });
});

describe('apply', () => {
  const plan = (over: Partial<Plan>): Plan => ({
    command: 't',
    summary: 's',
    ops: [],
    commit: 0,
    temps: [],
    notes: [],
    ...over,
  });

  it('a failure before the commit removes the temporaries and records the failure', async () => {
    const staging = p('dbwebtools/tv/.webtree-staging-3-x');
    const pl = plan({
      ops: [
        { kind: 'make-dir', path: staging },
        { kind: 'copy-file', from: p('missing'), to: path.join(staging, 'f') },
        { kind: 'rename', from: staging, to: p('dbwebtools/tv/3') },
        { kind: 'record', entry: entry('a1') },
      ],
      commit: 2,
      temps: [staging],
    });
    await expect(new Executor({ site }).apply(pl, 'a1')).rejects.toThrow(/missing: it does not exist/);
    expect(await fs.readdir(p('dbwebtools/tv'))).not.toContain('.webtree-staging-3-x');
    expect(await fs.readdir(p('dbwebtools/tv'))).not.toContain('3');
    await expect(fs.access(journalFile(site.paths.state))).rejects.toThrow();
    expect((await readHistory(path.join(site.paths.state, 'history.jsonl')))[0]).toMatchObject({
      id: 'a1',
      outcome: 'failed',
    });
  });

  it('an undo that itself fails is named in the error, also when the failure was a plain system error', async () => {
    await fs.writeFile(p('x'), 'x');
    const pl = plan({
      ops: [
        { kind: 'rename', from: p('x'), to: p('y') },
        // The way back is now blocked: a directory where the renamed file must return.
        { kind: 'make-dir', path: p('x') },
        // A plain ENOENT from the file system, no WebtreeError.
        { kind: 'write-file', path: p('missing', 'dir', 'f'), content: 'f', mode: 0o644 },
      ],
      commit: 0,
    });
    const err = await new Executor({ site }).apply(pl, 'u1').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WebtreeError);
    expect((err as WebtreeError).message).toMatch(/ENOENT/);
    expect((err as WebtreeError).details).toMatch(/^could not put back: /);
    expect((err as WebtreeError).hint).toBe('webtree verify names what is left to mend');
  });

  it('a failure after the commit reverses what went live', async () => {
    await fs.mkdir(p('www/html/TV'));
    const pl = plan({
      ops: [
        { kind: 'swap-link', path: p('dbwebtools/tv/current'), target: '2' },
        { kind: 'swap-link', path: p('www/html/TV'), target: p('dbwebtools/tv/current') },
        { kind: 'record', entry: entry('a2') },
      ],
    });
    await expect(new Executor({ site }).apply(pl, 'a2')).rejects.toBeInstanceOf(WebtreeError);
    expect(await fs.readlink(p('dbwebtools/tv/current'))).toBe('1');
    // 'failed', not 'rolled-back': the version never served, and a later rollback must not return to it
    expect((await readHistory(path.join(site.paths.state, 'history.jsonl')))[0]).toMatchObject({
      id: 'a2',
      outcome: 'failed',
    });
  });

  it('recover finishes a plan whose commit happened, once', async () => {
    const pl = plan({
      ops: [
        { kind: 'swap-link', path: p('dbwebtools/tv/current'), target: '2' },
        { kind: 'swap-link', path: p('www/html/TV'), target: p('dbwebtools/tv/current/x') },
        { kind: 'record', entry: entry('a3') },
      ],
    });
    await writeJournal(site.paths.state, { id: 'a3', pid: 999999, startedAt: 'then', plan: pl });
    await fs.rm(p('dbwebtools/tv/current'));
    await fs.symlink('2', p('dbwebtools/tv/current')); // the commit happened, then the process died
    const r = await new Executor({ site }).recover();
    expect(r?.finished).toBe(true);
    expect(await fs.readlink(p('www/html/TV'))).toBe(p('dbwebtools/tv/current/x'));
    await new Executor({ site }).recover(); // nothing pending: no second record
    const h = await readHistory(path.join(site.paths.state, 'history.jsonl'));
    expect(h).toHaveLength(1);
    expect(h[0]).toMatchObject({ id: 'a3', outcome: 'recovered' });
  });

  it('recover undoes a plan whose commit did not happen, and sweeps temporaries of a cut swap', async () => {
    const staging = p('dbwebtools/tv/.webtree-staging-3-y');
    await fs.mkdir(staging);
    await fs.writeFile(path.join(staging, 'half'), 'x');
    await fs.symlink('x', p('www/html/cfg/.des_tv.cfg.webtree-link-123-0a1b2c3d'));
    await fs.mkdir(p('dbwebtools/tv/.webtree-trash-0.9-zz'));
    const pl = plan({
      ops: [
        { kind: 'extract', archive: '/a', dest: staging, layout: 'single-top' },
        { kind: 'rename', from: staging, to: p('dbwebtools/tv/3') },
        { kind: 'record', entry: entry('a4') },
      ],
      commit: 1,
      temps: [staging],
    });
    await writeJournal(site.paths.state, { id: 'a4', pid: 999999, startedAt: 'then', plan: pl });
    const r = await new Executor({ site }).recover();
    expect(r?.finished).toBe(false);
    expect((await fs.readdir(p('dbwebtools/tv'))).sort()).toEqual(['1', '2', 'current']);
    expect(await fs.readdir(p('www/html/cfg'))).toEqual([]);
    expect((await readHistory(path.join(site.paths.state, 'history.jsonl')))[0]).toMatchObject({
      id: 'a4',
      outcome: 'undone',
    });
  });
});

describe('the manifest of an install', () => {
  it('is what a fresh walk and hash of the installed tree finds, files added or replaced after the unpack included', async () => {
    const archive = await writeSampleArchive(dir, 'TV', '3', {
      'product/lib/a.py': 'a = 1\n',
      'product/same.txt': 'x',
    });
    const staging = p('dbwebtools/tv/.webtree-staging-3-x');
    const manifest = path.join(site.paths.state, 'manifests', 'TV', '3.json');
    await fs.mkdir(path.dirname(manifest), { recursive: true });
    const sha = await sha256File(archive);
    const pl: Plan = {
      command: 't',
      summary: 's',
      notes: [],
      commit: 5,
      temps: [staging, manifest],
      ops: [
        { kind: 'extract', archive, dest: staging, layout: 'single-top', sha256: sha },
        // Same size as the unpacked file, other bytes: its hash from the unpack must not be kept.
        { kind: 'add-file', path: path.join(staging, 'product', 'same.txt'), content: 'y' },
        { kind: 'add-file', path: path.join(staging, 'new.py'), content: 'new\n' },
        { kind: 'check-version', dir: staging, product: 'TV', requires: ['product/*.wsgi'] },
        { kind: 'write-manifest', dir: staging, to: manifest, archiveSha256: sha, product: 'TV', version: '3' },
        { kind: 'rename', from: staging, to: p('dbwebtools/tv/3') },
      ],
    };
    await new Executor({ site }).apply(pl, 'm1');
    const written = JSON.parse(await fs.readFile(manifest, 'utf8')) as Manifest;
    const fresh = await buildManifest(p('dbwebtools/tv/3'), sha);
    expect(written.files).toEqual(fresh.files);
    expect(written.files.map((f) => f.path)).toEqual(
      expect.arrayContaining(['new.py', 'product/same.txt', 'product/lib/a.py', 'product/tv.wsgi']),
    );
    expect(await verifyManifest(p('dbwebtools/tv/3'), written)).toEqual([]);
  });
});

describe("an install planned without the archive's sha256", () => {
  it('takes the one the unpack read into the manifest, the history and the journal', async () => {
    const archive = await writeSampleArchive(dir, 'TV', '3');
    const staging = p('dbwebtools/tv/.webtree-staging-3-y');
    const manifest = path.join(site.paths.state, 'manifests', 'TV', '3.json');
    await fs.mkdir(path.dirname(manifest), { recursive: true });
    const record: HistoryEntry = {
      id: 's1',
      time: 't',
      user: 'u',
      action: 'install',
      product: 'TV',
      version: '3',
      outcome: 'ok',
    };
    const pl: Plan = {
      command: 't',
      summary: 's',
      notes: [],
      commit: 2,
      temps: [staging, manifest],
      ops: [
        { kind: 'extract', archive, dest: staging, layout: 'single-top' },
        { kind: 'write-manifest', dir: staging, to: manifest, product: 'TV', version: '3' },
        { kind: 'rename', from: staging, to: p('dbwebtools/tv/3') },
        { kind: 'record', entry: record },
      ],
    };
    // The journal as it stands at the commit: what a killed process would leave to recovery.
    let journalAtCommit: string | undefined;
    const ex = new Executor({
      site,
      onOp: (l) => {
        if (l.startsWith('rename')) journalAtCommit = readFileSync(journalFile(site.paths.state), 'utf8');
      },
    });
    await ex.apply(pl, 's1');
    const sha = await sha256File(archive);
    expect(JSON.parse(await fs.readFile(manifest, 'utf8'))).toMatchObject({ archiveSha256: sha });
    expect((await readHistory(path.join(site.paths.state, 'history.jsonl'))).at(-1)).toMatchObject({
      id: 's1',
      sha256: sha,
    });
    expect(JSON.parse(journalAtCommit!).plan.ops[3].entry.sha256).toBe(sha);
  });
});

describe('leftovers', () => {
  it("a render's httpd -t stage left by a killed render is swept when the next command takes the lock", async () => {
    const stage = path.join(site.paths.www, '.webtree-render-AbC123');
    await fs.mkdir(path.join(stage, 'conf.d'), { recursive: true });
    await fs.writeFile(path.join(stage, 'conf.d', 'TV.conf'), '# staged');
    expect(await new Executor({ site }).recover()).toBeUndefined();
    expect(await pathExists(stage)).toBe(false);
  });
});

describe('recover decides by what is on disk', () => {
  const plan = (over: Partial<Plan>): Plan => ({
    command: 't',
    summary: 's',
    ops: [],
    commit: 0,
    temps: [],
    notes: [],
    ...over,
  });

  it('a render killed before its hand-edited copy was made is undone, keeping the hand edit', async () => {
    const conf = p('www/html/cfg/x.conf');
    await fs.writeFile(conf, 'edited by hand\n');
    const copy = `${conf}.hand-edited-1`;
    const pl = plan({
      ops: [
        { kind: 'copy-file', from: conf, to: copy },
        { kind: 'write-file', path: conf, content: 'generated\n', mode: 0o644 },
      ],
      commit: 1,
      temps: [copy],
    });
    await writeJournal(site.paths.state, { id: 'r1', pid: 999999, startedAt: 'then', plan: pl });
    expect((await new Executor({ site }).recover())?.finished).toBe(false);
    expect(await fs.readFile(conf, 'utf8')).toBe('edited by hand\n');
  });

  it('once the first write is there, the rest is finished', async () => {
    const a = p('www/html/cfg/a.conf');
    const b = p('www/html/cfg/b.conf');
    await fs.writeFile(a, 'new a\n');
    await fs.writeFile(b, 'old b\n');
    const pl = plan({
      ops: [
        { kind: 'write-file', path: a, content: 'new a\n', mode: 0o644 },
        { kind: 'write-file', path: b, content: 'new b\n', mode: 0o644 },
      ],
    });
    await writeJournal(site.paths.state, { id: 'r2', pid: 999999, startedAt: 'then', plan: pl });
    expect((await new Executor({ site }).recover())?.finished).toBe(true);
    expect(await fs.readFile(b, 'utf8')).toBe('new b\n');
  });

  it('a plan going back after a failed check (finish) is completed even when nothing of it ran', async () => {
    const pl = plan({ ops: [{ kind: 'swap-link', path: p('dbwebtools/tv/current'), target: '2' }], finish: true });
    await writeJournal(site.paths.state, {
      id: 'r3',
      pid: 999999,
      startedAt: 'then',
      plan: pl,
      after: { kind: 'serve-restore', data: {} },
      phase: 'ops',
    });
    const r = await new Executor({ site }).recover();
    expect(r).toMatchObject({ finished: true, resume: { kind: 'serve-restore' } });
    expect(await fs.readlink(p('dbwebtools/tv/current'))).toBe('2');
  });
});

describe('lock', () => {
  it('names a live holder, and takes over from a dead one', async () => {
    const first = await acquireLock(site.paths.state, 'install x', 0);
    const err = await acquireLock(site.paths.state, 'activate y', 200).catch((e) => e);
    expect(err).toMatchObject({ code: 'ELOCKED' });
    expect(err.message).toMatch(new RegExp(`locked by pid ${process.pid} \\(user \\S+, \`install x\`, since \\d{4}-`));
    await first.release();
    await fs.writeFile(
      path.join(site.paths.state, 'lock'),
      JSON.stringify({ pid: 999999, start: '1', user: 'ghost', command: 'dead', since: 'then', token: 't' }),
    );
    const second = await acquireLock(site.paths.state, 'activate y', 0);
    expect(second.recoveredFrom).toMatchObject({ pid: 999999, command: 'dead' });
    await second.release();
    await expect(fs.access(path.join(site.paths.state, 'lock'))).rejects.toThrow();
  });

  it('an empty or torn lock file (a power cut) is recovered, not waited on forever', async () => {
    await fs.writeFile(path.join(site.paths.state, 'lock'), '');
    const l = await acquireLock(site.paths.state, 'x', 0);
    expect(l.recoveredFrom).toMatchObject({ pid: -1 });
    await l.release();
  });

  it('processes racing to break the same dead holder never hold the lock at once', async () => {
    const dead = JSON.stringify({ pid: 999999, start: '1', user: 'ghost', command: 'dead', since: 'then', token: 't' });
    const lockJs = path.resolve(import.meta.dirname, '../../dist/apply/lock.js');
    // Each child takes the lock, notes when it held it, holds it 30 ms, and lets go.
    const child = `import { acquireLock } from ${JSON.stringify(lockJs)};
      const l = await acquireLock(process.argv[1], 'race', 10000);
      const t0 = performance.timeOrigin + performance.now();
      await new Promise((r) => setTimeout(r, 30));
      const t1 = performance.timeOrigin + performance.now();
      await l.release();
      console.log(JSON.stringify([t0, t1]));`;
    const { execa } = await import('execa');
    for (let round = 0; round < 5; round++) {
      await fs.writeFile(path.join(site.paths.state, 'lock'), dead);
      const runs = await Promise.all(
        [0, 1, 2, 3].map(() => execa(process.execPath, ['--input-type=module', '-e', child, site.paths.state])),
      );
      const spans = runs.map((r) => JSON.parse(r.stdout) as [number, number]).sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < spans.length; i++)
        expect(spans[i][0], `round ${round}: two holders at once`).toBeGreaterThanOrEqual(spans[i - 1][1]);
    }
  }, 60_000);
});
