/**
 * checkTree, the last word on an unpacked tree, against real directories: the tree as listed
 * passes, and each way a tree can differ from its listing is named.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkTree, strip, type Listing } from '../../src/archive/check-tree.js';
import type { Kind } from '../../src/archive/rules.js';
import { WebtreeError } from '../../src/core/errors.js';

let dest: string;

/** The tree the listing below describes: a/, a/x (3 bytes), b (2 bytes). */
function listing(): Listing {
  const tree = new Map<string, Kind>([
    ['a', 'dir'],
    ['a/x', 'file'],
    ['b', 'file'],
  ]);
  return { entries: 3, bytes: 5, kindAt: (p) => tree.get(p), paths: () => tree.keys() };
}

beforeEach(async () => {
  dest = await mkdtemp(join(tmpdir(), 'webtree-check-tree-'));
  await mkdir(join(dest, 'a'));
  await writeFile(join(dest, 'a/x'), 'xxx');
  await writeFile(join(dest, 'b'), 'bb');
});
afterEach(async () => rm(dest, { recursive: true, force: true }));

function fault(l: Listing = listing(), bytes = 5): string {
  try {
    checkTree(dest, l, '"v.tar.gz"', bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(WebtreeError);
    expect((err as WebtreeError).code).toBe('EBADARCHIVE');
    expect((err as WebtreeError).hint).toMatch(/a fault in webtree or a concurrent change/);
    return (err as Error).message;
  }
  return 'passed';
}

describe('checkTree', () => {
  it('passes the tree its listing describes', () => {
    expect(fault()).toBe('passed');
  });

  it('names a path the listing does not hold', async () => {
    await writeFile(join(dest, 'a/extra'), '');
    expect(fault()).toBe('unpacking archive "v.tar.gz" produced "a/extra", which the archive listing does not hold');
  });

  it('names a listed path that is missing', async () => {
    await rm(join(dest, 'a/x'));
    expect(fault()).toBe('unpacking archive "v.tar.gz" produced no "a/x", which the archive listing holds');
  });

  it('names a directory listed as a file, and a file listed as a directory', async () => {
    await rm(join(dest, 'b'));
    await mkdir(join(dest, 'b'));
    expect(fault()).toMatch(/produced "b" as a directory, listed as a file/);
    await rm(join(dest, 'b'), { recursive: true });
    await writeFile(join(dest, 'b'), 'bb');
    await rm(join(dest, 'a'), { recursive: true });
    await writeFile(join(dest, 'a'), '');
    expect(fault()).toMatch(/produced "a" as a file, listed as a directory/);
  });

  it('names a symbolic link or a FIFO, even one the listing holds by that name', async () => {
    await rm(join(dest, 'b'));
    await symlink('/etc/passwd', join(dest, 'b'));
    expect(fault()).toMatch(/produced "b", which is neither a regular file nor a directory/);
    await rm(join(dest, 'b'));
    execFileSync('mkfifo', [join(dest, 'b')]);
    expect(fault()).toMatch(/produced "b", which is neither a regular file nor a directory/);
  });

  it('compares the counts: bytes written, and entries', () => {
    expect(fault(listing(), 4)).toMatch(/produced 3 entries and 4 bytes, listed as 3 and 5/);
    expect(fault({ ...listing(), entries: 4 })).toMatch(/produced 3 entries and 5 bytes, listed as 4 and 5/);
  });
});

describe('strip', () => {
  it('removes the top directory, and keeps names when there is none', () => {
    expect(strip('v1', 'v1')).toBe('');
    expect(strip('v1/a/b', 'v1')).toBe('a/b');
    expect(strip('a/b', undefined)).toBe('a/b');
  });
});
