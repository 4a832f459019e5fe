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
import { CLOSE, OPEN, WRITE } from './unpack-protocol.js';
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
  /** Milliseconds since the epoch, NaN for none. */
  private mtimeMs = NaN;
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

  /** One batch: `code` and `names` as unpack-protocol.ts lays them out, `data` the batch's slab. */
  apply(code: number[], names: string[], data: Buffer): void {
    let name = 0;
    for (let i = 0; i < code.length;) {
      switch (code[i]) {
        case OPEN:
          this.open(names[name++], code[i + 1], code[i + 2]);
          i += 3;
          break;
        case WRITE:
          this.write(data, code[i + 1], code[i + 2]);
          i += 3;
          break;
        case CLOSE:
          this.close();
          i += 1;
          break;
        default:
          throw new Error(`unpack: unknown instruction ${code[i]} at ${i}`);
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

  private open(rel: string, mode: number, mtimeMs: number): void {
    this.fd = fs.openSync(join(this.root, rel), FILE_FLAGS, mode);
    this.rel = rel;
    if (this.chown) fs.fchownSync(this.fd, this.owner!.uid, this.owner!.gid);
    // Explicitly only when the umask took bits from it (safe modes have no group or other write
    // bits, so the usual 022 and 002 take none).
    if ((mode & this.umask) !== 0) fs.fchmodSync(this.fd, mode);
    this.mode = mode;
    this.size = 0;
    this.mtimeMs = mtimeMs;
    this.hash = createHash('sha256');
    this.entries++;
  }

  private write(data: Buffer, offset: number, length: number): void {
    const end = offset + length;
    try {
      for (let off = offset; off < end;) off += fs.writeSync(this.fd, data, off, end - off);
    } catch (err) {
      // A write names no file of its own: say which one the disk was full for.
      throw Object.assign(err as NodeJS.ErrnoException, {
        path: (err as NodeJS.ErrnoException).path ?? join(this.root, this.rel),
      });
    }
    this.hash!.update(data.subarray(offset, end));
    this.size += length;
    this.bytes += length;
  }

  private close(): void {
    const digest = this.hash!.digest();
    const fd = this.fd;
    this.fd = -1;
    try {
      if (!Number.isNaN(this.mtimeMs)) {
        // Seconds, without a Date per file; but Node takes a negative number for "now", so a
        // time before the epoch goes as a Date.
        const t = this.mtimeMs >= 0 ? this.mtimeMs / 1000 : new Date(this.mtimeMs);
        fs.futimesSync(fd, t, t);
      }
    } finally {
      fs.closeSync(fd);
    }
    this.written.add(this.rel, this.size, this.mode, digest);
  }
}
