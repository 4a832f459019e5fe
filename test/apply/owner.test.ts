/**
 * Whose files webtree makes: the service account looked up as the system knows it (the account
 * and its group are read from the system here too, never assumed), the refusal of one that does
 * not exist, and chownTree on a real tree. webtree's tests run as root (CI does), which is the
 * case where these decisions matter.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chownTree, ownerForThisProcess, primaryGroup, resolveOwner } from '../../src/apply/owner.js';
import { WebtreeError } from '../../src/core/errors.js';

const ACCOUNT = 'codemanager'; // installed by .ci/run (RULES: the account codemanager exists)
const id = (...args: string[]) =>
  execFileSync('id', [...args, ACCOUNT])
    .toString()
    .trim();
const account = () => ({ uid: Number(id('-u')), gid: Number(id('-g')), group: id('-gn') });
const MISSING = 'webtree-no-such-account';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-owner-'));
});
afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

describe('resolveOwner', () => {
  it('finds the uid and gid the system gives the account and its group', async () => {
    const a = account();
    expect(await resolveOwner(ACCOUNT, a.group)).toEqual({ uid: a.uid, gid: a.gid });
    expect(await resolveOwner('root', 'root')).toEqual({ uid: 0, gid: 0 });
  });

  it('refuses an account or a group that does not exist, naming both and how to make them', async () => {
    for (const [user, group] of [
      [MISSING, 'root'],
      ['root', MISSING],
    ]) {
      const e = await resolveOwner(user, group).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(WebtreeError);
      expect(e).toMatchObject({
        code: 'EPERM',
        message: `the service account ${user}:${group} does not exist on this host`,
      });
      expect((e as WebtreeError).hint).toBe(
        `create it (groupadd ${group}; useradd -g ${group} ${user}) or set apache.user/apache.group in the site file`,
      );
    }
  });
});

describe('primaryGroup', () => {
  it('is the name of the group /etc/passwd gives the account, undefined for an unknown account', async () => {
    expect(await primaryGroup(ACCOUNT)).toBe(account().group);
    expect(await primaryGroup('root')).toBe('root');
    expect(await primaryGroup(MISSING)).toBeUndefined();
  });
});

describe('ownerForThisProcess', () => {
  it('run as root, files go to the service account; as anyone else they stay the process owner’s', async () => {
    const a = account();
    const expected = process.geteuid?.() === 0 ? { uid: a.uid, gid: a.gid } : undefined;
    expect(await ownerForThisProcess(ACCOUNT, a.group)).toEqual(expected);
  });
});

describe('chownTree', () => {
  it('gives every file, directory and link of a tree to the owner, links themselves and not their targets', async () => {
    expect(process.geteuid?.()).toBe(0); // only root can give files away
    const a = account();
    const outside = path.join(dir, 'outside');
    await fs.writeFile(outside, 'not part of the tree');
    const tree = path.join(dir, 'tree');
    await fs.mkdir(path.join(tree, 'a/b'), { recursive: true });
    await fs.writeFile(path.join(tree, 'a/b/f'), 'f');
    await fs.writeFile(path.join(tree, 'top'), 't');
    await fs.symlink(outside, path.join(tree, 'a/link'));
    await chownTree(tree, { uid: a.uid, gid: a.gid });
    for (const rel of ['', 'a', 'a/b', 'a/b/f', 'top', 'a/link']) {
      const st = await fs.lstat(path.join(tree, rel));
      expect([rel, st.uid, st.gid]).toEqual([rel, a.uid, a.gid]);
    }
    const target = await fs.stat(outside);
    expect([target.uid, target.gid]).toEqual([0, 0]);
  });
});
