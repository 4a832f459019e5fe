/**
 * The atomic file-system moves everything else is built from. Readers (Apache, the apps) must
 * never see a missing link or a half-written file: links are made under a temporary name and
 * renamed over the old one (rename(2) replaces a symlink itself, it never follows it), files
 * are written, fsync'd and renamed, and the directory is fsync'd so the rename survives a power cut.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { isErrno, WebtreeError } from '../core/errors.js';
import { lstatOrNull } from '../state/fs-read.js';

/**
 * The pid and a random part keep two writers apart; nothing depends on the name being
 * unguessable (it is created exclusively, in a directory only the service account writes).
 * Math.random, not node:crypto: loading crypto cost every read command ~20 ms of start-up.
 */
export const tempName = (p: string, tag: string) =>
  path.join(
    path.dirname(p),
    `.${path.basename(p)}.webtree-${tag}-${process.pid}-${Math.floor(Math.random() * 0x100000000)
      .toString(16)
      .padStart(8, '0')}`,
  );

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Point `link` at `target` in one rename. Refuses a real directory or file where the link should be. */
export async function swapLink(link: string, target: string): Promise<{ previous: string | null }> {
  const st = await lstatOrNull(link);
  if (st && !st.isSymbolicLink()) {
    throw new WebtreeError(
      'ELINKISDIR',
      `${link} is a real ${st.isDirectory() ? 'directory' : 'file'} where webtree keeps a link`,
      {
        hint: 'move it aside by hand (adopt leaves it alone), then run the command again: it makes the link',
      },
    );
  }
  const previous = st ? await fs.readlink(link) : null;
  if (previous === target) return { previous };
  await renameLinkOver(link, target);
  return { previous };
}

/**
 * The one way a link replaces what is at `at` (a link, or a plain file for adopt's link-over-file):
 * made under a temporary name and renamed over it, as rename(2) replaces the entry in one step
 * (readers see old or new, never nothing); the directory is fsync'd so the rename survives a power cut.
 */
export async function renameLinkOver(at: string, target: string): Promise<void> {
  const tmp = tempName(at, 'link');
  await fs.symlink(target, tmp);
  try {
    await fs.rename(tmp, at);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(at));
}

/** `owner`: given before the mode (a chown may clear set-id bits); one this process may not give is left as it is. */
export async function writeFileAtomic(
  file: string,
  /** Pieces are written one after another (a large text need not exist as one string). */
  content: string | Buffer | Iterable<string>,
  mode = 0o644,
  owner?: { uid: number; gid: number },
): Promise<void> {
  const tmp = tempName(file, 'write');
  const fh = await fs.open(tmp, 'wx', mode);
  try {
    try {
      if (typeof content === 'string' || Buffer.isBuffer(content)) await fh.writeFile(content);
      else for (const piece of content) await fh.write(piece);
      if (owner)
        await fh.chown(owner.uid, owner.gid).catch((err: unknown) => {
          if (!isErrno(err, 'EPERM')) throw err;
        });
      await fh.chmod(mode); // the umask must not decide an init script's execute bit
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    // A full disk must not leave the half-written temporary behind; and a write on a file
    // handle carries no path, which the operator needs to know where the space ran out.
    await fs.rm(tmp, { force: true });
    if (isErrno(err) && err.path === undefined) err.path = file;
    throw err;
  }
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(file));
}

/** Remove a tree by first renaming it aside, so a crash never leaves half a version under its real name. */
export async function removeAside(p: string, trash: string): Promise<void> {
  const st = await lstatOrNull(p);
  if (st) {
    if (st.isDirectory()) {
      await fs.rename(p, trash);
      await fsyncDir(path.dirname(p));
    } else {
      await fs.rm(p, { force: true });
      await fsyncDir(path.dirname(p));
      return;
    }
  }
  await fs.rm(trash, { recursive: true, force: true });
}

/**
 * mkdir -p, the one way webtree makes directories (the executor's make-dir, init). It reports
 * the real reason: Node's recursive mkdir says ENOENT on a read-only file system (and names the
 * wrong path), so each missing level is made on its own and a failure carries its own code
 * (EROFS, EACCES, ENOSPC) and path. Like mkdir -p it refuses a path taken by something that is
 * not a directory (EEXIST, naming the path; a file halfway up fails with the kernel's ENOTDIR),
 * and accepts a link to a directory. Returns the first directory made.
 */
export async function makeDirs(dir: string, mode: number): Promise<string | undefined> {
  const missing: string[] = [];
  for (let d = path.resolve(dir); (await lstatOrNull(d)) === null; d = path.dirname(d)) {
    missing.unshift(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      await fs.mkdir(d, { mode });
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
    }
  }
  // Asked after the loop, so that a file put there meanwhile (or one that was there) is refused too.
  // A link into a place the account may not enter fails as the system says (EACCES, explained at the boundary).
  // A link to nothing (or a path moved meanwhile) fails as stat says (ENOENT, which the executor names).
  const st = await fs.stat(dir);
  if (!st.isDirectory()) throw notADirectory(path.resolve(dir), '');
  return missing[0];
}

/** Shaped like the system's own error (code, syscall, path), so that every caller's handling of it holds. */
function notADirectory(p: string, why: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`EEXIST: ${p} exists and is not a directory${why}, mkdir '${p}'`), {
    code: 'EEXIST',
    errno: -17,
    syscall: 'mkdir',
    path: p,
  });
}
