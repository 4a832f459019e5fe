/**
 * What an installed version holds, file by file, so that `verify` can tell whether anyone has
 * touched it since. Directories are implied by the files' paths and not recorded.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Stats } from 'node:fs';
import { lstatSync, readdirSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { WebtreeError, isErrno } from '../core/errors.js';
import { hashFiles } from './hash-pool.js';

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

function what(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
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
  try {
    const st = await lstat(dir);
    if (!st.isDirectory()) return [`${dir} is ${what(st)}, not a directory`];
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [`${dir} is missing`];
    throw err;
  }
  const out: string[] = [];
  const listed = new Map(m.files.map((f) => [f.path, f]));
  const found = new Set<string>();
  const entries: [string, Stats][] = [];
  walkSync(dir, (p, st) => void entries.push([p, st]));
  // The contents are hashed first, all at once on several threads (hash-pool.ts), then the
  // findings are told in the walk's order.
  const toHash = entries
    .filter(([p, st]) => st.isFile() && listed.get(p)?.size === st.size)
    .map(([p, st]) => ({ path: join(dir, p), size: st.size, rel: p }));
  const hashes = new Map((await hashFiles(toHash)).map((r, i) => [toHash[i].rel, r]));
  for (const [p, st] of entries) {
    const f = listed.get(p);
    if (st.isDirectory()) {
      if (f) {
        out.push(`${p}: is a directory, the manifest has a file`);
        found.add(p);
      }
      continue;
    }
    if (!st.isFile()) {
      out.push(`${p}: ${what(st)}, not a regular file`);
      if (f) found.add(p);
      continue;
    }
    if (!f) {
      out.push(`${p}: extra file, not in the manifest`);
      continue;
    }
    found.add(p);
    const h = hashes.get(p);
    if (st.size !== f.size) out.push(`${p}: size changed (${f.size} bytes in the manifest, ${st.size} now)`);
    else if (h && 'error' in h) out.push(`${p}: cannot be read (${h.error})`);
    else if (h?.sha256 !== f.sha256) out.push(`${p}: content changed (sha256 differs)`);
    const mode = st.mode & 0o7777;
    if (mode !== f.mode)
      out.push(`${p}: mode changed (${f.mode.toString(8)} in the manifest, ${mode.toString(8)} now)`);
  }
  for (const f of m.files) {
    if (!found.has(f.path)) out.push(`${f.path}: missing`);
  }
  return out;
}
