/**
 * makeDirs, the one mkdir -p (the executor's make-dir and init use it): what recursive mkdir
 * did that callers relied on, kept — above all the refusal of a path taken by a file, which a
 * bare walk of missing levels would pass in silence. The read-only file system it was written
 * for is proven end to end in test/faults/disk-full.test.ts ("init onto a read-only file system").
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Executor } from '../../src/apply/executor.js';
import { makeDirs } from '../../src/apply/fsatomic.js';
import type { Plan } from '../../src/plan/ops.js';
import type { Site } from '../../src/site/types.js';
import { sandboxSite } from '../helpers/site.js';

let dir: string;
const p = (...parts: string[]) => path.join(dir, ...parts);
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-mkdirs-'));
});
afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

describe('makeDirs', () => {
  it('makes every missing level with the mode and returns the first one made', async () => {
    const old = process.umask(0);
    try {
      expect(await makeDirs(p('a', 'b', 'c'), 0o750)).toBe(p('a'));
    } finally {
      process.umask(old);
    }
    for (const d of [p('a'), p('a', 'b'), p('a', 'b', 'c')]) expect((await fs.stat(d)).mode & 0o777).toBe(0o750);
  });

  it('an existing directory, or a link to one, is no error and nothing is made', async () => {
    await fs.mkdir(p('d'));
    await fs.symlink('d', p('l'));
    expect(await makeDirs(p('d'), 0o755)).toBeUndefined();
    expect(await makeDirs(p('l'), 0o755)).toBeUndefined();
    expect(await fs.readlink(p('l'))).toBe('d');
  });

  it('refuses a file where the directory should be (EEXIST, naming it), and leaves the file', async () => {
    await fs.writeFile(p('f'), 'keep');
    const err = await makeDirs(p('f'), 0o755).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EEXIST', syscall: 'mkdir', path: p('f') });
    expect((err as Error).message).toBe(`EEXIST: ${p('f')} exists and is not a directory, mkdir '${p('f')}'`);
    expect(await fs.readFile(p('f'), 'utf8')).toBe('keep');
  });

  it('refuses a link to a file and a link to nothing', async () => {
    await fs.writeFile(p('f'), 'keep');
    await fs.symlink('f', p('to-file'));
    await fs.symlink('nowhere', p('dangling'));
    await expect(makeDirs(p('to-file'), 0o755)).rejects.toMatchObject({ code: 'EEXIST', path: p('to-file') });
    await expect(makeDirs(p('dangling'), 0o755)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(fs.lstat(p('nowhere'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a file halfway up fails with the system ENOTDIR and makes nothing', async () => {
    await fs.writeFile(p('f'), 'keep');
    await expect(makeDirs(p('f', 'x', 'y'), 0o755)).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(await fs.readFile(p('f'), 'utf8')).toBe('keep');
  });
});

describe("the executor's make-dir", () => {
  let site: Site;
  beforeEach(async () => {
    site = sandboxSite(dir);
    await fs.mkdir(site.paths.state, { recursive: true });
  });
  const plan = (ops: Plan['ops']): Plan => ({ command: 't', summary: 's', ops, commit: 0, temps: [], notes: [] });

  it('makes the levels and closes the last one to its mode whatever the umask', async () => {
    await new Executor({ site }).apply(plan([{ kind: 'make-dir', path: p('x', 'y'), mode: 0o700 }]), 'm1');
    expect((await fs.stat(p('x', 'y'))).mode & 0o777).toBe(0o700);
  });

  it('refuses a file at the path: the change fails and the file stays', async () => {
    await fs.writeFile(p('taken'), 'keep');
    const ops: Plan['ops'] = [
      { kind: 'make-dir', path: p('made', 'first') },
      { kind: 'make-dir', path: p('taken') },
    ];
    await expect(new Executor({ site }).apply(plan(ops), 'm2')).rejects.toMatchObject({
      message: expect.stringMatching(/EEXIST: .*taken exists and is not a directory/),
    });
    expect(await fs.readFile(p('taken'), 'utf8')).toBe('keep');
  });
});
