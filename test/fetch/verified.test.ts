/**
 * The hand-over from the fetch to the unpack: an archive this process fetched and checked in
 * webtree's cache is not hashed a second time by the unpack, but only while the file is the one
 * that was checked. A real HTTPS server on loopback (test/release/https-server.ts) serves a body
 * of several write batches, whole and with the connection cut mid-body (resumed with Range).
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { extractArchive } from '../../src/archive/extract.js';
import { sha256File } from '../../src/archive/manifest.js';
import { fetchArchive } from '../../src/fetch/fetch.js';
import { forgetVerified, markVerified, verifiedUnchanged } from '../../src/archive/verified.js';
import type { Limits, Site } from '../../src/site/types.js';
import { file, tar } from '../fixtures/make-bad-archives.js';
import { makePki, startArchiveServer, type ArchiveServer, type Pki } from '../release/https-server.js';

const LIMITS: Limits = { maxBytes: 64 * 1024 * 1024, maxEntries: 10_000, maxDepth: 64, maxRatio: 100 };
// More than two of the fetch's 4 MiB writes, and not a multiple of them.
const body = randomBytes(9 * 1024 * 1024 + 12_345);
const sha = createHash('sha256').update(body).digest('hex');

let pki: Pki;
let srv: ArchiveServer;
let tmp: string;

beforeAll(async () => {
  pki = await makePki();
  srv = await startArchiveServer(pki, { 'tv-1.0.tar.gz': body });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-verified-'));
}, 60_000);
afterAll(async () => {
  await srv?.close();
  if (pki) await fs.rm(pki.dir, { recursive: true, force: true });
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});
afterEach(() => forgetVerified());

const siteIn = (state: string) =>
  ({
    paths: { state },
    fetch: { connectTimeout: 10, idleTimeout: 10, retries: 3, maxBytes: 64 << 20 },
  }) as unknown as Site;

describe('fetchArchive marks what it checked', () => {
  for (const how of ['ok', 'drop']) {
    it(`${how}: the cached file holds the served bytes and is marked verified for its sha256 only`, async () => {
      const state = await fs.mkdtemp(path.join(tmp, `${how}-`));
      const retries: string[] = [];
      const r = await fetchArchive(
        { url: `${srv.base}/${how}/tv-1.0.tar.gz`, name: 'tv-1.0.tar.gz', sha256: sha },
        { site: siteIn(state), env: { NODE_EXTRA_CA_CERTS: pki.ca }, onRetry: (l) => retries.push(l) },
      );
      expect(r).toMatchObject({ fetched: true, bytes: body.length });
      expect((await fs.readFile(r.file)).equals(body)).toBe(true);
      expect(verifiedUnchanged(r.file, sha)).toBe(true);
      expect(verifiedUnchanged(r.file, 'e'.repeat(64))).toBe(false);
      // The cut connection was resumed from the bytes already written, not started over.
      if (how === 'drop') {
        expect(retries.length).toBe(1);
        const ranges = srv.hits(`/drop/tv-1.0.tar.gz`).map((h) => h.range);
        expect(ranges[0]).toBeUndefined();
        expect(ranges[1]).toMatch(/^bytes=[1-9]\d*-$/);
      }
      // A second fetch uses the cache (hashed again before use) and marks it too.
      forgetVerified();
      const again = await fetchArchive(
        { url: `${srv.base}/${how}/tv-1.0.tar.gz`, name: 'tv-1.0.tar.gz', sha256: sha },
        { site: siteIn(state), env: { NODE_EXTRA_CA_CERTS: pki.ca } },
      );
      expect(again).toEqual({ file: r.file, fetched: false, bytes: body.length });
      expect(verifiedUnchanged(r.file, sha)).toBe(true);
    });
  }
});

describe('the unpack of a verified archive', () => {
  it('takes the checked sha256 without hashing, and hashes again once the file is another', async () => {
    const dir = await fs.mkdtemp(path.join(tmp, 'unpack-'));
    const archive = path.join(dir, 'tv-1.0.tar');
    await fs.writeFile(archive, tar(file('tv/a', 'a')));
    const real = await sha256File(archive);
    // Marked with a sha256 the bytes do not have: if the unpack hashed, it would refuse.
    const claimed = 'a'.repeat(64);
    markVerified(archive, claimed);
    const unpack = async (n: number) => {
      const dest = path.join(dir, `dest${n}`);
      await fs.mkdir(dest);
      return extractArchive(archive, dest, {
        limits: LIMITS,
        layout: 'single-top',
        expectSha256: claimed,
        knownSha256: verifiedUnchanged(archive, claimed),
      });
    };
    expect((await unpack(1)).archiveSha256).toBe(claimed);

    // The same bytes put back under the name (a new inode): no longer the checked file.
    const copy = `${archive}.new`;
    await fs.copyFile(archive, copy);
    await fs.rename(copy, archive);
    expect(verifiedUnchanged(archive, claimed)).toBe(false);
    await expect(unpack(2)).rejects.toMatchObject({
      code: 'EBADARCHIVE',
      message: expect.stringContaining(`sha256 ${real.slice(0, 12)}…, was ${claimed.slice(0, 12)}…`),
    });

    // Bytes written into the checked file itself (its size changes).
    markVerified(archive, real);
    expect(verifiedUnchanged(archive, real)).toBe(true);
    await fs.appendFile(archive, Buffer.alloc(512));
    expect(verifiedUnchanged(archive, real)).toBe(false);

    // A file that is gone is not verified.
    await fs.rm(archive);
    expect(verifiedUnchanged(archive, real)).toBe(false);
  });
});
