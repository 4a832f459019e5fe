/**
 * What the unpacking's threads say to each other: one reader (unpack-worker.ts: reads, checks,
 * makes the directories) and several writers (the main thread's FileWriter in extract.ts, and
 * write-worker.ts threads), each writer fed by the reader through a port of its own.
 * Instructions refer to paths relative to the archive root, never stripped: the writers write
 * exactly what the reader admitted, and the top directory is moved at the end.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Limits } from '../site/types.js';
import type { WrittenList } from './written-files.js';

export interface UnpackRequest {
  archive: string;
  limits: Limits;
  layout: 'single-top' | 'any';
  /** How many writers the reader feeds (ports arrive with the go). */
  writers: number;
  /**
   * The archive is whole and may be read now, ahead of the go (unpack-worker.ts): read, checked
   * and framed, with nothing made or written before the go.
   */
  readAhead?: boolean;
}

/** The archive is whole now (it was being downloaded when the reader was asked): read ahead. */
export interface Ahead {
  kind: 'ahead';
}

/** What to read: the reader's first message (it may have been started before it was known, archive/warm.ts). */
export interface Request {
  kind: 'request';
  req: UnpackRequest;
}

/** Where to unpack, sent when the unpack starts: nothing is made or written before it (a reader may have read ahead). */
export interface Go {
  kind: 'go';
  root: string;
  owner?: { uid: number; gid: number };
  /** The process's umask, which open() and mkdir() apply (a worker may not ask for it). */
  umask: number;
  /** To the reader: one port per writer, in writer order. To a writer: its own. */
  ports: MessagePort[];
  /** To the reader: false when the archive's sha256 is already known (checked in webtree's cache). */
  hashArchive?: boolean;
}

/**
 * A batch's instructions, flat: numbers in `code`, the files' names in `names` (one per OPEN, in
 * order). Flat arrays cross a port as two objects; an array per instruction was 25,000 small
 * objects per 120 MB archive to clone on one side and collect on the other.
 *   OPEN mode mtimeMs   start a file: create it, empty, with this mode and mtime (ms since the
 *                       epoch, before it too; NaN for none)
 *   WRITE offset length append bytes [offset, offset + length) of the batch's slab
 *   CLOSE               the file is whole (the writer hashes what it wrote, on its own thread)
 */
export const OPEN = 0;
export const WRITE = 1;
export const CLOSE = 2;

export interface WorkerError {
  webtree: boolean;
  code?: string;
  message: string;
  hint?: string;
  details?: string;
  exitCode?: number;
  errno?: number;
  syscall?: string;
  path?: string;
}

/** Reader to a writer, on the writer's port. */
export type ToWriter =
  /**
   * Carry out `code` with the bytes of slab `slot`. The slabs are shared memory, sent once each
   * (`slab` on a slot's first batch) and handed back by slot number: a buffer transferred with
   * every batch was a new 1 MiB ArrayBuffer on each side each time, which V8 counts as external
   * memory and answers with full collections.
   */
  | { kind: 'batch'; slot: number; slab?: SharedArrayBuffer; code: number[]; names: string[] }
  /** The archive ended: every file sent is whole. */
  | { kind: 'end' };

/** A writer to the reader, on its port: the slab of a batch written, free to be filled again. */
export interface ToReader {
  slot: number;
}

/** Reader to the main thread. */
export type FromReader =
  /** How much of the archive has been read, for a progress bar. */
  | { kind: 'read'; read: number; size: number }
  /** The archive is read; `entries` counts what dest will hold (the top directory stripped). */
  | { kind: 'end'; archiveSha256: string; top?: string; bytes: number; dirs: number; entries: number; name: string }
  /** The tree on disk is what the archive declared (the answer to a Check). */
  | { kind: 'checked' }
  | { kind: 'error'; error: WorkerError };

/**
 * The main thread to the reader, once every writer is done: check the tree on disk against the
 * archive's listing, which only the reader holds (sending 100,000 entries to the main thread
 * made a copy of them on each side of the message, a third of the peak memory at 1 GiB).
 */
export interface Check {
  kind: 'check';
  /** What the writers wrote, summed. */
  bytesWritten: number;
}

/** A writer thread to the main thread. */
export type FromWriter =
  | { kind: 'progress'; bytes: number; entries: number }
  | { kind: 'done'; bytes: number; files: WrittenList }
  | { kind: 'error'; error: WorkerError };

/** The main thread to a writer thread: stop now (close the open file, write nothing more), then exit. */
export interface Abort {
  kind: 'abort';
}

/** An error as a message: a refusal stays a WebtreeError, a system error keeps its code and path. */
export function toWorkerError(err: unknown, isWebtree: boolean): WorkerError {
  const e = err as Partial<{
    code: string;
    message: string;
    hint: string;
    details: string;
    exitCode: number;
    errno: number;
    syscall: string;
    path: string;
  }>;
  return {
    webtree: isWebtree,
    code: e?.code,
    message: e?.message ?? String(err),
    hint: e?.hint,
    details: e?.details,
    exitCode: e?.exitCode,
    errno: e?.errno,
    syscall: e?.syscall,
    path: e?.path,
  };
}
