/**
 * What an installed version holds, file by file, so that `verify` can tell whether anyone has
 * touched it since. Directories are implied by the files' paths and not recorded.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Stats } from 'node:fs';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { WebtreeError } from '../core/errors.js';
import { TableBuilder, verifyTable, what, type ManifestTable } from './verify-files.js';

export interface ManifestFile {
  /** Relative to the version directory, '/'-separated. */
  path: string;
  size: number;
  sha256: string;
  /** Permission bits (mode & 0o7777). */
  mode: number;
}

export interface Manifest {
  archiveSha256: string;
  /** Sorted by path (plain code-unit order). */
  files: ManifestFile[];
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  // 1 MiB reads: with the default 64 KiB, the thread pool's round trips cost more than the hashing.
  await pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), hash);
  return hash.digest('hex');
}

/**
 * Every path under dir with its lstat, directories first-visited, in sorted order. Synchronous:
 * thousands of lstat calls cost milliseconds this way, far more as promises; the hashing that
 * follows is what reads the files.
 */
function walkSync(dir: string, visit: (rel: string, st: Stats) => void, rel = ''): void {
  const names = readdirSync(rel === '' ? dir : join(dir, rel)).sort();
  for (const name of names) {
    const p = rel === '' ? name : `${rel}/${name}`;
    const st = lstatSync(join(dir, p));
    visit(p, st);
    if (st.isDirectory()) walkSync(dir, visit, p);
  }
}

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * Streams every file under dir. Anything but regular files and directories is refused: an
 * installed version holds nothing else, and a manifest that skipped it would hide it.
 */
export async function buildManifest(dir: string, archiveSha256: string): Promise<Manifest> {
  const files: ManifestFile[] = [];
  walkSync(dir, (p, st) => {
    if (st.isDirectory()) return;
    if (!st.isFile()) throw notAFile(join(dir, p), st);
    files.push({ path: p, size: st.size, sha256: '', mode: st.mode & 0o7777 });
  });
  for (const f of files) f.sha256 = await sha256File(join(dir, f.path));
  return { archiveSha256, files: files.sort(byPath) };
}

/**
 * The manifest of a tree this process has just unpacked and checked (extract.ts): the files with
 * the hashes taken as they were written, plus the few written into it since (add-file,
 * copy-file), which are read and hashed. No second walk of thousands of files.
 */
export async function manifestOfUnpacked(
  dir: string,
  archiveSha256: string,
  unpacked: ManifestFile[],
  rewritten: Set<string>,
): Promise<Manifest> {
  // In place, no second map of 100,000 entries: the unpacked list is not used after this.
  const files = rewritten.size === 0 ? unpacked : unpacked.filter((f) => !rewritten.has(f.path));
  for (const rel of rewritten) {
    const st = lstatSync(join(dir, rel));
    if (!st.isFile()) throw notAFile(join(dir, rel), st);
    files.push({ path: rel, size: st.size, sha256: await sha256File(join(dir, rel)), mode: st.mode & 0o7777 });
  }
  return { archiveSha256, files: files.sort(byPath) };
}

/**
 * The first entry under dir that a manifest cannot record (a symbolic link, a FIFO …), said as
 * buildManifest would refuse it; undefined when there is none. adopt --dry-run asks this, so
 * that it predicts what adopt itself will refuse.
 */
export function firstNotAFile(dir: string): string | undefined {
  let found: string | undefined;
  try {
    walkSync(dir, (p, st) => {
      if (found === undefined && !st.isDirectory() && !st.isFile()) found = notAFile(join(dir, p), st).message;
    });
  } catch (err) {
    return `cannot read ${dir}: ${(err as Error).message}`;
  }
  return found;
}

function notAFile(p: string, st: Stats): WebtreeError {
  return new WebtreeError('EIO', `cannot record ${p} in a manifest: it is ${what(st)}`, {
    hint: 'An installed version holds only regular files and directories; move it aside and retry.',
  });
}

/** Findings, one line each, naming the file and what differs; [] when dir matches m exactly. */
export async function verifyManifest(dir: string, m: Manifest): Promise<string[]> {
  return verifyTable(dir, tableOf(m));
}

/** A manifest's file list as verify's table (verify-files.ts). */
export function tableOf(m: Manifest): ManifestTable {
  const b = new TableBuilder();
  for (const f of m.files) b.add(f.path, f.size, f.sha256, f.mode);
  return b.table(m.archiveSha256);
}
