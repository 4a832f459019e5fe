// The writers keep their files' hashes compactly (written-files.ts) and the manifest entries are
// made after the unpack: the entries must be those of the bytes on disk, with one writer or
// several (each writer thread's list comes back with its digests' buffer transferred).
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { c as createTar } from 'tar';
import { extractArchive } from '../../src/archive/extract.js';
import { buildManifest, sha256File } from '../../src/archive/manifest.js';
import { WrittenFiles, filesOf, sortedFiles } from '../../src/archive/written-files.js';

const LIMITS = { maxBytes: 64 * 1024 * 1024, maxEntries: 10_000, maxDepth: 64, maxRatio: 100_000 };
const sha = (s: string) => createHash('sha256').update(s).digest();

describe('WrittenFiles', () => {
  it('gives back every file with its hash in hex, past its first buffer, renamed', () => {
    const w = new WrittenFiles();
    for (let i = 0; i < 3000; i++) w.add(`top/f${i}`, i, 0o644 | (i % 2 ? 0o100 : 0), sha(`f${i}`));
    const list = w.list();
    expect(list.digests.byteLength).toBe(3000 * 32);
    const files = filesOf([list], (p) => p.slice('top/'.length));
    expect(files).toHaveLength(3000);
    expect(files[2999]).toEqual({ path: 'f2999', size: 2999, sha256: sha('f2999').toString('hex'), mode: 0o744 });
    expect(files[0].sha256).toBe(sha('f0').toString('hex'));
  });
});

describe('the unpack with several writers', () => {
  let tmp: string;
  const saved = process.env.WEBTREE_WRITERS;
  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'webtree-written-'));
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env.WEBTREE_WRITERS;
    else process.env.WEBTREE_WRITERS = saved;
    await rm(tmp, { recursive: true, force: true });
  });

  it('records for each file the hash of the bytes on disk, whichever writer wrote it', async () => {
    const src = join(tmp, 'src');
    for (let d = 0; d < 6; d++) {
      await mkdir(join(src, 'v-1', `d${d}`), { recursive: true });
      for (let f = 0; f < 40; f++)
        await writeFile(join(src, 'v-1', `d${d}`, `f${f}`), `file ${d}/${f}\n`.repeat(f * 50));
    }
    const archive = join(tmp, 'v-1.tar.gz');
    await createTar({ gzip: true, cwd: src, file: archive, portable: true }, ['v-1']);
    const dest = join(tmp, 'dest');
    await mkdir(dest);
    process.env.WEBTREE_WRITERS = '3';
    const res = await extractArchive(archive, dest, { limits: LIMITS, layout: 'single-top' });
    const onDisk = await buildManifest(dest, await sha256File(archive));
    expect(onDisk.files).toHaveLength(240);
    expect([...res.files].sort((a, b) => (a.path < b.path ? -1 : 1))).toEqual(onDisk.files);
  });
});

describe('sortedFiles', () => {
  it('gives filesOf entries sorted by path, from several lists, renamed, the lists left as they are', () => {
    const lists = [0, 1, 2].map((w) => {
      const f = new WrittenFiles();
      for (let i = 0; i < 700; i++) {
        const n = (i * 7919 + w * 13) % 2100;
        if (n % 3 === w) f.add(`top/d${n % 9}/f${n}`, n, 0o644, sha(`f${n}`));
      }
      return f.list();
    });
    const sorted = [...sortedFiles(lists, (p) => p.slice('top/'.length))];
    expect(sorted.length).toBeGreaterThan(600);
    expect(sorted.map((f) => f.path)).toEqual(sorted.map((f) => f.path).sort());
    const all = filesOf(lists, (p) => p.slice('top/'.length));
    expect(sorted).toEqual(all.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)));
  });
});
