/**
 * The executor's operations and their undoing that executor.test.ts leaves out, against real
 * temporary trees and real archives made by GNU tar: a failure after the commit point puts back
 * what went live; a signal before it changes nothing; recovery judges make-dir, write-file and
 * remove commit points by the disk; extract of a product's content directory and of an archive
 * whose top directory names another version; a manifest written without an unpack.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Executor } from '../../src/apply/executor.js';
import { readJournal, writeJournal } from '../../src/apply/journal.js';
import { sha256File } from '../../src/archive/manifest.js';
import { WebtreeError } from '../../src/core/errors.js';
import type { Op, Plan } from '../../src/plan/ops.js';
import type { Site } from '../../src/site/types.js';
import { readHistory, type HistoryEntry } from '../../src/state/history.js';
import { sandboxSite } from '../helpers/site.js';

let dir: string;
let site: Site;
const p = (...parts: string[]) => path.join(dir, ...parts);
const record = (id: string): Op => ({
  kind: 'record',
  entry: { id, time: 't', user: 'u', action: 'activate', product: 'TV', from: '1', to: '2', outcome: 'ok' },
});
const plan = (ops: Op[], commit = 0, temps: string[] = []): Plan => ({
  command: 't',
  summary: 's',
  notes: [],
  ops,
  commit,
  temps,
});
const history = () => readHistory(path.join(site.paths.state, 'history.jsonl'));
const failure = (x: Promise<unknown>) =>
  x.then(
    () => {
      throw new Error('it succeeded');
    },
    (e: unknown) => {
      expect(e).toBeInstanceOf(WebtreeError);
      return e as WebtreeError;
    },
  );

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-exec-ops-'));
  site = sandboxSite(dir);
  for (const d of [site.paths.state, p('dbwebtools/tv/1'), p('www/html/cfg')]) await fs.mkdir(d, { recursive: true });
});
afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

describe('a failure after the commit point', () => {
  it('puts back every live change, newest first, records the failure and clears the journal', async () => {
    await fs.writeFile(p('www/html/cfg/old.cfg'), 'old');
    const pl = plan([
      { kind: 'swap-link', path: p('www/html/TV'), target: p('dbwebtools/tv/1') },
      { kind: 'write-file', path: p('www/html/cfg/new.cfg'), content: 'new', mode: 0o644 },
      { kind: 'write-file', path: p('www/html/cfg/old.cfg'), content: 'changed', mode: 0o644 },
      { kind: 'copy-file', from: p('no-such-licence'), to: p('www/html/cfg/licence') },
      record('f1'),
    ]);
    const e = await failure(new Executor({ site }).apply(pl, 'f1'));
    expect(e).toMatchObject({ code: 'EIO', message: `cannot copy ${p('no-such-licence')}: it does not exist` });
    // The link that did not exist is gone again, the new file removed, the old one as it was.
    expect((await fs.readdir(p('www/html'))).sort()).toEqual(['cfg']);
    expect(await fs.readdir(p('www/html/cfg'))).toEqual(['old.cfg']);
    expect(await fs.readFile(p('www/html/cfg/old.cfg'), 'utf8')).toBe('old');
    expect(await readJournal(site.paths.state)).toBeUndefined();
    expect(await history()).toMatchObject([{ id: 'f1', outcome: 'failed', message: e.message }]);
  });
});

describe('a signal', () => {
  it('before the commit point changes nothing, and the history says which signal', async () => {
    const ac = new AbortController();
    ac.abort('SIGTERM');
    const pl = plan([{ kind: 'make-dir', path: p('dbwebtools/av') }, record('s1')], 1);
    const e = await failure(new Executor({ site, signal: ac.signal }).apply(pl, 's1'));
    expect(e).toMatchObject({ code: 'EINTERRUPTED', exitCode: 143 });
    expect(e.details).toMatch(/^SIGTERM arrived before make directory/);
    expect(await fs.readdir(p('dbwebtools'))).toEqual(['tv']);
    expect(await history()).toMatchObject([{ id: 's1', outcome: 'undone', message: expect.stringMatching(/SIGTERM/) }]);
  });

  it('before a plan was made is noted once however often it is reported', async () => {
    const ac = new AbortController();
    ac.abort('SIGHUP');
    const entry: HistoryEntry = { id: 'n1', time: 't', user: 'u', action: 'install', outcome: 'undone' };
    const ex = new Executor({ site, signal: ac.signal });
    await ex.noteInterrupted(entry);
    await ex.noteInterrupted(entry);
    expect(await history()).toEqual([
      { ...entry, message: 'interrupted by SIGHUP before it took effect; nothing was changed' },
    ]);
  });
});

describe('recover judges the commit point by the disk', () => {
  const cases: { name: string; op: Op; done: () => Promise<void> }[] = [
    {
      name: 'write-file',
      op: { kind: 'write-file', path: 'www/html/cfg/x.cfg', content: 'server2', mode: 0o644 },
      done: () => fs.writeFile(p('www/html/cfg/x.cfg'), 'server2'),
    },
    {
      name: 'make-dir',
      op: { kind: 'make-dir', path: 'dbwebtools/av' },
      done: () => fs.mkdir(p('dbwebtools/av')),
    },
    {
      name: 'remove',
      op: { kind: 'remove', path: 'dbwebtools/tv/1' },
      done: () => fs.rm(p('dbwebtools/tv/1'), { recursive: true }),
    },
  ];
  const absolute = (op: Op): Op => ({ ...op, path: p((op as { path: string }).path) }) as Op;

  for (const c of cases) {
    it(`${c.name}: finished when it is on disk, undone when not`, async () => {
      await writeJournal(site.paths.state, {
        id: 'c1',
        pid: 999_999,
        startedAt: 'T',
        plan: plan([absolute(c.op), record('c1')]),
      });
      expect((await new Executor({ site }).recover())?.finished).toBe(false);
      await c.done();
      await writeJournal(site.paths.state, {
        id: 'c2',
        pid: 999_999,
        startedAt: 'T',
        plan: plan([absolute(c.op), record('c2')]),
      });
      expect((await new Executor({ site }).recover())?.finished).toBe(true);
      expect((await history()).map((h) => [h.id, h.outcome])).toEqual([
        ['c1', 'undone'],
        ['c2', 'recovered'],
      ]);
    });
  }
});

describe('extract', () => {
  /** A .tar.gz of tree/<top> made by GNU tar. */
  async function archive(top: string, files: Record<string, string>): Promise<string> {
    const tree = p('src', top);
    for (const [name, content] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(tree, name)), { recursive: true });
      await fs.writeFile(path.join(tree, name), content);
    }
    const out = p(`${top}.tar.gz`);
    execFileSync('tar', ['-c', '-z', '-f', out, '-C', p('src'), top]);
    return out;
  }

  it('installs only the content directory a product names, and its manifest lists only that', async () => {
    const a = await archive('tv-3', { 'product/lib/a.py': 'a = 1\n', README: 'not installed' });
    const staging = p('dbwebtools/tv/.webtree-staging-3-e');
    const manifest = p('manifest-3.json');
    await new Executor({ site }).apply(
      plan(
        [
          { kind: 'extract', archive: a, dest: staging, layout: 'single-top', content: 'product' },
          { kind: 'write-manifest', dir: staging, to: manifest, product: 'TV', version: '3' },
          { kind: 'rename', from: staging, to: p('dbwebtools/tv/3') },
        ],
        2,
        [staging],
      ),
      'e1',
    );
    expect(await fs.readdir(p('dbwebtools/tv/3'))).toEqual(['lib']);
    expect(await fs.readFile(p('dbwebtools/tv/3/lib/a.py'), 'utf8')).toBe('a = 1\n');
    expect((await fs.readdir(p('dbwebtools/tv'))).sort()).toEqual(['1', '3']); // no raw or staging left
    const m = JSON.parse(await fs.readFile(manifest, 'utf8')) as { archiveSha256: string; files: { path: string }[] };
    expect(m.archiveSha256).toBe(await sha256File(a));
    expect(m.files.map((f) => f.path)).toEqual(['lib/a.py']);
  });

  it('refuses an archive without the content directory, and leaves nothing behind', async () => {
    const a = await archive('tv-4', { 'lib/a.py': 'a' });
    const staging = p('dbwebtools/tv/.webtree-staging-4-e');
    const e = await failure(
      new Executor({ site }).apply(
        plan(
          [
            { kind: 'extract', archive: a, dest: staging, layout: 'single-top', content: 'product' },
            { kind: 'rename', from: staging, to: p('dbwebtools/tv/4') },
          ],
          1,
          [staging],
        ),
        'e2',
      ),
    );
    expect(e).toMatchObject({
      code: 'EBADARCHIVE',
      message: 'tv-4.tar.gz has no product/ directory, which this product installs',
    });
    expect(await fs.readdir(p('dbwebtools/tv'))).toEqual(['1']);
  });

  it('refuses an archive whose top directory names another version', async () => {
    const a = await archive('tv-3.4', { 'a.py': 'a' });
    const staging = p('dbwebtools/tv/.webtree-staging-3.9-e');
    const expectTop = { product: 'TV', version: '3.9', names: [{ product: 'TV', pattern: 'tv-{v}' }] };
    const e = await failure(
      new Executor({ site }).apply(
        plan(
          [
            { kind: 'extract', archive: a, dest: staging, layout: 'single-top', expectTop },
            { kind: 'rename', from: staging, to: p('dbwebtools/tv/3.9') },
          ],
          1,
          [staging],
        ),
        'e3',
      ),
    );
    expect(e.message).toBe('tv-3.4.tar.gz holds tv-3.4/, which names TV 3.4, not TV 3.9; nothing was changed');
    expect(e.hint).toMatch(/--force/);
    expect(await fs.readdir(p('dbwebtools/tv'))).toEqual(['1']);
  });
});

