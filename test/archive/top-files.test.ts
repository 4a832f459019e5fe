/**
 * filesIn: the files an archive puts in one directory of the installed version, read from its
 * headers alone (apply renders a first-served app's script before anything is unpacked). Real
 * archives made by GNU tar; nothing may be written.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesIn } from '../../src/archive/top-files.js';
import { WebtreeError } from '../../src/core/errors.js';
import type { Limits } from '../../src/site/types.js';

const LIMITS: Limits = { maxBytes: 64 * 1024 * 1024, maxEntries: 1000, maxDepth: 64, maxRatio: 100 };
let tmp: string;

/** A .tar.gz of the given files under src/, made by GNU tar from the names given. */
async function archive(name: string, files: Record<string, string>, roots: string[]): Promise<string> {
  const src = join(tmp, name);
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(dirname(join(src, rel)), { recursive: true });
    await writeFile(join(src, rel), content);
  }
  const out = join(tmp, `${name}.tar.gz`);
  execFileSync('tar', ['-c', '-z', '-f', out, '-C', src, ...roots]);
  return out;
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'webtree-top-files-'));
});
afterAll(async () => rm(tmp, { recursive: true, force: true }));

describe('filesIn', () => {
  it('names the files (not directories, not deeper files) of one directory, the top directory stripped', async () => {
    const a = await archive(
      'tv',
      { 'tv-3/TV.wsgi': 'app', 'tv-3/README': 'r', 'tv-3/lib/x.py': 'x', 'tv-3/lib/deep/y.py': 'y' },
      ['tv-3'],
    );
    const before = await readdir(tmp);
    expect(await filesIn(a, LIMITS, 'single-top', '')).toEqual(['README', 'TV.wsgi']);
    expect(await filesIn(a, LIMITS, 'single-top', 'lib')).toEqual(['x.py']);
    expect(await filesIn(a, LIMITS, 'single-top', 'none')).toEqual([]);
    expect(await readdir(tmp)).toEqual(before); // read only
  });

  it('looks inside the content directory a product installs', async () => {
    const a = await archive('qe', { 'qe-1/product/QE.wsgi': 'app', 'qe-1/setup.py': 's' }, ['qe-1']);
    expect(await filesIn(a, LIMITS, 'single-top', '', 'product')).toEqual(['QE.wsgi']);
  });

  it('with layout any and several top entries strips nothing', async () => {
    const a = await archive('flat', { 'app.wsgi': 'a', 'lib/x.py': 'x' }, ['app.wsgi', 'lib']);
    expect(await filesIn(a, LIMITS, 'any', '')).toEqual(['app.wsgi']);
  });

  it('refuses what the unpack would refuse, with the same words', async () => {
    const src = join(tmp, 'bad');
    await mkdir(join(src, 'v1'), { recursive: true });
    await symlink('/etc/passwd', join(src, 'v1/passwd'));
    const out = join(tmp, 'bad.tar.gz');
    execFileSync('tar', ['-c', '-z', '-f', out, '-C', src, 'v1']);
    const e = await filesIn(out, LIMITS, 'single-top', '').then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(WebtreeError);
    expect((e as WebtreeError).message).toBe(
      'archive entry "v1/passwd" is a symbolic link (to "/etc/passwd"); only regular files and directories are accepted',
    );
    const two = await archive('two', { 'a/x': 'x', 'b/y': 'y' }, ['a', 'b']);
    await expect(filesIn(two, LIMITS, 'single-top', '')).rejects.toThrow(/lies outside the top-level directory "a"/);
  });
});
