/**
 * The one move adopt needs that swapLink refuses on purpose: a plain file (ECL's settings.py as
 * the guide leaves it) replaced by a link. Readers must see the same bytes at every instant, and
 * the file itself must survive: settings.py may hold a database password and be mode 0600, so a
 * copy (new owner, mode 0644) would leak it. Hence: hard-link the file under its variant name
 * first (same inode), then rename a prepared symlink over it in one step.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, renameLinkOver, tempName } from './fsatomic.js';
import { lstatOrNull } from '../state/fs-read.js';
import { WebtreeError } from '../core/errors.js';

export interface LinkOverFile {
  path: string;
  target: string;
  keep: string;
}

async function sameBytes(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([fs.readFile(a), fs.readFile(b)]);
  return x.equals(y);
}

/** Done when the link is there; returns how to put the plain file back (or undefined if nothing changed). */
export async function linkOverFile(op: LinkOverFile): Promise<(() => Promise<void>) | undefined> {
  const st = await lstatOrNull(op.path);
  if (st?.isSymbolicLink() && (await fs.readlink(op.path)) === op.target) return undefined; // finished before (recovery)
  if (!st?.isFile()) {
    throw new WebtreeError('EADOPT', `${op.path} is no longer the plain file adopt planned for`, {
      hint: 'someone changed it meanwhile: run webtree adopt again',
    });
  }
  const kept = await lstatOrNull(op.keep);
  let made = false;
  if (!kept) {
    await fs.link(op.path, op.keep);
    await fsyncDir(path.dirname(op.keep));
    made = true;
  } else if (!(kept.ino === st.ino && kept.dev === st.dev) && !(await sameBytes(op.path, op.keep))) {
    throw new WebtreeError(
      'EADOPT',
      `${op.keep} exists and differs from ${op.path}: replacing ${op.path} would change what the app reads`,
      {
        hint: 'decide which file is right, remove the other, then run webtree adopt again',
      },
    );
  }
  await renameLinkOver(op.path, op.target);
  return async () => {
    const back = tempName(op.path, 'undo');
    await fs.link(op.keep, back);
    await fs.rename(back, op.path);
    if (made) await fs.rm(op.keep, { force: true });
    await fsyncDir(path.dirname(op.path));
  };
}
