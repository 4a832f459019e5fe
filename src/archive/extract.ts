/**
 * Safe unpacking of an untrusted .tar / .tar.gz into an empty staging directory.
 *
 * Pass one (list.ts) reads everything and refuses before a byte is written; pass two unpacks
 * with node-tar's UnpackSync, re-checking every entry as it goes; finally check-tree.ts walks
 * what landed on disk. Only regular files and directories are ever created, so no link exists
 * for a later entry to write through, and every name is a plain relative path without "..":
 * nothing can land outside dest, not even for a moment. UnpackSync rather than Unpack: its file
 * system calls finish inside each write, so when we stop on a refusal nothing is still in
 * flight that could race the caller's removal of the staging directory.
 */
import { lstat, readdir } from 'node:fs/promises';
import { UnpackSync, type ReadEntry } from 'tar';
import type { Stats } from 'node:fs';
import { WebtreeError } from '../core/errors.js';
import type { Limits } from '../site/types.js';
import { checkTree } from './check-tree.js';
import { PARSER_OPTIONS, Pass, listArchive, strip, type Listing } from './list.js';
import { refuseEntry } from './names.js';
import { openArchive, type ArchiveSource } from './source.js';

export interface ExtractResult {
  /** Files and directories created under dest. */
  entries: number;
  /** Sum of the sizes of the files created. */
  bytes: number;
  /** The archive's single top-level directory, when it was stripped. */
  strippedTop?: string;
}

export async function extractArchive(
  archive: string,
  dest: string,
  opts: { limits: Limits; layout: 'single-top' | 'any'; owner?: { uid: number; gid: number }; signal?: AbortSignal },
): Promise<ExtractResult> {
  await checkDest(dest);
  const src = await openArchive(archive);
  try {
    const listing = await listArchive(src, opts.limits, opts.layout);
    await unpack(src, dest, listing, opts.limits, opts.owner);
    await checkTree(dest, listing, src.name);
    const result: ExtractResult = { entries: listing.entries, bytes: listing.bytes };
    if (listing.top !== undefined) result.strippedTop = listing.top;
    return result;
  } finally {
    await src.close();
  }
}

/** The staging directory must be a real, empty directory: a link there would redirect everything. */
async function checkDest(dest: string): Promise<void> {
  let st;
  try {
    st = await lstat(dest);
  } catch (err) {
    throw new WebtreeError('EIO', `staging directory ${dest} cannot be used: ${(err as Error).message}`, { cause: err });
  }
  if (!st.isDirectory()) throw new WebtreeError('EIO', `staging directory ${dest} is not a directory (or is a symbolic link)`);
  if ((await readdir(dest)).length > 0) throw new WebtreeError('EIO', `staging directory ${dest} is not empty`);
}

async function unpack(src: ArchiveSource, dest: string, listing: Listing, limits: Limits, owner?: { uid: number; gid: number }): Promise<void> {
  const pass = new Pass(src, limits);
  const filter = (_path: string, e: ReadEntry | Stats): boolean => {
    const entry = e as ReadEntry;
    const a = pass.crossCheck(entry);
    if (!a) {
      unpacker.abort(pass.failure as Error);
      return false;
    }
    const rel = strip(a.rel, listing.top);
    // The root ("./") and the stripped top directory are dest itself, which we leave alone.
    if (rel === '') return false;
    if (!listing.tree.has(rel)) {
      pass.fail(refuseEntry(entry.path, 'was not in the archive when it was listed (the file changed while being read)'));
      unpacker.abort(pass.failure as Error);
      return false;
    }
    entry.path = rel;
    entry.mode = a.mode;
    return true;
  };
  const unpacker = new UnpackSync({
    ...PARSER_OPTIONS,
    cwd: dest,
    preserveOwner: false,
    // Run as root, files are the service account's from the start: a root install killed midway
    // must not leave a staging tree the account cannot remove.
    ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
    unlink: true,
    maxDepth: limits.maxDepth,
    // Modes for directories node-tar creates on its own (parents missing from the archive),
    // so that a umask of 000 cannot leave them world-writable.
    dmode: 0o755,
    fmode: 0o644,
    filter,
  });
  await pass.run(unpacker);
}
