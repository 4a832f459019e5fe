/**
 * verify's comparison on the hash pool's threads: a version of more files than one job holds,
 * damaged in every way a finding names, gives the same findings, in the walk's order, on one
 * thread and on three (the pool's threads are dist/'s: `npm run build` first, as `npm test` does).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildManifest, tableOf, type Manifest } from '../../src/archive/manifest.js';
import { verifyTable } from '../../src/archive/verify-files.js';
import { JOB_FILES } from '../../src/archive/hash-pool.js';

const FILES = JOB_FILES * 3 + 7;
let tmp: string;
let dir: string;
let m: Manifest;
const threads = process.env.WEBTREE_HASH_THREADS;
/** The manifest's last file, in d2 (file i is in d(i % 4)). */
const last = `d${(FILES - 1) % 4}/f${String(FILES - 1).padStart(4, '0')}`;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'webtree-verify-files-'));
  dir = join(tmp, 'v1');
  for (let d = 0; d < 4; d++) await mkdir(join(dir, `d${d}`), { recursive: true });
  for (let i = 0; i < FILES; i++)
    await writeFile(join(dir, `d${i % 4}`, `f${String(i).padStart(4, '0')}`), `file ${i}\n`);
  m = await buildManifest(dir, 'x');
  // Each kind of damage, spread over the jobs.
  await writeFile(join(dir, 'd0', 'f0000'), 'file X\n'); // same size, other bytes
  await writeFile(join(dir, 'd1', 'f0001'), 'file 1 and more\n');
  await chmod(join(dir, 'd2', 'f0002'), 0o600);
  await unlink(join(dir, 'd3', 'f0003'));
  await writeFile(join(dir, 'd3', 'f0003x'), 'extra\n');
  await unlink(join(dir, 'd0', 'f0400'));
  await symlink('f0004', join(dir, 'd0', 'f0400'));
  await unlink(join(dir, 'd1', 'f0401'));
  execFileSync('mkfifo', [join(dir, 'd1', 'f0401')]);
  await unlink(join(dir, 'd2', 'f0402'));
  await mkdir(join(dir, 'd2', 'f0402'));
  await writeFile(join(dir, 'd3', 'f0403'), 'file 403\n'); // written again, the same bytes: unchanged
  await writeFile(join(dir, last), 'file ?!!\n');
}, 60_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

afterEach(() => {
  if (threads === undefined) delete process.env.WEBTREE_HASH_THREADS;
  else process.env.WEBTREE_HASH_THREADS = threads;
});

const expected = [
  'd0/f0000: content changed (sha256 differs)',
  'd0/f0400: a symbolic link, not a regular file',
  'd1/f0001: size changed (7 bytes in the manifest, 16 now)',
  'd1/f0401: a FIFO, not a regular file',
  'd2/f0002: mode changed (644 in the manifest, 600 now)',
  'd2/f0402: is a directory, the manifest has a file',
  `${last}: content changed (sha256 differs)`,
  'd3/f0003x: extra file, not in the manifest',
  'd3/f0003: missing',
];

describe('verifyTable', () => {
  it.each(['1', '3'])('finds every change in order with %s hashing thread(s)', async (n) => {
    process.env.WEBTREE_HASH_THREADS = n;
    expect(await verifyTable(dir, tableOf(m))).toEqual(expected);
  });

  it('takes a sha256 that is not lower-case hex as matching no file', async () => {
    const upper = {
      ...m,
      files: m.files.map((f) => (f.path === 'd0/f0008' ? { ...f, sha256: f.sha256.toUpperCase() } : f)),
    };
    expect(await verifyTable(dir, tableOf(upper))).toContain('d0/f0008: content changed (sha256 differs)');
  });
});
