/**
 * openArchive in-process (it normally runs only inside the unpacking worker): gzip files read in
 * pieces through its ring of buffers, the raw bytes it hands the hasher, and each refusal — real
 * files made by gzip, GNU tar, bzip2, xz, zstd and zip at test time.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TarFraming } from '../../src/archive/framing.js';
import { openArchive, type ArchiveSource } from '../../src/archive/source.js';
import { WebtreeError } from '../../src/core/errors.js';
import { noise } from '../fixtures/make-bad-archives.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let tmp: string;
/** 5 MiB that gzip cannot shrink: more raw reads (1 MiB each) than the ring has buffers. */
let random: Buffer;
/** 40 MiB of text that gzip shrinks a hundredfold: the inflater runs far ahead of the reader. */
let text: Buffer;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'webtree-source-'));
  random = noise(5 * MiB, 'source');
  text = Buffer.from('0123456789abcdef\n'.repeat((40 * MiB) / 17));
});
afterAll(async () => rm(tmp, { recursive: true, force: true }));

async function put(name: string, data: Buffer): Promise<string> {
  const p = join(tmp, name);
  await writeFile(p, data);
  return p;
}

/** One whole pass: the decompressed bytes, the raw bytes watched, and how many pieces came. */
async function pass(src: ArchiveSource, slow = false) {
  const out: Buffer[] = [];
  const raw: Buffer[] = [];
  for await (const c of src.chunks((r) => raw.push(Buffer.from(r)))) {
    out.push(Buffer.from(c)); // a copy: the source reuses its buffers
    if (slow) await tick();
  }
  return { data: Buffer.concat(out), raw: Buffer.concat(raw), pieces: out.length };
}

async function refusal(path: string): Promise<WebtreeError> {
  const err = await (async () => {
    const src = await openArchive(path);
    try {
      await pass(src);
    } finally {
      await src.close();
    }
  })().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WebtreeError);
  return err as WebtreeError;
}

describe('reading', () => {
  it('inflates a gzip file read in many pieces to exactly its content, and watches every raw byte', async () => {
    const gz = gzipSync(random, { level: 1 });
    expect(gz.length).toBeGreaterThan(3 * MiB); // more reads than the ring has buffers
    const src = await openArchive(await put('random.gz', gz));
    try {
      expect(src).toMatchObject({ name: '"random.gz"', size: gz.length, gzip: true });
      const first = await pass(src);
      expect(sha(first.data)).toBe(sha(random));
      expect(sha(first.raw)).toBe(sha(gz));
      // A second pass starts again at the first byte.
      expect(sha((await pass(src)).data)).toBe(sha(random));
    } finally {
      await src.close();
    }
  });

  it('keeps every byte when the reader is slower than the inflater', async () => {
    const gz = gzipSync(text);
    const src = await openArchive(await put('text.gz', gz));
    try {
      const { data, pieces } = await pass(src, true);
      expect(data.length).toBe(text.length);
      expect(sha(data)).toBe(sha(text));
      expect(pieces).toBeGreaterThan(text.length / MiB); // inflated in pieces, not at once
    } finally {
      await src.close();
    }
  });

  it('reads zero padding after the gzip stream for the watcher, without inflating it', async () => {
    const gz = Buffer.concat([gzipSync(Buffer.from('hello')), Buffer.alloc(2048)]);
    const src = await openArchive(await put('padded.gz', gz));
    try {
      const { data, raw } = await pass(src);
      expect(data.toString()).toBe('hello');
      expect(sha(raw)).toBe(sha(gz));
    } finally {
      await src.close();
    }
  });

  it('hands an uncompressed tar through as it is', async () => {
    const tree = join(tmp, 'plain');
    await mkdir(join(tree, 'v1'), { recursive: true });
    await writeFile(join(tree, 'v1/a.txt'), 'a');
    const tarFile = join(tmp, 'plain.tar');
    execFileSync('tar', ['-c', '-f', tarFile, '-C', tree, 'v1']);
    const src = await openArchive(tarFile);
    try {
      expect(src.gzip).toBe(false);
      const { data, raw } = await pass(src);
      expect(data.equals(await readFile(tarFile))).toBe(true);
      expect(raw.equals(data)).toBe(true);
    } finally {
      await src.close();
    }
  });

  it('a GNU tar .tar.gz frames entry by entry from its pieces', async () => {
    const tree = join(tmp, 'gnu');
    await mkdir(join(tree, 'v2'), { recursive: true });
    await writeFile(join(tree, 'v2/random.bin'), random.subarray(0, 2 * MiB));
    await writeFile(join(tree, 'v2/b.txt'), 'b');
    const archive = join(tmp, 'gnu.tar.gz');
    execFileSync('tar', ['-c', '-z', '-f', archive, '-C', tree, 'v2']);
    const src = await openArchive(archive);
    const seen: [string, number][] = [];
    const limits = { maxBytes: 64 * MiB, maxEntries: 100, maxDepth: 8, maxRatio: 100 };
    try {
      const f = new TarFraming(src.name, limits, (v) => seen.push([v.path, v.size]));
      for await (const c of src.chunks()) f.push(c);
      f.end();
    } finally {
      await src.close();
    }
    expect(seen.sort()).toEqual([
      ['v2/', 0],
      ['v2/b.txt', 1],
      ['v2/random.bin', 2 * MiB],
    ]);
  });

  it('a pass broken off early leaves the file readable from the start', async () => {
    const src = await openArchive(await put('early.gz', gzipSync(random)));
    try {
      for await (const c of src.chunks()) {
        expect(c.length).toBeGreaterThan(0);
        break;
      }
      expect(sha((await pass(src)).data)).toBe(sha(random));
    } finally {
      await src.close();
    }
  });
});

