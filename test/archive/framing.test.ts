/**
 * TarFraming in-process (it normally runs only inside the unpacking worker, where coverage does
 * not see it): real GNU tar archives in each of its formats, fed in pieces split at every offset,
 * and hand-built streams for each refusal.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_META_BYTES, TarFraming, type EntryView } from '../../src/archive/framing.js';
import { WebtreeError } from '../../src/core/errors.js';
import type { Limits } from '../../src/site/types.js';
import { dirEntry, END, file, header, pad, pax, tar } from '../fixtures/make-bad-archives.js';

const LIMITS: Limits = { maxBytes: 64 * 1024 * 1024, maxEntries: 1000, maxDepth: 64, maxRatio: 100 };

interface Framed {
  entries: EntryView[];
  /** Each entry's body as the framing delivered it, padding cut to the entry's size. */
  bodies: Map<string, string>;
}

/** Feed `data` to a fresh framing in the given pieces, then end it. */
function frame(data: Buffer, cuts: number[] = []): Framed {
  const entries: EntryView[] = [];
  const parts = new Map<string, Buffer[]>();
  // Bodies arrive after their entry's header: each piece belongs to the entry seen last.
  const g = new TarFraming(
    'test.tar',
    LIMITS,
    (v) => {
      entries.push(v);
      parts.set(v.path, []);
    },
    (piece) => parts.get(entries[entries.length - 1].path)!.push(Buffer.from(piece)),
  );
  let at = 0;
  for (const cut of [...cuts, data.length]) {
    g.push(data.subarray(at, cut));
    at = cut;
  }
  g.end();
  const bodies = new Map<string, string>();
  for (const e of entries) bodies.set(e.path, Buffer.concat(parts.get(e.path)!).subarray(0, e.size).toString());
  return { entries, bodies };
}

/** The refusal `data` meets, fed whole (or in the given pieces). */
function refusal(data: Buffer, cuts: number[] = []): WebtreeError {
  try {
    frame(data, cuts);
  } catch (err) {
    expect(err).toBeInstanceOf(WebtreeError);
    expect((err as WebtreeError).code).toBe('EBADARCHIVE');
    return err as WebtreeError;
  }
  throw new Error('the framing accepted the stream');
}

let tmp: string;
const long = (c: string, n: number) => c.repeat(n);
// A path of 3 directories of 60 characters and a file of 90: 275 bytes, over ustar's 255.
const deepDirs = [long('a', 60), long('b', 60), long('c', 60)];
const longFile = `${deepDirs.join('/')}/${long('f', 90)}`;
// Fits ustar only through its prefix field (name 100 + prefix 155).
const ustarFile = `${deepDirs.slice(0, 2).join('/')}/${long('u', 90)}`;

/** GNU tar of tree/ in the given format, as bytes. */
function gnuTar(format: string, ...names: string[]): Buffer {
  return execFileSync('tar', ['-c', `--format=${format}`, '-f', '-', '-C', join(tmp, 'tree'), ...names], {
    maxBuffer: 64 * 1024 * 1024,
  });
}

function gnuList(data: Buffer): string[] {
  return execFileSync('tar', ['-t', '-f', '-'], { input: data }).toString().trim().split('\n');
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'webtree-framing-'));
  const tree = join(tmp, 'tree');
  await mkdir(join(tree, ...deepDirs), { recursive: true });
  await writeFile(join(tree, longFile), 'long name body\n');
  await writeFile(join(tree, ustarFile), 'ustar prefix body\n');
  await writeFile(join(tree, 'small.txt'), 'x'.repeat(700)); // a body over one block
  await writeFile(join(tree, 'empty'), '');
  await symlink(long('t', 150), join(tree, 'longlink'));
});
afterAll(async () => rm(tmp, { recursive: true, force: true }));

