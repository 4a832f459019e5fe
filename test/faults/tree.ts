/**
 * For the fault tests: a small tmpfs under a sandbox's directory (root only), a filler that
 * leaves a given amount of it free, and a listing of a tree to compare before and after a
 * command that must change nothing.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

/**
 * Put `dir` on a tmpfs of `size` bytes of its own, at the same path, with its content, owner and
 * mode: links into it stay valid. Returns the unmount, to call in afterAll even when a test failed.
 */
export async function moveOntoTmpfs(dir: string, size: number): Promise<() => Promise<void>> {
  const st = await fs.stat(dir);
  const before = `${dir}.before-tmpfs`;
  await fs.rename(dir, before);
  await fs.mkdir(dir);
  const mode = (st.mode & 0o7777).toString(8);
  await execa('mount', [
    '-t',
    'tmpfs',
    '-o',
    `size=${size},mode=${mode},uid=${st.uid},gid=${st.gid}`,
    'webtree-test',
    dir,
  ]);
  const unmount = async () => {
    const r = await execa('umount', [dir], { reject: false });
    if (r.exitCode !== 0) await execa('umount', ['-l', dir], { reject: false });
  };
  try {
    await execa('cp', ['-a', `${before}/.`, `${dir}/`]);
    await fs.rm(before, { recursive: true, force: true });
  } catch (err) {
    await unmount();
    throw err;
  }
  return unmount;
}

/** Bytes free on the file system of `dir`, as statfs(2) tells an unprivileged writer. */
export async function freeBytes(dir: string): Promise<number> {
  const s = await fs.statfs(dir);
  return s.bavail * s.bsize;
}

/** Fill the file system of `dir` with `file` until only `leave` bytes (whole pages) are free. */
export async function fillLeaving(file: string, leave: number): Promise<void> {
  await fs.rm(file, { force: true });
  // dd stops at ENOSPC (exit 1): the file system is then full to the last page.
  await execa('dd', ['if=/dev/zero', `of=${file}`, 'bs=64k'], { reject: false });
  const size = (await fs.stat(file)).size;
  await fs.truncate(file, Math.max(0, size - leave));
}

/**
 * One line per entry under `root` (kind, mode, owner, size and mtime of files, target of links),
 * sorted, skipping `except` (relative paths). Directory times are left out: a staging directory
 * made and removed again changes its parent's mtime and nothing a reader sees.
 */
export async function listing(root: string, except: string[] = []): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const name of (await fs.readdir(dir)).sort()) {
      const p = path.join(dir, name);
      const rel = path.relative(root, p);
      if (except.includes(rel)) continue;
      const st = await fs.lstat(p);
      const who = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isSymbolicLink()) out.push(`${rel} -> ${await fs.readlink(p)} ${who}`);
      else if (st.isDirectory()) {
        out.push(`${rel}/ ${who}`);
        await walk(p);
      } else out.push(`${rel} ${who} ${st.size} ${st.mtimeMs}`);
    }
  };
  await walk(root);
  return out;
}
