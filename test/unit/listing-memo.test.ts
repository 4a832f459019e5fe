/**
 * The listing memo (src/state/listing-memo.ts): a listing is given back only while both
 * directories look as they did when it was kept, never to another build or for other names; a
 * read never writes it; a torn memo or one that cannot be written is no error. Then the memo as
 * readProductState uses it: a planted listing is what status would show while nothing moved, and
 * the directories are listed again once the descriptor's names or the products root change. And
 * the history's pointer reading kept in the same file: given back only while history.jsonl looks
 * as it did, never after an append, an edit in place (its time set back too) or a rename over it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findProduct, loadCatalog } from '../../src/catalog/load.js';
import { manifestPath, productDir, versionPath } from '../../src/catalog/paths.js';
import { listingMemoFile, openListingMemo, tickWait, TICK_MS, type Listing } from '../../src/state/listing-memo.js';
import { isHistoryRead, type HistoryRead } from '../../src/state/history.js';
import { readProductState } from '../../src/state/tree.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { sandboxSite } from '../helpers/site.js';
import { editKeepingTimes } from '../helpers/times.js';

let dir: string;
let product: string;
let manifests: string;
let state: string;
const L: Listing = { versions: ['3.3a', '3.4'], unmanaged: ['3.5'], leftovers: ['/p/.webtree-staging-x'] };

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'webtree-memo-'));
  product = path.join(dir, 'TV');
  manifests = path.join(dir, 'state', 'manifests', 'TV');
  state = path.join(dir, 'state');
  fs.mkdirSync(path.join(product, '3.4'), { recursive: true });
  fs.mkdirSync(manifests, { recursive: true });
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Keeps L for TV as a change's end does, then opens the memo as the next status. */
function keepAndReopen(build = 'b1', config = 'cfg') {
  const m = openListingMemo(state, 'write', 'b1')!;
  const f = m.find('TV', [product, manifests], 'cfg');
  expect(f.listing).toBeUndefined();
  f.keep(L);
  m.save();
  return openListingMemo(state, 'read', build)!.find('TV', [product, manifests], config);
}
const reread = (config = 'cfg', dirs = [product, manifests]) =>
  openListingMemo(state, 'read', 'b1')!.find('TV', dirs, config).listing;

