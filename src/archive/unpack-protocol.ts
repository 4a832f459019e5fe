/**
 * What the unpacking's two halves say to each other (unpack-worker.ts reads and checks,
 * extract.ts writes). Instructions refer to paths relative to the archive root, never stripped:
 * the writer writes exactly what the reader admitted, and the top directory is moved at the end.
 */
import type { Limits } from '../site/types.js';

export interface UnpackRequest {
  archive: string;
  limits: Limits;
  layout: 'single-top' | 'any';
}

export type Instruction =
  /** Make a directory the archive names (its parents first, if the archive only implies them). */
  | ['d', rel: string, mode: number]
  /** Start a file: create it, empty, with this mode and mtime (ms since the epoch, before it too; null for none). */
  | ['f', rel: string, mode: number, mtimeMs: number | null]
  /** Append bytes [offset, offset + length) of the batch's data to the file being written. */
  | ['w', offset: number, length: number]
  /** The file is whole (the writer hashes what it wrote: its thread has the time, the reader's has not). */
  | ['c'];

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

export type FromWorker =
  | { kind: 'batch'; ops: Instruction[]; data: ArrayBuffer }
  /** How much of the archive has been read, for a progress bar. */
  | { kind: 'read'; read: number; size: number }
  | { kind: 'end'; archiveSha256: string; top?: string; bytes: number; tree: [string, 'file' | 'dir', number][]; name: string }
  | { kind: 'error'; error: WorkerError };

/** The writer hands back a credit for each batch it has written, and the batch's buffer for reuse. */
export interface ToWorker {
  credit: number;
  buffer?: ArrayBuffer;
}
