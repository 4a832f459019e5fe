/**
 * verify's check of files against their manifest entries, synchronously, on whichever thread
 * calls it (a hash pool thread, or the main thread taking its share). Each file is opened once
 * (O_NOFOLLOW, O_NONBLOCK: a link or a FIFO put there since the walk is told by its type, never
 * followed or waited on), its type, size and mode taken from the open descriptor (no lstat by
 * path), and read only when its size is the manifest's, in 1 MiB reads into one reused buffer.
 * The entries and the answers are numbers in shared typed arrays: nothing is copied but paths.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';

/**
 * The files to check, in the walk's order, with the manifest's entry of each, cut into jobs of
 * a few MiB. The typed arrays lie in shared memory: the pool's threads read the entries and write
 * their answers in place, so that nothing but the paths is copied between threads.
 */
export interface CheckRequest {
  /** The version directory, normalised (path.join); the paths are relative to it. */
  dir: string;
  paths: string[];
  /** The manifest's size of each file. */
  sizes: Float64Array;
  /** The manifest's sha256 of each file, 32 bytes each. */
  digests: Uint8Array;
  /** 1 where the manifest's sha256 is 64 lower-case hex digits; anything else matches no file. */
  known: Uint8Array;
  /** Where each job ends (the next one's first file). */
  ends: Int32Array;
  /** The next job to take: every thread takes from it (Atomics.add). */
  next: Int32Array;
  /** The answers: one of the codes below per file, its size and st_mode (type bits included) now. */
  status: Uint8Array;
  sizesNow: Float64Array;
  modesNow: Float64Array;
}

/** The file is as its entry says (its mode aside: compared by the caller). */
export const SAME = 0;
/** Read whole, and its sha256 differs. */
export const CONTENT = 1;
/** Its size differs from the manifest's: not read. */
export const SIZE = 2;
/** It could not be opened or read (its error code says why); size and mode are its lstat's. */
export const UNREADABLE = 3;
/** It is no regular file any more (a link, a FIFO … put there since the walk); mode has the type bits. */
export const NOT_FILE = 4;
/** It could neither be opened nor lstat'ed (gone since the walk); its error code says why. */
export const GONE = 5;

let buf: Buffer | undefined;
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

const codeOf = (err: unknown) => (err as NodeJS.ErrnoException).code ?? String(err);

function sameDigest(d: Buffer, want: Uint8Array, at: number): boolean {
  for (let k = 0; k < 32; k++) if (d[k] !== want[at + k]) return false;
  return true;
}

/** crypto.hash (Node 20.12): one call for a file read in one piece, no Hash object per file. */
const oneShot = (crypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash;

/** The sha256 of an open file of `size` bytes (as fstat said), read into buf. */
function hashOpen(fd: number, size: number, buf: Buffer): Buffer {
  let r = fs.readSync(fd, buf, 0, buf.length, null);
  // A short read of a regular file at or past its size is its end: no read to see 0 bytes.
  if (r < buf.length && r >= size && oneShot) return oneShot('sha256', buf.subarray(0, r), 'buffer');
  const h = crypto.createHash('sha256');
  for (let got = 0; r > 0; r = fs.readSync(fd, buf, 0, buf.length, null)) {
    h.update(buf.subarray(0, r));
    got += r;
    if (r < buf.length && got >= size) break;
  }
  return h.digest();
}

/** Checks files [from, to) of the request; the error codes of the UNREADABLE and GONE ones go in errors. */
function checkRange(job: CheckRequest, from: number, to: number, errors: Record<number, string>): void {
  buf ??= Buffer.allocUnsafeSlow(1024 * 1024);
  const out = { status: job.status, sizes: job.sizesNow, modes: job.modesNow, errors };
  const prefix = job.dir === '/' ? '/' : `${job.dir}/`;
  for (let i = from; i < to; i++) {
    const p = prefix + job.paths[i];
    let fd = -1;
    try {
      fd = fs.openSync(p, OPEN_FLAGS);
    } catch (err) {
      // Unreadable (EACCES) or no longer a file (ELOOP: a link): the entry's lstat tells which.
      const st = fs.lstatSync(p, { throwIfNoEntry: false });
      if (!st) {
        out.status[i] = GONE;
        out.errors[i] = codeOf(err);
        continue;
      }
      out.sizes[i] = st.size;
      out.modes[i] = st.mode;
      if (!st.isFile()) out.status[i] = NOT_FILE;
      else if (st.size !== job.sizes[i]) out.status[i] = SIZE;
      else {
        out.status[i] = UNREADABLE;
        out.errors[i] = codeOf(err);
      }
      continue;
    }
    try {
      const st = fs.fstatSync(fd);
      out.sizes[i] = st.size;
      out.modes[i] = st.mode;
      if (!st.isFile()) {
        out.status[i] = NOT_FILE;
        continue;
      }
      if (st.size !== job.sizes[i]) {
        out.status[i] = SIZE;
        continue;
      }
      let digest: Buffer;
      try {
        digest = hashOpen(fd, st.size, buf);
      } catch (err) {
        out.status[i] = UNREADABLE;
        out.errors[i] = codeOf(err);
        continue;
      }
      out.status[i] = job.known[i] && sameDigest(digest, job.digests, i * 32) ? SAME : CONTENT;
    } finally {
      fs.closeSync(fd);
    }
  }
}

/**
 * Takes jobs from the shared counter until none is left (every thread runs this loop); the
 * error codes by file, of the files that could not be read.
 */
export function takeJobs(req: CheckRequest): Record<number, string> {
  const errors: Record<number, string> = {};
  for (let j = Atomics.add(req.next, 0, 1); j < req.ends.length; j = Atomics.add(req.next, 0, 1))
    checkRange(req, j === 0 ? 0 : req.ends[j - 1], req.ends[j], errors);
  return errors;
}

/** A pool thread's answer: the error codes of what it could not read, or the error that stopped it. */
export type PoolAnswer = { errors: Record<number, string> } | { error: string };
