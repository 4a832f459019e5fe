/**
 * verify's comparison of a version directory with its manifest. The manifest comes as a table
 * (paths, sizes, modes, 32-byte digests in flat arrays: 100,000 entries as a few buffers, not
 * 100,000 objects), the directory is walked by its directory entries' types (no lstat per file),
 * and each listed file is then opened once by a hashing thread (hash-sync.ts), which takes its
 * size and mode from the open descriptor and reads it only when the size is the manifest's.
 * Findings are told in the walk's order, then the missing files in the manifest's.
 */
import type { Dirent, Stats } from 'node:fs';
import { readdirSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../core/errors.js';
import { checkFiles, JOB_BYTES, JOB_FILES, warmHashPool } from './hash-pool.js';
import { CONTENT, GONE, NOT_FILE, SIZE, UNREADABLE, type CheckRequest } from './hash-sync.js';

/** A manifest's file list, column by column, in the manifest's order. */
export interface ManifestTable {
  archiveSha256: string;
  paths: string[];
  sizes: number[];
  /** Permission bits as recorded (mode & 0o7777 when webtree wrote them). */
  modes: number[];
  /** 32 bytes per file. */
  digests: Uint8Array;
  /** 1 where the recorded sha256 is 64 lower-case hex digits, the only kind a file's hash can equal. */
  known: Uint8Array;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Builds a table one entry at a time (the manifest reader's streaming parse, or a Manifest). */
export class TableBuilder {
  private digests = new Uint8Array(32 * 1024);
  private known = new Uint8Array(1024);
  readonly paths: string[] = [];
  readonly sizes: number[] = [];
  readonly modes: number[] = [];

  add(path: string, size: number, sha256: string, mode: number): void {
    const i = this.next(path, size, mode);
    if (HEX64.test(sha256)) {
      Buffer.from(this.digests.buffer, this.digests.byteOffset, this.digests.length).write(sha256, i * 32, 32, 'hex');
      this.known[i] = 1;
    }
  }

  /** An entry whose sha256 is already bytes. */
  addDigest(path: string, size: number, digest: Uint8Array, mode: number): void {
    const i = this.next(path, size, mode);
    this.digests.set(digest, i * 32);
    this.known[i] = 1;
  }

  private next(path: string, size: number, mode: number): number {
    const i = this.paths.length;
    if (i === this.known.length) {
      const d = new Uint8Array(this.digests.length * 2);
      d.set(this.digests);
      this.digests = d;
      const k = new Uint8Array(this.known.length * 2);
      k.set(this.known);
      this.known = k;
    }
    this.paths.push(path);
    this.sizes.push(size);
    this.modes.push(mode);
    return i;
  }

  table(archiveSha256: string): ManifestTable {
    const n = this.paths.length;
    return {
      archiveSha256,
      paths: this.paths,
      sizes: this.sizes,
      modes: this.modes,
      digests: this.digests.subarray(0, n * 32),
      known: this.known.subarray(0, n),
    };
  }
}

type Kinded = Pick<
  Stats,
  'isSymbolicLink' | 'isDirectory' | 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice'
>;

/** What an entry that is not a regular file is, in a finding's words. */
export function what(st: Kinded): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** The same words from an st_mode's type bits (a hashing thread's fstat or lstat). */
function whatMode(mode: number): string {
  const t = mode & 0o170000;
  return what({
    isSymbolicLink: () => t === 0o120000,
    isDirectory: () => t === 0o040000,
    isFIFO: () => t === 0o010000,
    isSocket: () => t === 0o140000,
    isCharacterDevice: () => t === 0o020000,
    isBlockDevice: () => t === 0o060000,
  });
}

const byName = (a: Dirent, b: Dirent) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The walk's result: the listed regular files to check, in order, and what it found on the way. */
interface Walked {
  slots: string[];
  index: number[];
  /** [the number of slots before it, the finding]. */
  notes: [number, string][];
  found: Uint8Array;
}

/** Every entry under dir, names sorted in each directory, a directory before what it holds. */
function walk(dir: string, t: ManifestTable, listed: Map<string, number>): Walked {
  const w: Walked = { slots: [], index: [], notes: [], found: new Uint8Array(t.paths.length) };
  const note = (s: string) => void w.notes.push([w.slots.length, s]);
  const visit = (rel: string) => {
    const entries = readdirSync(rel === '' ? dir : join(dir, rel), { withFileTypes: true }).sort(byName);
    for (const e of entries) {
      const p = rel === '' ? e.name : `${rel}/${e.name}`;
      const i = listed.get(p);
      if (e.isDirectory()) {
        if (i !== undefined) {
          note(`${p}: is a directory, the manifest has a file`);
          w.found[i] = 1;
        }
        visit(p);
      } else if (!e.isFile()) {
        note(`${p}: ${what(e)}, not a regular file`);
        if (i !== undefined) w.found[i] = 1;
      } else if (i === undefined) note(`${p}: extra file, not in the manifest`);
      else {
        w.found[i] = 1;
        w.slots.push(t.paths[i]); // the table's own string (the same text): p is dropped at once
        w.index.push(i);
      }
    }
  };
  visit('');
  return w;
}

const shared = <T>(make: new (b: SharedArrayBuffer) => T, bytes: number): T => new make(new SharedArrayBuffer(bytes));

/** The slots with their entries, cut into jobs of about JOB_BYTES (by the manifest's sizes) or JOB_FILES files. */
function requestOf(dir: string, t: ManifestTable, w: Walked): CheckRequest {
  const n = w.slots.length;
  const req: CheckRequest = {
    dir: join(dir),
    paths: w.slots,
    sizes: shared(Float64Array, 8 * n),
    digests: shared(Uint8Array, 32 * n),
    known: shared(Uint8Array, n),
    ends: new Int32Array(0),
    next: shared(Int32Array, 4),
    status: shared(Uint8Array, n),
    sizesNow: shared(Float64Array, 8 * n),
    modesNow: shared(Float64Array, 8 * n),
  };
  const ends: number[] = [];
  let bytes = 0;
  for (let k = 0; k < n; k++) {
    const i = w.index[k];
    req.sizes[k] = t.sizes[i];
    for (let b = 0; b < 32; b++) req.digests[k * 32 + b] = t.digests[i * 32 + b];
    req.known[k] = t.known[i];
    bytes += t.sizes[i];
    if (bytes >= JOB_BYTES || (ends.length ? k + 1 - ends[ends.length - 1] : k + 1) >= JOB_FILES || k === n - 1) {
      ends.push(k + 1);
      bytes = 0;
    }
  }
  req.ends = Int32Array.from(ends);
  return req;
}

/** Findings, one line each, naming the file and what differs; [] when dir matches t exactly. */
export async function verifyTable(dir: string, t: ManifestTable): Promise<string[]> {
  try {
    const st = await lstat(dir);
    if (!st.isDirectory()) return [`${dir} is ${what(st)}, not a directory`];
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [`${dir} is missing`];
    throw err;
  }
  if (t.paths.length > JOB_FILES) warmHashPool();
  const listed = new Map<string, number>();
  for (let i = 0; i < t.paths.length; i++) listed.set(t.paths[i], i);
  const w = walk(dir, t, listed);
  const req = requestOf(dir, t, w);
  const errors = await checkFiles(req);
  const out: string[] = [];
  let note = 0;
  for (let k = 0; k < w.slots.length; k++) {
    while (note < w.notes.length && w.notes[note][0] <= k) out.push(w.notes[note++][1]);
    const p = w.slots[k];
    const i = w.index[k];
    const status = req.status[k];
    if (status === NOT_FILE) {
      out.push(`${p}: ${whatMode(req.modesNow[k])}, not a regular file`);
      continue;
    }
    if (status === GONE) {
      out.push(`${p}: cannot be read (${errors[k]})`);
      continue;
    }
    if (status === SIZE) out.push(`${p}: size changed (${t.sizes[i]} bytes in the manifest, ${req.sizesNow[k]} now)`);
    else if (status === UNREADABLE) out.push(`${p}: cannot be read (${errors[k]})`);
    else if (status === CONTENT) out.push(`${p}: content changed (sha256 differs)`);
    const mode = req.modesNow[k] & 0o7777;
    if (mode !== t.modes[i])
      out.push(`${p}: mode changed (${t.modes[i].toString(8)} in the manifest, ${mode.toString(8)} now)`);
  }
  while (note < w.notes.length) out.push(w.notes[note++][1]);
  for (let i = 0; i < t.paths.length; i++) if (!w.found[listed.get(t.paths[i])!]) out.push(`${t.paths[i]}: missing`);
  return out;
}
