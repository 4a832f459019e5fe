/**
 * The reserve: a small file of real blocks in the state directory, given up when the disk is full
 * so that webtree can still take its lock, write its journal and its history entry. Without it
 * the fix a "disk is full" message names (`webtree prune`, `webtree rollback`) could not run on
 * the full disk that produced the message. It is made again, when there is room, as a changing
 * command releases its lock; reads never make it (reads change nothing).
 */
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { isErrno } from '../core/errors.js';

/** Enough for a lock, a journal of a few hundred operations, a history line and their directory blocks. */
export const RESERVE_BYTES = 512 * 1024;

export const reserveFile = (stateDir: string) => path.join(stateDir, 'reserve');

const isFull = (err: unknown) => isErrno(err, 'ENOSPC') || isErrno(err, 'EDQUOT');

/** Give the reserve up: true when there was one to give. */
export async function releaseReserve(stateDir: string): Promise<boolean> {
  try {
    await fs.unlink(reserveFile(stateDir));
    return true;
  } catch {
    return false;
  }
}

/**
 * Make the reserve when it is missing and there is room; never an error (a full disk, a state
 * directory this account may not write: the next command tries again). Written, not sparse:
 * zeros written are blocks the file system has really given.
 */
export async function ensureReserve(stateDir: string): Promise<void> {
  const file = reserveFile(stateDir);
  if (
    await fs.lstat(file).then(
      () => true,
      () => false,
    )
  )
    return;
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const fh = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      const chunk = Buffer.alloc(64 * 1024);
      for (let n = 0; n < RESERVE_BYTES; n += chunk.length) await fh.write(chunk);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
  } catch {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
  }
}

/**
 * Run a write to the state directory; when it meets a full disk, give up the reserve and run it
 * once more. `onUse` is told when the reserve was given up (to warn the operator).
 */
export async function withReserve<T>(stateDir: string, write: () => Promise<T>, onUse?: () => void): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!isFull(err) || !(await releaseReserve(stateDir))) throw err;
    onUse?.();
    return write();
  }
}