describe('refusals', () => {
  it('other compressors and zip, by their magic bytes', async () => {
    const plain = await put('data.tar', Buffer.from('some data\n'.repeat(100)));
    for (const [tool, args, out, what] of [
      [
        'bzip2',
        ['-k', '-c', plain],
        'data.tar.bz2',
        /is compressed with bzip2; only \.tar and \.tar\.gz \(\.tgz\) are accepted/,
      ],
      ['xz', ['-k', '-c', plain], 'data.tar.xz', /is compressed with xz/],
      ['zstd', ['-q', '-c', plain], 'data.tar.zst', /is compressed with zstd/],
    ] as const) {
      const file = await put(out, execFileSync(tool, [...args]));
      const e = await refusal(file);
      expect(e.message).toMatch(what);
      expect(e.message).toContain(`"${out}"`);
      expect(e.hint).toMatch(/Repack it as a \.tar\.gz/);
    }
    const zip = join(tmp, 'data.zip');
    execFileSync('zip', ['-q', '-j', zip, plain]);
    expect((await refusal(zip)).message).toMatch(/"data\.zip" is a zip file/);
  });

  it('an empty file, a directory, a missing file', async () => {
    expect((await refusal(await put('empty.tar.gz', Buffer.alloc(0)))).message).toMatch(/is empty \(0 bytes\)/);
    expect((await refusal(tmp)).message).toMatch(/is not a regular file/);
    const e = await refusal(join(tmp, 'nope.tar.gz'));
    expect(e.message).toBe('archive "nope.tar.gz" cannot be read (ENOENT)');
    expect(e.hint).toMatch(/Check the path/);
  });

  it('a gzip stream cut short, and one whose check value is wrong', async () => {
    const gz = gzipSync(random.subarray(0, MiB));
    const cut = await refusal(await put('cut.tar.gz', gz.subarray(0, gz.length >> 1)));
    expect(cut.message).toBe('archive "cut.tar.gz" is truncated: its gzip stream ends early (unexpected end of file)');
    expect(cut.hint).toMatch(/damaged or incomplete/);
    const bad = Buffer.from(gz);
    bad[bad.length - 6] ^= 0xff; // the CRC-32 in the trailer
    expect((await refusal(await put('crc.tar.gz', bad))).message).toMatch(
      /archive "crc\.tar\.gz" has a corrupt gzip stream \(incorrect data check\)/,
    );
  });
});