describe('GNU tar archives', () => {
  it('reads ustar (prefix field), pax and GNU long names, and every body, as GNU tar lists them', () => {
    const content: Record<string, string> = {
      [longFile]: 'long name body\n',
      [ustarFile]: 'ustar prefix body\n',
      'small.txt': 'x'.repeat(700),
      empty: '',
    };
    for (const [format, names] of [
      ['ustar', [ustarFile, 'small.txt', 'empty']],
      ['pax', [longFile, ustarFile, 'small.txt', 'empty']],
      ['gnu', [longFile, ustarFile, 'small.txt', 'empty']],
    ] as const) {
      const data = gnuTar(format, ...names);
      const { entries, bodies } = frame(data);
      expect(entries.map((e) => e.path)).toEqual(gnuList(data));
      expect(entries.map((e) => e.path)).toEqual([...names]);
      expect(Object.fromEntries(bodies)).toEqual(Object.fromEntries(names.map((n) => [n, content[n]])));
      expect(entries.every((e) => e.type === 'File' && e.size === e.bodySize)).toBe(true);
    }
  });

  it('gives the same entries and bodies whichever byte the stream is split at', () => {
    for (const format of ['pax', 'gnu']) {
      const data = gnuTar(format, longFile, 'small.txt', 'empty');
      const whole = frame(data);
      // Every split of the first 4 KiB (headers, the long-name record, bodies, padding) and the marker.
      for (let cut = 1; cut < Math.min(data.length, 4096); cut++) {
        const split = frame(data, [cut]);
        expect(
          split.entries.map((e) => e.path),
          `${format} cut at ${cut}`,
        ).toEqual(whole.entries.map((e) => e.path));
        expect([...split.bodies], `${format} cut at ${cut}`).toEqual([...whole.bodies]);
      }
      // And one byte at a time.
      expect([
        ...frame(
          data,
          Array.from({ length: data.length - 1 }, (_, i) => i + 1),
        ).bodies,
      ]).toEqual([...whole.bodies]);
    }
  });

  it('reports directories and symbolic links with their own types and targets', () => {
    const data = gnuTar('pax', `${deepDirs[0]}/`, 'longlink');
    const { entries } = frame(data);
    const dir = entries.find((e) => e.path === `${deepDirs[0]}/`)!;
    expect(dir).toMatchObject({ type: 'Directory', typeflag: '5', size: 0 });
    expect(entries.find((e) => e.path === 'longlink')).toMatchObject({
      type: 'SymbolicLink',
      linkpath: long('t', 150),
    });
  });

  it('refuses a GNU long link name record, a meta header it does not accept', () => {
    const e = refusal(gnuTar('gnu', 'longlink'));
    expect(e.message).toMatch(
      /has a NextFileHasLongLinkpath header \(the first header\), which webtree does not accept/,
    );
  });
});