describe('listing memo', () => {
  it('gives the kept listing back while both directories are unchanged', () => {
    expect(keepAndReopen().listing).toEqual(L);
    expect(JSON.parse(fs.readFileSync(listingMemoFile(state), 'utf8')).products.TV.versions).toEqual(L.versions);
  });

  it('is off outside the built CLI (no build)', () => {
    expect(openListingMemo(state, 'read', undefined)).toBeUndefined();
  });

  it('a read never writes; a change lists afresh, whatever the memo holds', () => {
    const r = openListingMemo(state, 'read', 'b1')!;
    r.find('TV', [product, manifests], 'cfg').keep(L);
    r.save();
    expect(fs.existsSync(listingMemoFile(state))).toBe(false);
    keepAndReopen();
    const w = openListingMemo(state, 'write', 'b1')!.find('TV', [product, manifests], 'cfg');
    expect(w.listing).toBeUndefined();
  });

  it('lists again after an entry is added, even with the modification time set back', () => {
    keepAndReopen();
    const before = fs.statSync(product);
    fs.mkdirSync(path.join(product, '3.6'));
    fs.utimesSync(product, before.atimeMs / 1000, before.mtimeMs / 1000);
    expect(Math.abs(fs.statSync(product).mtimeMs - before.mtimeMs)).toBeLessThan(1);
    expect(reread()).toBeUndefined();
  });

  it("lists again after a version is renamed by hand with its directory's times put back exactly", async () => {
    // As keepListings does: the directories' last write a tick old before they are looked at.
    await sleep(tickWait([product, manifests]));
    keepAndReopen();
    // Only the change time moves (editKeepingTimes checks): it alone says the memo is old.
    editKeepingTimes(product, () => fs.renameSync(path.join(product, '3.4'), path.join(product, '3.5')));
    expect(reread()).toBeUndefined();
  });

  it('lists again after a manifest is added, and after a directory is removed', () => {
    keepAndReopen();
    fs.writeFileSync(path.join(manifests, '3.5.json'), '{}');
    expect(reread()).toBeUndefined();
    keepAndReopen();
    fs.rmSync(manifests, { recursive: true });
    expect(reread()).toBeUndefined();
  });

  it("is not read by another build, nor for another descriptor's names or other directories", () => {
    expect(keepAndReopen('b2').listing).toBeUndefined();
    expect(reread()).toEqual(L);
    expect(reread('other')).toBeUndefined();
    const link = path.join(dir, 'TV-link');
    fs.symlinkSync(product, link);
    expect(reread('cfg', [link, manifests])).toBeUndefined();
  });

  it('a torn or foreign memo is no memo, and is written whole again', () => {
    for (const text of [
      '{"format":1,"build":"b1","prod',
      '[]',
      '{"format":1,"build":"b1","products":{"TV":{"key":1}}}',
    ]) {
      fs.mkdirSync(state, { recursive: true });
      fs.writeFileSync(listingMemoFile(state), text);
      expect(reread()).toBeUndefined();
      expect(keepAndReopen().listing).toEqual(L);
    }
  });

  it('a memo that cannot be written is no error and leaves nothing', () => {
    // The state directory is a file here: every write fails (ENOTDIR), as a read-only one would.
    fs.writeFileSync(path.join(dir, 'flat'), '');
    const m = openListingMemo(path.join(dir, 'flat'), 'write', 'b1')!;
    m.find('TV', [product, manifests], 'cfg').keep(L);
    expect(() => m.save()).not.toThrow();
    expect(fs.readdirSync(dir).sort()).toEqual(['TV', 'flat', 'state']);
  });

  it('keeps the other products it read when it writes', () => {
    keepAndReopen();
    const other = path.join(dir, 'AV');
    fs.mkdirSync(other);
    const m = openListingMemo(state, 'write', 'b1')!;
    m.find('AV', [other, manifests], 'cfg').keep({ versions: ['1.1'], unmanaged: [], leftovers: [] });
    m.save();
    const again = openListingMemo(state, 'read', 'b1')!;
    expect(again.find('TV', [product, manifests], 'cfg').listing).toEqual(L);
    expect(again.find('AV', [other, manifests], 'cfg').listing?.versions).toEqual(['1.1']);
  });

  it('waits until the last change to the directories is a tick old, at most TICK_MS', () => {
    const now = Date.now();
    fs.mkdirSync(path.join(product, '3.7'));
    expect(tickWait([product, manifests])).toBeGreaterThan(0);
    expect(tickWait([product, manifests])).toBeLessThanOrEqual(TICK_MS);
    expect(tickWait([product, manifests], now + 10 * TICK_MS)).toBe(0);
    expect(tickWait([path.join(dir, 'none')])).toBe(0);
  });
});

describe('readProductState with the memo', () => {
  it("takes a matching entry's listing, and lists when the descriptor's names or the root move", async () => {
    const site = sandboxSite(path.join(dir, 'site'));
    const tv = findProduct(await loadCatalog(), 'TV');
    for (const v of ['3.3a', '3.4']) {
      fs.mkdirSync(versionPath(site, tv, v), { recursive: true });
      fs.mkdirSync(path.dirname(manifestPath(site, tv, v)), { recursive: true });
      fs.writeFileSync(manifestPath(site, tv, v), '{}');
    }
    const write = openListingMemo(site.paths.state, 'write', 'b1')!;
    expect((await readProductState(site, tv, 'list', write)).versions).toEqual(['3.3a', '3.4']);
    write.save();
    // A sentinel in the memo, its key kept: what status shows is the memo's while nothing moved.
    const file = listingMemoFile(site.paths.state);
    const m = JSON.parse(fs.readFileSync(file, 'utf8'));
    m.products.TV.versions = ['9.9'];
    fs.writeFileSync(file, JSON.stringify(m));
    const read = () => openListingMemo(site.paths.state, 'read', 'b1')!;
    expect((await readProductState(site, tv, 'list', read())).versions).toEqual(['9.9']);
    // Without a memo ('read' mode, every change's plan): the directories.
    expect((await readProductState(site, tv, 'read')).versions).toEqual([]);
    expect((await readProductState(site, tv, 'list')).versions).toEqual(['3.3a', '3.4']);
    // The descriptor's version directories or pointer named otherwise: listed again.
    const renamed = { ...tv, versionDir: 'tv-{v}' };
    expect((await readProductState(site, renamed, 'list', read())).versions).toEqual([]);
    const pointer = { ...tv, pointer: { ...tv.pointer, name: 'live' } };
    expect((await readProductState(site, pointer, 'list', read())).versions).toEqual(['3.3a', '3.4']);
    // The same products directory reached through another path (a link to it): listed again.
    const alias = path.join(dir, 'alias');
    fs.symlinkSync(site.paths.products, alias);
    const moved = { ...site, paths: { ...site.paths, products: alias } };
    expect(productDir(moved, tv)).not.toBe(productDir(site, tv));
    expect((await readProductState(moved, tv, 'list', read())).versions).toEqual(['3.3a', '3.4']);
  });
});

