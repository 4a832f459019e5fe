/**
 * The listing memo (src/state/listing-memo.ts): a listing is given back only while both
 * directories look as they did when it was kept, never to another build or for other names; a
 * torn memo or one that cannot be written is no error.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listingMemoFile, openListingMemo, type Listing } from '../../src/state/listing-memo.js';

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

/** Keeps L for TV as a status would, then opens the memo again as the next status. */
function keepAndReopen(build = 'b1', config = 'cfg') {
  const m = openListingMemo(state, 'b1')!;
  const f = m.find('TV', [product, manifests], 'cfg');
  expect(f.listing).toBeUndefined();
  f.keep(L);
  m.save();
  return openListingMemo(state, build)!.find('TV', [product, manifests], config);
}

describe('listing memo', () => {
  it('gives the kept listing back while both directories are unchanged', () => {
    expect(keepAndReopen().listing).toEqual(L);
    expect(JSON.parse(fs.readFileSync(listingMemoFile(state), 'utf8')).products.TV.versions).toEqual(L.versions);
  });

  it('is off outside the built CLI (no build)', () => {
    expect(openListingMemo(state, undefined)).toBeUndefined();
  });

  it('writes nothing when nothing was kept, or only what it gave back', () => {
    const m = openListingMemo(state, 'b1')!;
    m.find('TV', [product, manifests], 'cfg');
    m.save();
    expect(fs.existsSync(listingMemoFile(state))).toBe(false);
    keepAndReopen();
    const before = fs.statSync(listingMemoFile(state));
    const again = openListingMemo(state, 'b1')!;
    again.find('TV', [product, manifests], 'cfg').keep(L);
    again.save();
    expect(fs.statSync(listingMemoFile(state)).ino).toBe(before.ino);
  });

  it('lists again after an entry is added, even with the modification time set back', () => {
    keepAndReopen();
    const before = fs.statSync(product);
    fs.mkdirSync(path.join(product, '3.6'));
    fs.utimesSync(product, before.atimeMs / 1000, before.mtimeMs / 1000);
    expect(Math.abs(fs.statSync(product).mtimeMs - before.mtimeMs)).toBeLessThan(1);
    expect(openListingMemo(state, 'b1')!.find('TV', [product, manifests], 'cfg').listing).toBeUndefined();
  });

  it('lists again after a manifest is added, and after a directory is removed', () => {
    keepAndReopen();
    fs.writeFileSync(path.join(manifests, '3.5.json'), '{}');
    expect(openListingMemo(state, 'b1')!.find('TV', [product, manifests], 'cfg').listing).toBeUndefined();
    keepAndReopen();
    fs.rmSync(manifests, { recursive: true });
    expect(openListingMemo(state, 'b1')!.find('TV', [product, manifests], 'cfg').listing).toBeUndefined();
  });

  it("is not read by another build, nor for another descriptor's names", () => {
    expect(keepAndReopen('b2').listing).toBeUndefined();
    const m = openListingMemo(state, 'b1')!;
    expect(m.find('TV', [product, manifests], 'cfg').listing).toEqual(L);
    expect(m.find('TV', [product, manifests], 'other').listing).toBeUndefined();
  });

  it('a torn or foreign memo is no memo, and is written whole again', () => {
    for (const text of [
      '{"format":1,"build":"b1","prod',
      '[]',
      '{"format":1,"build":"b1","products":{"TV":{"key":1}}}',
    ]) {
      fs.mkdirSync(state, { recursive: true });
      fs.writeFileSync(listingMemoFile(state), text);
      const m = openListingMemo(state, 'b1')!;
      const f = m.find('TV', [product, manifests], 'cfg');
      expect(f.listing).toBeUndefined();
      f.keep(L);
      m.save();
      expect(openListingMemo(state, 'b1')!.find('TV', [product, manifests], 'cfg').listing).toEqual(L);
    }
  });

  it('a memo that cannot be written is no error and leaves nothing', () => {
    // The state directory is a file here: every write fails (ENOTDIR), as a read-only one would.
    fs.writeFileSync(path.join(dir, 'flat'), '');
    const m = openListingMemo(path.join(dir, 'flat'), 'b1')!;
    m.find('TV', [product, manifests], 'cfg').keep(L);
    expect(() => m.save()).not.toThrow();
    expect(fs.readdirSync(dir).sort()).toEqual(['TV', 'flat', 'state']);
  });

  it('keeps the other products it read when it writes', () => {
    keepAndReopen();
    const other = path.join(dir, 'AV');
    fs.mkdirSync(other);
    const m = openListingMemo(state, 'b1')!;
    m.find('AV', [other, manifests], 'cfg').keep({ versions: ['1.1'], unmanaged: [], leftovers: [] });
    m.save();
    const again = openListingMemo(state, 'b1')!;
    expect(again.find('TV', [product, manifests], 'cfg').listing).toEqual(L);
    expect(again.find('AV', [other, manifests], 'cfg').listing?.versions).toEqual(['1.1']);
  });
});
