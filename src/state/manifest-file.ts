/**
 * The manifest file in webtree's state: written after an unpack, read by every plan for the
 * archive's sha256. Its writer and its reader stay together here (the reader relies on the
 * writer's key order), and light: status loads this, not the archive code.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { isErrno } from '../core/errors.js';
import { moveAsideCommand } from '../core/attic.js';
import {
  DamagedFileError,
  isNat,
  isNonEmptyStr,
  isObj,
  isStr,
  kindOf,
  optional,
  readStateJson,
  type FieldCheck,
  type StateFileSpec,
} from '../core/state-file.js';
import type { Manifest, ManifestFile } from '../archive/manifest.js';

/**
 * A manifest file's text. The archive's sha256 comes before the file list, so that
 * peekArchiveSha256 needs only the head of the file: planning an install does not parse the file
 * lists of every version (DESIGN's product has 8,000 files).
 */
export const manifestText = (product: string, version: string, m: Manifest, installedAt = new Date().toISOString()) =>
  JSON.stringify({ product, version, installedAt, archiveSha256: m.archiveSha256, files: m.files });

/** Characters per piece of manifestPieces: a few hundred files' worth. */
const PIECE = 64 * 1024;

/**
 * The same text as manifestText, byte for byte, in pieces to write one after another: a version
 * of 100,000 files makes a text of 13 MB, which as one string (and its UTF-8 copy on the way to
 * the file) was the install's peak memory at 1 GiB.
 */
export function* manifestPieces(
  product: string,
  version: string,
  /** The files in their order (sorted by path): an array, or entries made as they are taken. */
  m: { archiveSha256: string; files: Iterable<ManifestFile> },
  installedAt = new Date().toISOString(),
): Generator<string> {
  const head = JSON.stringify({ product, version, installedAt, archiveSha256: m.archiveSha256, files: [] });
  // The head without its closing "]}": the files follow, then those two characters.
  let piece = head.slice(0, -2);
  let first = true;
  for (const f of m.files) {
    piece += (first ? '' : ',') + JSON.stringify({ path: f.path, size: f.size, sha256: f.sha256, mode: f.mode });
    first = false;
    if (piece.length >= PIECE) {
      yield piece;
      piece = '';
    }
  }
  yield piece + ']}';
}

const isFileEntry: FieldCheck = (v) => {
  const f = v as Record<string, unknown>;
  return isObj(v) && typeof f.path === 'string' && isNat(f.size) && typeof f.sha256 === 'string' && isNat(f.mode);
};
const MANIFEST_FIELDS: Record<string, FieldCheck> = {
  product: optional(isStr),
  version: optional(isStr),
  archiveSha256: isNonEmptyStr,
  files: (v) => Array.isArray(v) && v.every(isFileEntry),
};

/**
 * A damaged manifest's fix: the version's files are still there; adopt records them as they are
 * now once the damaged manifest is out of the way (or the version is installed again).
 */
export function manifestSpec(file: string, stateDir: string, what: string): StateFileSpec {
  return {
    what: `the manifest of ${what}`,
    // Made only when an error says it: a plan reads the manifest of every version, and the dated
    // name of each (moveAsideCommand) was most of that reading's time (docs/benchmarks.md, session 8).
    get fix() {
      return `move it aside (${moveAsideCommand(file, stateDir)}), then \`webtree adopt\` records the version's files as they are now (\`webtree verify\` first shows whether they were changed)`;
    },
  };
}

/** The whole manifest, checked (verify); undefined when there is none. */
export async function readManifestFile(file: string, spec: StateFileSpec): Promise<Manifest | undefined> {
  return readStateJson<Manifest>(file, spec, MANIFEST_FIELDS);
}

const HEAD =
  /^\{"product":"[^"\\]*","version":"[^"\\]*","installedAt":"[^"\\]*","archiveSha256":"([^"\\]+)","files":\[/;

/**
 * The archive sha256 a manifest records (or "adopted"), from its head and its last bytes: a file
 * that webtree wrote begins with the head and ends with "]}", so a truncated one is caught
 * without parsing the file lists of every version (DESIGN's product has 8,000 files). Anything
 * else is parsed and checked whole. undefined when there is no manifest; damage throws a
 * DamagedFileError naming the file and the fix.
 */
export async function peekArchiveSha256(file: string, spec: StateFileSpec): Promise<string | undefined> {
  const sha = peekArchiveSha256Sync(file, spec);
  if (sha !== undefined) return sha ?? undefined;
  return (await readManifestFile(file, spec))?.archiveSha256;
}

/**
 * peekArchiveSha256's look at the head and the tail, made with the synchronous calls: the sha256,
 * null when there is no manifest, undefined when the whole file is to be read and checked (the
 * async reader). A plan reads the manifest of every installed version of every product: one after
 * another through libuv's pool, each costing five round trips, they were a good part of an install's
 * time before its unpack (hundreds of versions; docs/benchmarks.md, session 8).
 */
export function peekArchiveSha256Sync(file: string, spec: StateFileSpec): string | null | undefined {
  const bad = (problem: string) => new DamagedFileError(file, spec.what, problem, spec.fix);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null;
    // The whole reader names every other failure (permission, a loop) in the same words.
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw bad(`is ${kindOf(st)}, not a file`);
    if (st.size === 0) throw bad('is empty');
    const head = Buffer.alloc(Math.min(1024, st.size));
    const bytesRead = readSync(fd, head, 0, head.length, 0);
    const tail = Buffer.alloc(2);
    readSync(fd, tail, 0, 2, Math.max(0, st.size - 2));
    const m = HEAD.exec(head.toString('utf8', 0, bytesRead));
    if (m && !head.includes(0) && tail.toString('latin1') === ']}') return m[1];
  } finally {
    closeSync(fd);
  }
  return undefined;
}
