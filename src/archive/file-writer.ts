/**
 * One writer of the unpacking (extract.ts runs one on the main thread, write-worker.ts one per
 * extra thread): carries out the reader's file instructions under root, synchronously, so that
 * every system call of a batch is finished before the next batch is taken and a refusal never
 * races a write still in flight. The reader has made every directory before it sends a file in it.
 *
 * Per file: open (O_EXCL|O_NOFOLLOW, with its mode), the writes, fchown only when the owner is
 * not who creates it, futimes on the open descriptor, close; the sha256 of the bytes as they are
 * written goes to the manifest.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import { join } from 'node:path';
import { WebtreeError } from '../core/errors.js';
import { HINT_DAMAGED, q } from './names.js';
import type { Instruction } from './unpack-protocol.js';
import { WrittenFiles } from './written-files.js';

const FILE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

export class FileWriter {
  bytes = 0;
  entries = 0;
  readonly written = new WrittenFiles();
  private fd = -1;
  private rel = '';
  private mode = 0;
  private size = 0;
  private mtime?: Date;
  private hash?: Hash;
  /** Files are created by this process's user: a chown to the same owner would be a call for nothing. */
  private readonly chown: boolean;

  constructor(
    private readonly root: string,
    private readonly owner: { uid: number; gid: number } | undefined,
    private readonly umask: number,
  ) {
    this.chown = owner !== undefined && (owner.uid !== process.geteuid?.() || owner.gid !== process.getegid?.());
  }

  apply(ops: Instruction[], data: Buffer): void {
    for (const op of ops) {
      switch (op[0]) {
        case 'f':
          this.open(op[1], op[2], op[3]);
          break;
        case 'w':
          this.write(data.subarray(op[1], op[1] + op[2]));
          break;
        case 'c':
          this.close();
          break;
      }
    }
  }

  /** The archive ended: no file may be left open (the reader has refused a truncated body). */
  finish(): void {
    if (this.fd !== -1)
      throw new WebtreeError('EBADARCHIVE', `archive entry ${q(this.rel)} ends early`, { hint: HINT_DAMAGED });
  }

  /** Stopped midway: close the file being written, if any (the caller removes the tree). */
  abandon(): void {
    if (this.fd === -1) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // Closing can fail on a full disk too; the file is removed with the tree either way.
    }
    this.fd = -1;
  }

  private open(rel: string, mode: number, mtimeMs: number | null): void {
    this.fd = fs.openSync(join(this.root, rel), FILE_FLAGS, mode);
    this.rel = rel;
    if (this.chown) fs.fchownSync(this.fd, this.owner!.uid, this.owner!.gid);
    // Explicitly only when the umask took bits from it (safe modes have no group or other write
    // bits, so the usual 022 and 002 take none).
    if ((mode & this.umask) !== 0) fs.fchmodSync(this.fd, mode);
    this.mode = mode;
    this.size = 0;
    this.mtime = mtimeMs === null ? undefined : new Date(mtimeMs);
    this.hash = createHash('sha256');
    this.entries++;
  }

  private write(data: Buffer): void {
    try {
      for (let off = 0; off < data.length;) off += fs.writeSync(this.fd, data, off);
    } catch (err) {
      // A write names no file of its own: say which one the disk was full for.
      throw Object.assign(err as NodeJS.ErrnoException, {
        path: (err as NodeJS.ErrnoException).path ?? join(this.root, this.rel),
      });
    }
    this.hash!.update(data);
    this.size += data.length;
    this.bytes += data.length;
  }

  private close(): void {
    const digest = this.hash!.digest();
    const fd = this.fd;
    this.fd = -1;
    try {
      if (this.mtime) fs.futimesSync(fd, this.mtime, this.mtime);
    } finally {
      fs.closeSync(fd);
    }
    this.written.add(this.rel, this.size, this.mode, digest);
  }
}
