/**
 * The reader started ahead of the unpack (prestartUnpack, as install does before it takes the
 * lock and plans): with readAhead it opens and reads the archive at once, but makes and writes
 * nothing before the unpack's go; without it (a download still under way) it does not even open
 * the file until asked again. Real threads, real archives. Whether a step happened before the go
 * is seen from outside: the archive open in this process (/proc/self/fd), then removed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, readlink, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { c as createTar } from 'tar';
import { discardPrestarted, extractArchive, prestartUnpack } from '../../src/archive/extract.js';
import { buildManifest, sha256File } from '../../src/archive/manifest.js';
import { WebtreeError } from '../../src/core/errors.js';
import type { Limits } from '../../src/site/types.js';
import { file, noise, tar } from '../fixtures/make-bad-archives.js';

const LIMITS: Limits = { maxBytes: 64 * 1024 * 1024, maxEntries: 10_000, maxDepth: 64, maxRatio: 100 };

let tmp: string;
let dest: string;

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'webtree-ahead-'));
  dest = join(tmp, 'dest');
  await mkdir(dest);
});

afterEach(async () => {
  await discardPrestarted();
  await rm(tmp, { recursive: true, force: true });
});

/** Is `p` open in this process (any thread)? */
async function isOpen(p: string): Promise<boolean> {
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(join('/proc/self/fd', fd)).catch(() => '');
    if (target === p) return true;
  }
  return false;
}

async function until(what: () => Promise<boolean>): Promise<void> {
  // Bounded only by the test's own timeout: what is waited for must come.
  while (!(await what())) await new Promise((r) => setTimeout(r, 10));
}

/** 10 MiB in 40 files under pkg/: more than the reader may hold before the go (its credits). */
async function bigArchive(): Promise<string> {
  const src = join(tmp, 'src');
  await mkdir(join(src, 'pkg', 'a', 'b'), { recursive: true });
  for (let i = 0; i < 40; i++)
    await writeFile(join(src, 'pkg', i % 2 ? 'a' : join('a', 'b'), `f${i}`), noise(256 * 1024, `f${i}`));
  const archive = join(tmp, 'pkg.tar.gz');
  await createTar({ gzip: true, cwd: src, file: archive, portable: true }, ['pkg']);
  return archive;
}

describe('reading ahead of the go', () => {
  it('opens and reads the archive before the go, makes nothing before it, and unpacks it whole after', async () => {
    const archive = await bigArchive();
    const sha = await sha256File(archive);
    prestartUnpack(archive, LIMITS, 'single-top', true);
    await until(() => isOpen(archive));
    // Gone from its directory: only a reader that opened it already can unpack it.
    await unlink(archive);
    await new Promise((r) => setTimeout(r, 200));
    expect((await readdir(tmp)).sort()).toEqual(['dest', 'src']);
    expect(await readdir(dest)).toEqual([]);
    const res = await extractArchive(archive, dest, { limits: LIMITS, layout: 'single-top' });
    expect(res).toMatchObject({ entries: 42, bytes: 40 * 256 * 1024, strippedTop: 'pkg', archiveSha256: sha });
    const onDisk = await buildManifest(dest, sha);
    expect([...res.files].sort((a, b) => (a.path < b.path ? -1 : 1))).toEqual(onDisk.files);
    expect(await isOpen(archive)).toBe(false);
  });

  it('a refusal found while reading ahead is the unpack’s error, with nothing made', async () => {
    const archive = join(tmp, 'late.tar');
    await writeFile(archive, tar(file('top/a', 'a'.repeat(5000)), file('top/b/c', 'c'), file('top/../evil', 'x')));
    prestartUnpack(archive, LIMITS, 'single-top', true);
    // Read, refused and closed on its own, or still at it: the outcome is the same.
    await new Promise((r) => setTimeout(r, 200));
    const err = await extractArchive(archive, dest, { limits: LIMITS, layout: 'single-top' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebtreeError);
    expect((err as WebtreeError).message).toMatch(/"top\/\.\.\/evil" climbs out of the tree/);
    expect(await readdir(dest)).toEqual([]);
    expect((await readdir(tmp)).sort()).toEqual(['dest', 'late.tar']);
  });

  it('dropped when no unpack comes: nothing made, the archive closed', async () => {
    const archive = await bigArchive();
    prestartUnpack(archive, LIMITS, 'single-top', true);
    await until(() => isOpen(archive));
    await discardPrestarted();
    await until(async () => !(await isOpen(archive)));
    expect((await readdir(tmp)).sort()).toEqual(['dest', 'pkg.tar.gz', 'src']);
    expect(await readdir(dest)).toEqual([]);
  });
});

describe('started without reading ahead (a download under way)', () => {
  it('opens nothing until asked again, then unpacks the archive that is there by then', async () => {
    const archive = join(tmp, 'later.tar.gz');
    prestartUnpack(archive, LIMITS, 'single-top', false);
    // Had it tried to read the archive (not there yet), the unpack below would fail.
    await new Promise((r) => setTimeout(r, 200));
    await createTar({ gzip: true, cwd: join(await bigArchive(), '..', 'src'), file: archive, portable: true }, ['pkg']);
    prestartUnpack(archive, LIMITS, 'single-top', true);
    const res = await extractArchive(archive, dest, { limits: LIMITS, layout: 'single-top' });
    expect(res).toMatchObject({ entries: 42, strippedTop: 'pkg', archiveSha256: await sha256File(archive) });
  });
});
