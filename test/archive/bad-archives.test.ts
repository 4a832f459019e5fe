/**
 * Every archive of the hostile corpus is refused with EBADARCHIVE and a precise message, before
 * anything is written: dest stays empty, its parent holds only dest, the outside victims are
 * untouched. The corpus (with a 4 GiB gzip bomb, some seconds to make) is made once, while the
 * file is collected, so that every kind is a test of its own.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { lstat, mkdir, mkdtemp, open, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebtreeError } from '../../src/core/errors.js';
import { extractArchive } from '../../src/archive/extract.js';
import type { Limits } from '../../src/site/types.js';
import {
  CORPUS_LIMITS,
  makeBadArchives,
  makeSanitisedArchives,
  outsideDir,
  type BadArchive,
} from '../fixtures/make-bad-archives.js';

const corpusDir = await mkdtemp(join(tmpdir(), 'webtree-corpus-'));
const corpus: BadArchive[] = await makeBadArchives(corpusDir);
const BOMB = 'gzip-bomb-4GiB';
const LAYOUT_ONLY = new Set(['loose-file-beside-top', 'two-top-dirs']);

afterAll(async () => {
  await rm(corpusDir, { recursive: true, force: true });
});

async function snapshot(): Promise<string> {
  const outside = outsideDir(corpusDir);
  const passwd = await lstat('/etc/passwd');
  return JSON.stringify({
    outside: (await readdir(outside)).sort(),
    victim: await readFile(join(outside, 'victim.txt'), 'utf8'),
    victimLinks: (await lstat(join(outside, 'victim.txt'))).nlink,
    passwd: [passwd.size, passwd.mtimeMs, passwd.nlink],
  });
}

/** The first `bytes` of an archive, as a new file beside it (a download cut short). */
async function cutShort(file: string, bytes: number): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    expect(bytesRead).toBe(bytes);
    const out = file.replace(/(\.tar\.gz)$/, `-cut-${bytes}$1`);
    await writeFile(out, buf);
    return out;
  } finally {
    await fh.close();
  }
}

/** Extracts into <tmp>/dest and returns the refusal, checking nothing landed anywhere. */
async function refusal(
  file: string,
  limits: Limits = CORPUS_LIMITS,
  layout: 'single-top' | 'any' = 'single-top',
): Promise<WebtreeError> {
  const parent = await mkdtemp(join(tmpdir(), 'webtree-x-'));
  try {
    const dest = join(parent, 'dest');
    await mkdir(dest);
    const before = await snapshot();
    const err = await extractArchive(file, dest, { limits, layout }).then(
      () => {
        throw new Error(`${file} was accepted`);
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WebtreeError);
    expect(await readdir(parent)).toEqual(['dest']);
    expect(await readdir(dest)).toEqual([]);
    expect(await snapshot()).toBe(before);
    return err as WebtreeError;
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
}

describe('hostile archive corpus', () => {
  it('has at least twenty kinds', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(20);
    expect(new Set(corpus.map((c) => c.name)).size).toBe(corpus.length);
  });

  it.each(corpus.filter((c) => c.name !== BOMB).map((c) => [c.name, c] as const))(
    'refuses %s, naming entry and reason, writing nothing',
    async (_n, c) => {
      const err = await refusal(c.file);
      expect(err.code).toBe('EBADARCHIVE');
      expect(err.exitCode).toBe(1);
      expect(err.message).toMatch(c.expect);
      expect(err.message).not.toMatch(/[\u0000-\u001f]/);
      expect(err.hint).toMatch(/^Nothing was installed\./);
    },
  );

  it.each(corpus.filter((c) => c.name !== BOMB && !LAYOUT_ONLY.has(c.name)).map((c) => [c.name, c] as const))(
    'refuses %s under layout "any" too',
    async (_n, c) => {
      expect((await refusal(c.file, CORPUS_LIMITS, 'any')).message).toMatch(c.expect);
    },
  );

  it('stops a 4 GiB gzip bomb at its first header, without inflating it', async () => {
    const bomb = corpus.find((c) => c.name === BOMB)!;
    const rss = process.memoryUsage().rss;
    const err = await refusal(bomb.file);
    expect(err.message).toMatch(bomb.expect);
    // Even when 4 GiB is within maxBytes (the site default), the ratio refuses it at the header.
    const err2 = await refusal(bomb.file, { ...CORPUS_LIMITS, maxBytes: 4 * 1024 ** 3, maxRatio: 200 });
    expect(err2.message).toMatch(
      /"top\/zeros" takes the unpacked size to 4294967296 bytes, \d+ times the archive's \d+, over the ratio limit of 200 \(limits\.maxRatio\)/,
    );
    expect(process.memoryUsage().rss - rss).toBeLessThan(100 * 1024 * 1024);
    // The same bomb cut short after 1 MiB of its 4 MB (about 1 GiB of zeros in): an unpacker that
    // inflated past the header would meet the cut and call the archive truncated; refused at the
    // header, it never gets there. Bounded work, whatever the machine's speed.
    expect((await refusal(await cutShort(bomb.file, 1024 * 1024))).message).toMatch(bomb.expect);
  }, 30_000);

  it('stops inflating zeros after the end-of-archive marker early', async () => {
    const c = corpus.find((k) => k.name === 'zeros-after-end-512MiB')!;
    const err = await refusal(c.file);
    expect(err.message).toMatch(c.expect);
    // Cut after half its compressed bytes (about 256 MiB of zeros in): refused the same way, so
    // the reader stopped long before the cut; reading to the end would report it truncated.
    const half = await cutShort(c.file, Math.floor((await stat(c.file)).size / 2));
    const cut = await refusal(half);
    expect(cut.message).toMatch(c.expect);
    expect(cut.message).not.toMatch(/truncated/);
  });
});

describe('unsafe modes', () => {
  it('are stripped, not refused: no setuid/setgid/sticky, nothing group- or world-writable', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'webtree-x-'));
    try {
      const dest = join(parent, 'dest');
      await mkdir(dest);
      for (const a of await makeSanitisedArchives(parent)) {
        const res = await extractArchive(a.file, dest, { limits: CORPUS_LIMITS, layout: 'single-top' });
        expect(res.strippedTop).toBe('top');
        for (const [p, mode] of Object.entries(a.modes)) {
          expect(((await lstat(join(dest, p))).mode & 0o7777).toString(8), p).toBe(mode.toString(8));
        }
      }
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});
