/**
 * Reading the tree without failing on what is not there: the state readers, the checks and the
 * executor all ask "what is at this path" and treat missing as an answer, not an error. Here, at
 * the lowest layer that reads the tree, so that readers need not import the executor's moves.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import fs from 'node:fs/promises';
import { isErrno } from '../core/errors.js';

export async function lstatOrNull(p: string) {
  try {
    return await fs.lstat(p);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null;
    throw err;
  }
}

export async function readLinkOrNull(p: string): Promise<string | null> {
  try {
    return await fs.readlink(p);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'EINVAL')) return null;
    throw err;
  }
}

export async function pathExists(p: string): Promise<boolean> {
  return (await lstatOrNull(p)) !== null;
}

/** lstatOrNull without the thread pool's round trip, for the readers that only read (src/state/tree.ts). */
export function lstatOrNullSync(p: string) {
  try {
    return lstatSync(p);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null;
    throw err;
  }
}

export function readLinkOrNullSync(p: string): string | null {
  try {
    return readlinkSync(p);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'EINVAL')) return null;
    throw err;
  }
}