describe('refusals', () => {
  const one = tar(file('a.txt', 'hello'));

  it('an archive cut inside a body, inside a header, or before the end-of-archive marker', () => {
    const body = file('a.txt', 'x'.repeat(1000)); // header + 2 blocks; 188 of 1024 body bytes (padding included) arrive
    expect(refusal(body.subarray(0, 700)).message).toMatch(
      /is truncated: it ends inside entry "a\.txt" \(836 bytes missing\)/,
    );
    expect(refusal(Buffer.concat([body, header({ name: 'b' }).subarray(0, 100)])).message).toMatch(
      /truncated: it ends inside a header block after entry "a\.txt"/,
    );
    expect(refusal(body).message).toMatch(/ends after entry "a\.txt" without the end-of-archive marker/);
    expect(refusal(Buffer.concat([body, Buffer.alloc(512)])).message).toMatch(/without the end-of-archive marker/);
    // A pax header whose record is cut.
    const p = pax({ path: long('p', 300) });
    expect(refusal(p.subarray(0, 600)).message).toMatch(/ends inside entry "ExtendedHeader"/);
  });

  it('nothing, or less than one header, is no tar archive', () => {
    expect(refusal(Buffer.alloc(0)).message).toMatch(/holds no tar data/);
    expect(refusal(Buffer.from('hello')).message).toMatch(
      /is not a tar archive \(5 bytes, less than one 512-byte header\)/,
    );
  });

  it('a first block that fails its checksum is no tar; a later one is a corrupt archive', () => {
    const bad = Buffer.from(one);
    bad[0] ^= 1; // the name changes, the stored checksum does not
    expect(refusal(bad).message).toMatch(/is not a tar archive \(its first block is not a valid tar header\)/);
    expect(refusal(bad).hint).toMatch(/damaged or incomplete/);
    const two = tar(file('a.txt', 'hello'), file('b.txt', 'bye'));
    two[1024] ^= 1; // the second header
    expect(refusal(two).message).toMatch(/is corrupt: the header after entry "a\.txt" fails its checksum/);
  });

  it('a gzip stream inside the tar stream is named as compressed twice', () => {
    const twice = gzipSync(one);
    expect(refusal(Buffer.concat([twice, Buffer.alloc(1024)])).message).toMatch(/is compressed twice/);
  });

  it('a lone zero block between entries (GNU tar would stop there, node-tar read on)', () => {
    const data = Buffer.concat([file('a.txt', 'a'), Buffer.alloc(512), file('b.txt', 'b'), END]);
    expect(refusal(data).message).toMatch(/has a lone zero block before the header after entry "a\.txt"/);
  });

  it('data after the end-of-archive marker, but not zero padding after it', () => {
    expect(refusal(Buffer.concat([one, file('b.txt', 'b')])).message).toMatch(
      /has data after its end-of-archive marker \(after entry "a\.txt"\)/,
    );
    // GNU tar pads to 10 KiB records with zeros: that is accepted.
    expect(frame(Buffer.concat([one, Buffer.alloc(8192)])).entries.map((e) => e.path)).toEqual(['a.txt']);
  });

  it('a stream of zeros after the marker is not read to its end', () => {
    let pushed = 0;
    const f = new TarFraming('z.tar', LIMITS, () => {});
    const chunk = Buffer.alloc(64 * 1024);
    f.push(one);
    expect(() => {
      for (; pushed < 64 * 1024 * 1024; pushed += chunk.length) f.push(chunk);
    }).toThrow(
      /bytes of headers, padding or trailing zeros beyond its file data \(last entry "a\.txt"\); stopped reading/,
    );
    expect(pushed).toBeLessThan(2 * 1024 * 1024);
  });

  it('a directory entry that carries data', () => {
    const d = header({ name: 'd/', type: '5', size: 512 });
    expect(refusal(tar(d, Buffer.alloc(512, 1))).message).toMatch(
      /has a directory entry "d\/" that carries data \(a non-zero size\)/,
    );
    expect(frame(tar(dirEntry('d/'))).entries[0]).toMatchObject({ path: 'd/', type: 'Directory' });
  });

  it('an entry with an empty name', () => {
    expect(refusal(tar(header({ name: '' }))).message).toMatch(/has an entry with an empty name \(the first header\)/);
  });

  it('an extended header over the size webtree reads', () => {
    const big = header({ name: 'PaxHeader/x', type: 'x', size: MAX_META_BYTES + 1 });
    expect(refusal(Buffer.concat([big, END])).message).toMatch(
      new RegExp(
        `has an extended header of ${MAX_META_BYTES + 1} bytes \\(the first header\\), over ${MAX_META_BYTES}`,
      ),
    );
  });

  it('extended headers beyond their budget for the entry limit', () => {
    const f = new TarFraming('m.tar', { ...LIMITS, maxEntries: 1 }, () => {});
    const record = pax({ comment: 'x'.repeat(400_000) }); // header + 782 blocks
    expect(() => {
      for (let i = 0; i < 10; i++) f.push(record);
    }).toThrow(/bytes of extended headers \(the first header\); stopped reading/);
  });

  it('applies pax and global pax records to the entry that follows, and an empty pax header changes nothing', () => {
    const data = tar(
      pax({ comment: 'g' }, 'g'),
      pax({ path: 'renamed.txt', size: 3 }),
      header({ name: 'short', size: 3 }),
      pad(Buffer.from('abc')),
      header({ name: 'PaxHeader/empty', type: 'x', size: 0 }),
      file('plain.txt', 'p'),
    );
    const { entries, bodies } = frame(data);
    expect(entries.map((e) => e.path)).toEqual(['renamed.txt', 'plain.txt']);
    expect(bodies.get('renamed.txt')).toBe('abc');
  });
});

describe('on real files', () => {
  it('an archive written by GNU tar to disk frames the same as its bytes in memory', async () => {
    const out = join(tmp, 'disk.tar');
    execFileSync('tar', ['-c', '--format=pax', '-f', out, '-C', join(tmp, 'tree'), 'small.txt', longFile]);
    const { entries } = frame(await readFile(out));
    expect(entries.map((e) => [e.path, e.size])).toEqual([
      ['small.txt', 700],
      [longFile, 15],
    ]);
  });
});
