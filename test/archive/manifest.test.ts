import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildManifest, sha256File, verifyManifest, type Manifest } from '../../src/archive/manifest.js';
import { manifestPieces, manifestText, peekArchiveSha256 } from '../../src/state/manifest-file.js';
import { WebtreeError } from '../../src/core/errors.js';

const SHA_ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
const SHA_EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

let tmp: string;
let dir: string;

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'webtree-manifest-'));
  dir = join(tmp, 'v1');
  await mkdir(join(dir, 'lib', 'sub'), { recursive: true });
  await mkdir(join(dir, 'empty'));
  await writeFile(join(dir, 'b.txt'), 'abc');
  await writeFile(join(dir, 'lib', 'sub', 'z.py'), '');
  await writeFile(join(dir, 'a.wsgi'), 'app\n');
  await chmod(join(dir, 'a.wsgi'), 0o755);
  await chmod(join(dir, 'b.txt'), 0o644);
  await chmod(join(dir, 'lib', 'sub', 'z.py'), 0o644);
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('sha256File', () => {
  it('hashes a file by streaming it', async () => {
    expect(await sha256File(join(dir, 'b.txt'))).toBe(SHA_ABC);
  });
});

describe('buildManifest', () => {
  it('lists files only, relative, "/"-separated, sorted, with size, hash and mode', async () => {
    const m = await buildManifest(dir, 'f'.repeat(64));
    expect(m.archiveSha256).toBe('f'.repeat(64));
    expect(m.files).toEqual([
      { path: 'a.wsgi', size: 4, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), mode: 0o755 },
      { path: 'b.txt', size: 3, sha256: SHA_ABC, mode: 0o644 },
      { path: 'lib/sub/z.py', size: 0, sha256: SHA_EMPTY, mode: 0o644 },
    ]);
  });

  it('refuses anything but files and directories', async () => {
    await symlink('b.txt', join(dir, 'link'));
    await expect(buildManifest(dir, 'x')).rejects.toBeInstanceOf(WebtreeError);
    await expect(buildManifest(dir, 'x')).rejects.toThrow(/link in a manifest: it is a symbolic link/);
  });
});

describe('verifyManifest', () => {
  let m: Manifest;
  beforeEach(async () => {
    m = await buildManifest(dir, 'x');
  });

  it('finds nothing in an untouched tree', async () => {
    expect(await verifyManifest(dir, m)).toEqual([]);
  });

  it('reports changed content of the same size, and a changed size', async () => {
    await writeFile(join(dir, 'b.txt'), 'abd');
    await writeFile(join(dir, 'a.wsgi'), 'longer app\n');
    expect(await verifyManifest(dir, m)).toEqual([
      'a.wsgi: size changed (4 bytes in the manifest, 11 now)',
      'b.txt: content changed (sha256 differs)',
    ]);
  });

  it('reports missing and extra files, and a changed mode', async () => {
    await unlink(join(dir, 'lib', 'sub', 'z.py'));
    await writeFile(join(dir, 'lib', 'new.py'), 'x');
    await chmod(join(dir, 'b.txt'), 0o4755);
    expect(await verifyManifest(dir, m)).toEqual([
      'b.txt: mode changed (644 in the manifest, 4755 now)',
      'lib/new.py: extra file, not in the manifest',
      'lib/sub/z.py: missing',
    ]);
  });

  it('reports what is not a regular file, in place of a file or beside it', async () => {
    await unlink(join(dir, 'b.txt'));
    await symlink('/etc/passwd', join(dir, 'b.txt'));
    await symlink('lib', join(dir, 'lib2'));
    await rm(join(dir, 'a.wsgi'));
    await mkdir(join(dir, 'a.wsgi'));
    expect(await verifyManifest(dir, m)).toEqual([
      'a.wsgi: is a directory, the manifest has a file',
      'b.txt: a symbolic link, not a regular file',
      'lib2: a symbolic link, not a regular file',
    ]);
  });

  it('reports a missing version directory in one line', async () => {
    await rm(dir, { recursive: true });
    expect(await verifyManifest(dir, m)).toEqual([`${dir} is missing`]);
  });
});

const SPEC = { what: 'the manifest', fix: 'test' };

describe('the manifest file', () => {
  it('gives back its archive sha256 from its head, "adopted" too, and falls back to a full parse', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'webtree-mtext-'));
    try {
      const files = Array.from({ length: 5000 }, (_, i) => ({
        path: `f${i}`,
        size: i,
        sha256: 'a'.repeat(64),
        mode: 0o644,
      }));
      for (const sha of ['e'.repeat(64), 'adopted']) {
        const f = join(dir, `${sha.slice(0, 4)}.json`);
        await writeFile(f, manifestText('TV', '3.4', { archiveSha256: sha, files }));
        expect(await peekArchiveSha256(f, SPEC)).toBe(sha);
        expect(JSON.parse(await readFile(f, 'utf8'))).toMatchObject({
          product: 'TV',
          version: '3.4',
          archiveSha256: sha,
          files,
        });
      }
      // Written by something else, in another key order: parsed whole.
      const other = join(dir, 'other.json');
      await writeFile(other, JSON.stringify({ files, archiveSha256: 'f'.repeat(64) }));
      expect(await peekArchiveSha256(other, SPEC)).toBe('f'.repeat(64));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is written in pieces that make exactly the one text, for no files, one, and thousands', () => {
    const at = '2026-12-06T12:00:00.000Z';
    const many = Array.from({ length: 3000 }, (_, i) => ({
      // Quotes, a backslash, a control character and non-ASCII, which JSON escapes or keeps.
      path: i % 3 ? `d/"f\\${i}".txt` : `d/caf\u00e9\u0001${i}`,
      size: i * 1000,
      sha256: i.toString(16).padStart(64, '0'),
      mode: 0o644,
    }));
    for (const files of [[], many.slice(0, 1), many]) {
      const m = { archiveSha256: 'e'.repeat(64), files };
      const pieces = [...manifestPieces('TV', '3.4', m, at)];
      expect(pieces.join('')).toBe(manifestText('TV', '3.4', m, at));
      if (files.length === many.length) expect(pieces.length).toBeGreaterThan(2);
    }
  });
});
