/**
 * The atomic moves of fsatomic.ts against real directories: what each leaves on disk, including
 * after a failure (no temporary behind). makeDirs has its own file (make-dirs.test.ts), the fsync
 * order test/apply/durability.test.ts.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeAside, renameLinkOver, swapLink, tempName, writeFileAtomic } from '../../src/apply/fsatomic.js';

let dir: string;
const p = (...parts: string[]) => path.join(dir, ...parts);
const names = async () => (await fs.readdir(dir)).sort();

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-fsatomic-'));
});
afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

describe('tempName', () => {
  it('is a hidden name beside the file, carrying the tag and this pid, new each time', () => {
    const a = tempName(p('cfg', 'des_tv.cfg'), 'write');
    expect(path.dirname(a)).toBe(p('cfg'));
    expect(path.basename(a)).toMatch(new RegExp(`^\\.des_tv\\.cfg\\.webtree-write-${process.pid}-[0-9a-f]{8}$`));
    expect(tempName(p('x'), 'write')).not.toBe(tempName(p('x'), 'write'));
  });
});

describe('writeFileAtomic', () => {
  it('writes the content with exactly the mode asked, whatever the umask, and leaves no temporary', async () => {
    const old = process.umask(0o077);
    try {
      await writeFileAtomic(p('run.sh'), '#!/bin/sh\n', 0o755);
    } finally {
      process.umask(old);
    }
    expect(await fs.readFile(p('run.sh'), 'utf8')).toBe('#!/bin/sh\n');
    expect((await fs.stat(p('run.sh'))).mode & 0o7777).toBe(0o755);
    expect(await names()).toEqual(['run.sh']);
  });

  it('replaces a file in one rename: a reader holding the old one still reads the old bytes', async () => {
    await fs.writeFile(p('cfg'), 'old');
    const held = await fs.open(p('cfg'), 'r');
    try {
      await writeFileAtomic(p('cfg'), Buffer.from('new'));
      expect(await fs.readFile(p('cfg'), 'utf8')).toBe('new');
      expect((await held.readFile()).toString()).toBe('old'); // a new inode, not the old one rewritten
    } finally {
      await held.close();
    }
    expect(await names()).toEqual(['cfg']);
  });

  it('gives the file to the owner asked for', async () => {
    expect(process.geteuid?.()).toBe(0); // only root can give files away
    const uid = Number(execFileSync('id', ['-u', 'codemanager']).toString());
    const gid = Number(execFileSync('id', ['-g', 'codemanager']).toString());
    await writeFileAtomic(p('owned'), 'x', 0o640, { uid, gid });
    const st = await fs.stat(p('owned'));
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([uid, gid, 0o640]);
  });

  it('a failed rename (a directory in the way) leaves the directory and no temporary', async () => {
    await fs.mkdir(p('taken'));
    await expect(writeFileAtomic(p('taken'), 'x')).rejects.toMatchObject({ code: 'EISDIR' });
    expect(await names()).toEqual(['taken']);
    expect(await fs.readdir(p('taken'))).toEqual([]);
  });

  it('a directory that does not exist is the system’s error, with its path', async () => {
    await expect(writeFileAtomic(p('no', 'f'), 'x')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('links', () => {
  it('swapLink makes a missing link, and leaves one that already points there untouched', async () => {
    expect(await swapLink(p('current'), '1')).toEqual({ previous: null });
    expect(await fs.readlink(p('current'))).toBe('1');
    const before = await fs.lstat(p('current'));
    expect(await swapLink(p('current'), '1')).toEqual({ previous: '1' });
    expect((await fs.lstat(p('current'))).ino).toBe(before.ino);
  });

  it('swapLink refuses a real file where the link should be, and leaves it', async () => {
    await fs.writeFile(p('TV'), 'mine');
    await expect(swapLink(p('TV'), '/x')).rejects.toMatchObject({
      code: 'ELINKISDIR',
      message: `${p('TV')} is a real file where webtree keeps a link`,
    });
    expect(await fs.readFile(p('TV'), 'utf8')).toBe('mine');
  });

  it('renameLinkOver replaces a plain file by a link in one step and leaves no temporary', async () => {
    await fs.writeFile(p('des_tv.cfg'), 'server1');
    await renameLinkOver(p('des_tv.cfg'), 'active/des_tv.cfg');
    expect(await fs.readlink(p('des_tv.cfg'))).toBe('active/des_tv.cfg');
    expect(await names()).toEqual(['des_tv.cfg']);
  });

  it('renameLinkOver onto a directory fails and removes its temporary link', async () => {
    await fs.mkdir(p('d'));
    await fs.writeFile(p('d', 'keep'), 'k');
    await expect(renameLinkOver(p('d'), 'x')).rejects.toMatchObject({ code: 'EISDIR' });
    expect(await names()).toEqual(['d']);
    expect(await fs.readdir(p('d'))).toEqual(['keep']);
  });
});

describe('removeAside', () => {
  it('moves a tree to the trash name, then removes it: nothing is left under either name', async () => {
    await fs.mkdir(p('3', 'lib'), { recursive: true });
    await fs.writeFile(p('3', 'lib', 'a.py'), 'a');
    await removeAside(p('3'), p('.trash-3'));
    expect(await names()).toEqual([]);
  });

  it('removes a file or link in place, and leaves its target', async () => {
    await fs.writeFile(p('target'), 't');
    await fs.symlink(p('target'), p('link'));
    await removeAside(p('link'), p('.trash-link'));
    expect(await names()).toEqual(['target']);
  });

  it('with nothing at the path, finishes removing a trash left by an earlier cut', async () => {
    await fs.mkdir(p('.trash-3', 'half'), { recursive: true });
    await removeAside(p('3'), p('.trash-3'));
    expect(await names()).toEqual([]);
  });
});