describe("the history's pointer reading in the memo", () => {
  const R: HistoryRead = {
    entries: [
      {
        id: 'h1',
        time: '2026-01-01T00:00:00Z',
        user: 'u',
        action: 'activate',
        product: 'TV',
        to: '3.4',
        outcome: 'ok',
      },
    ],
    problems: [{ line: 3, problem: 'is not a JSON object (truncated or damaged)' }],
  };
  let history: string;
  beforeEach(() => {
    history = path.join(state, 'history.jsonl');
    fs.writeFileSync(history, '{"action":"init"}\n');
  });

  /** Keeps R as a change's end does; the reading the next status would take. */
  async function keepHistory(build = 'b1') {
    // As keepListings does: the file's last write a tick old before it is looked at.
    await sleep(tickWait([history]));
    const w = openListingMemo(state, 'write', 'b1')!;
    const h = w.history(history, isHistoryRead);
    expect(h.read).toBeUndefined();
    h.keep(R);
    w.save();
    return openListingMemo(state, 'read', build)!.history(history, isHistoryRead).read;
  }
  const rereadHistory = () => openListingMemo(state, 'read', 'b1')!.history(history, isHistoryRead).read;

  it('gives the kept reading back while the file is unchanged, beside the listings; a read writes nothing', async () => {
    expect(await keepHistory()).toEqual(R);
    expect(rereadHistory()).toEqual(R);
    const r = openListingMemo(state, 'read', 'b1')!;
    r.history(history, isHistoryRead).keep({ entries: [], problems: [] });
    r.save();
    expect(rereadHistory()).toEqual(R);
    // A change that keeps a listing and no reading of the history (a damaged file) drops the old one.
    const w = openListingMemo(state, 'write', 'b1')!;
    w.find('TV', [product, manifests], 'cfg').keep(L);
    w.save();
    expect(rereadHistory()).toBeUndefined();
  });

  it('reads the file again after an append, an edit in place of the same size, or a rename over it', async () => {
    await keepHistory();
    fs.appendFileSync(history, '{"action":"x"}\n');
    expect(rereadHistory()).toBeUndefined();

    await keepHistory();
    // Only the change time moves (editKeepingTimes checks): it alone says the memo is old.
    editKeepingTimes(history, () =>
      fs.writeFileSync(history, fs.readFileSync(history, 'utf8').replace('init', 'tini')),
    );
    expect(rereadHistory()).toBeUndefined();

    await keepHistory();
    fs.writeFileSync(`${history}.new`, fs.readFileSync(history));
    fs.renameSync(`${history}.new`, history);
    expect(rereadHistory()).toBeUndefined();
  });

  it('another build, a torn memo or a reading of the wrong shape is no reading', async () => {
    expect(await keepHistory('b2')).toBeUndefined();
    const file = listingMemoFile(state);
    const m = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const bad of [
      { ...m.history, entries: [{ action: 'activate' }] },
      { ...m.history, problems: [{ line: '3' }] },
      { ...m.history, problems: [{ line: 0, problem: 'is not a JSON object (truncated or damaged)' }] },
      { ...m.history, entries: {} },
      { key: m.history.key },
    ]) {
      fs.writeFileSync(file, JSON.stringify({ ...m, history: bad }));
      expect(rereadHistory()).toBeUndefined();
    }
    fs.writeFileSync(file, JSON.stringify(m).slice(0, -20));
    expect(rereadHistory()).toBeUndefined();
    fs.writeFileSync(file, JSON.stringify(m));
    expect(rereadHistory()).toEqual(R);
  });
});
