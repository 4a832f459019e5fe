/** The executor's link-over-file on real files: keeps the inode, is idempotent, and its undo restores the file. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { linkOverFile } from '../../src/apply/link-over-file.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-lof-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('linkOverFile', () => {
  it('hard-links the file as keep, replaces it by the link, and undoes exactly', async () => {
    const p = path.join(dir, 'settings.py');
    const keep = `${p}_server3`;
    await fs.writeFile(p, 'secret\n', { mode: 0o600 });
    const ino = (await fs.stat(p)).ino;
    await fs.symlink(keep, path.join(dir, 'slot'));
    const undo = await linkOverFile({ path: p, target: path.join(dir, 'slot'), keep });
    expect(await fs.readlink(p)).toBe(path.join(dir, 'slot'));
    expect((await fs.stat(p)).ino).toBe(ino);
    expect(await linkOverFile({ path: p, target: path.join(dir, 'slot'), keep })).toBeUndefined(); // done: recovery re-runs it harmlessly
    await undo!();
    const st = await fs.lstat(p);
    expect([st.isFile(), st.ino, st.mode & 0o777]).toEqual([true, ino, 0o600]);
    await expect(fs.lstat(keep)).rejects.toMatchObject({ code: 'ENOENT' }); // it made keep, so the undo removes it
  });

  it('refuses when keep exists with other bytes: the reader would see a change', async () => {
    const p = path.join(dir, 'settings.py');
    await fs.writeFile(p, 'a\n');
    await fs.writeFile(`${p}_server3`, 'b\n');
    await expect(linkOverFile({ path: p, target: '/x', keep: `${p}_server3` })).rejects.toMatchObject({
      code: 'EADOPT',
    });
    expect(await fs.readFile(p, 'utf8')).toBe('a\n');
  });
});