describe('other operations', () => {
  it('write-manifest with nothing unpacked walks the directory, and without a sha256 refuses', async () => {
    await fs.writeFile(p('dbwebtools/tv/1/app.wsgi'), 'x');
    const to = p('m.json');
    await new Executor({ site }).apply(
      plan([
        {
          kind: 'write-manifest',
          dir: p('dbwebtools/tv/1'),
          to,
          archiveSha256: 'ab'.repeat(32),
          product: 'TV',
          version: '1',
        },
      ]),
      'm1',
    );
    const m = JSON.parse(await fs.readFile(to, 'utf8')) as { files: { path: string; size: number }[] };
    expect(m.files).toMatchObject([{ path: 'app.wsgi', size: 1 }]);
    const e = await failure(
      new Executor({ site }).apply(
        plan([{ kind: 'write-manifest', dir: p('dbwebtools/tv/1'), to: p('m2.json'), product: 'TV', version: '1' }]),
        'm2',
      ),
    );
    expect(e).toMatchObject({
      code: 'EIO',
      message: expect.stringMatching(/^no archive sha256 for the manifest of TV 1/),
    });
  });

  it('copy-exact with keepExisting leaves a file that is there, and copies one that is not', async () => {
    await fs.writeFile(p('from'), 'template');
    await fs.writeFile(p('www/html/cfg/kept'), 'edited by hand');
    await new Executor({ site }).apply(
      plan([
        { kind: 'copy-exact', from: p('from'), to: p('www/html/cfg/kept'), mode: 0o600, keepExisting: true },
        { kind: 'copy-exact', from: p('from'), to: p('www/html/cfg/new'), mode: 0o600, keepExisting: true },
      ]),
      'k1',
    );
    expect(await fs.readFile(p('www/html/cfg/kept'), 'utf8')).toBe('edited by hand');
    expect(await fs.readFile(p('www/html/cfg/new'), 'utf8')).toBe('template');
    expect((await fs.stat(p('www/html/cfg/new'))).mode & 0o777).toBe(0o600);
  });

  it('touch sets a script’s times without changing it, through a link', async () => {
    await fs.writeFile(p('dbwebtools/tv/1/app.wsgi'), 'code');
    await fs.symlink(p('dbwebtools/tv/1'), p('www/html/TV'));
    const old = new Date('2001-01-01T00:00:00Z');
    await fs.utimes(p('dbwebtools/tv/1/app.wsgi'), old, old);
    await new Executor({ site }).touch(p('www/html/TV/app.wsgi'));
    const st = await fs.stat(p('dbwebtools/tv/1/app.wsgi'));
    expect(st.mtimeMs).toBeGreaterThan(old.getTime());
    expect(await fs.readFile(p('dbwebtools/tv/1/app.wsgi'), 'utf8')).toBe('code');
  });
});
