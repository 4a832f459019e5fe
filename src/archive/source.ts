/**
 * The archive file as a stream of decompressed tar bytes, read from one open file handle. The
 * raw (compressed) bytes can be watched on the way (to hash exactly what was unpacked).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { createGunzip } from 'node:zlib';
import { WebtreeError, isErrno } from '../core/errors.js';
import { HINT_DAMAGED, q, refuseArchive } from './names.js';

/**
 * Raw reads of 1 MiB into a ring of three buffers used again and again, and inflated pieces of
 * 256 KiB, at most 4 MiB of them waiting for the reader. Fresh buffers for every read were a
 * page fault per 4 KiB (a quarter of a second of system time for a 63 MB archive, measured).
 */
const CHUNK = 1024 * 1024;
const RING = 3;
const INFLATED_CHUNK = 256 * 1024;
const INFLATE_AHEAD = 4 * 1024 * 1024;

export interface ArchiveSource {
  /** The archive's file name, quoted, for messages. */
  name: string;
  size: number;
  gzip: boolean;
  /** A fresh pass over the decompressed bytes, from the start; `raw` sees every byte read. */
  chunks(raw?: (piece: Buffer) => void): AsyncGenerator<Buffer>;
  close(): Promise<void>;
}

const MAGIC: [number[], string][] = [
  [[0x42, 0x5a, 0x68], 'is compressed with bzip2'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'is compressed with xz'],
  [[0x28, 0xb5, 0x2f, 0xfd], 'is compressed with zstd'],
  [[0x50, 0x4b, 0x03, 0x04], 'is a zip file'],
];

export async function openArchive(archive: string): Promise<ArchiveSource> {
  const name = q(basename(archive));
  let fh: FileHandle;
  try {
    fh = await open(archive, 'r');
  } catch (err) {
    const why = isErrno(err) ? err.code : String(err);
    throw new WebtreeError('EBADARCHIVE', `archive ${name} cannot be read (${why})`, {
      hint: 'Check the path and its permissions.',
    });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw refuseArchive(name, 'is not a regular file');
    if (st.size === 0) throw refuseArchive(name, 'is empty (0 bytes)', HINT_DAMAGED);
    const head = Buffer.alloc(8);
    await fh.read(head, 0, 8, 0);
    for (const [magic, what] of MAGIC) {
      if (magic.every((b, i) => head[i] === b)) {
        throw refuseArchive(
          name,
          `${what}; only .tar and .tar.gz (.tgz) are accepted`,
          'Nothing was installed. Repack it as a .tar.gz and install that.',
        );
      }
    }
    const gzip = st.size >= 2 && head[0] === 0x1f && head[1] === 0x8b;
    return { name, size: st.size, gzip, chunks: (raw) => read(fh, name, gzip, raw), close: () => fh.close() };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/**
 * Positional reads into the ring's buffers: a piece is valid until RING - 1 more have been read
 * (a stream over a FileHandle would also close the handle when it ends). `release` waits until the
 * buffer about to be reused is no longer needed.
 */
async function* rawChunks(
  fh: FileHandle,
  watch?: (piece: Buffer) => void,
  from = 0,
  release?: (slot: number) => Promise<void>,
): AsyncGenerator<[Buffer, number]> {
  const ring = Array.from({ length: RING }, () => Buffer.allocUnsafeSlow(CHUNK));
  for (let pos = from, n = 0; ; n++) {
    const slot = n % RING;
    await release?.(slot);
    const { bytesRead } = await fh.read(ring[slot], 0, CHUNK, pos);
    if (bytesRead === 0) return;
    pos += bytesRead;
    const piece = ring[slot].subarray(0, bytesRead);
    watch?.(piece);
    yield [piece, slot];
  }
}

async function* read(
  fh: FileHandle,
  name: string,
  gzip: boolean,
  watch?: (piece: Buffer) => void,
): AsyncGenerator<Buffer> {
  if (!gzip) {
    for await (const [piece] of rawChunks(fh, watch)) yield piece;
    return;
  }
  // Inflating runs on libuv's thread pool while this thread frames what came before. Its pieces
  // are taken as they come ('data'), not through a Readable's buffer, which copied them again.
  const gunzip = createGunzip({ chunkSize: INFLATED_CHUNK });
  const ready: Buffer[] = [];
  let waiting = 0;
  let ended = false;
  let failed: { err: unknown } | undefined;
  let wake: (() => void) | undefined;
  const poke = () => {
    wake?.();
    wake = undefined;
  };
  // A ring buffer is reused only once gunzip has consumed what was written from it; an ended,
  // failed or abandoned gunzip calls back no more, so then every buffer is free.
  const inUse: (Promise<void> | undefined)[] = new Array<Promise<void> | undefined>(RING);
  const pending = new Set<() => void>();
  const freeAll = () => {
    for (const r of pending) r();
    pending.clear();
  };
  gunzip.on('close', freeAll);
  gunzip.on('data', (c: Buffer) => {
    ready.push(c);
    waiting += c.length;
    // Backpressure: a paused gunzip stops inflating once its own small buffer is full.
    if (waiting >= INFLATE_AHEAD) gunzip.pause();
    poke();
  });
  gunzip.on('end', () => {
    ended = true;
    freeAll();
    poke();
  });
  gunzip.on('error', (err) => {
    failed ??= { err };
    freeAll();
    poke();
  });
  let stop = false;
  const feed = (async () => {
    for await (const [piece, slot] of rawChunks(fh, watch, 0, async (s) => inUse[s])) {
      if (stop) return;
      // gunzip ends with its stream and skips zero bytes after it as padding: those are read on
      // for the watcher (the archive's sha256 must cover the whole file, or the same file hashed
      // whole later, install's no-op check, would not be recognised), not written.
      if (ended || failed) continue;
      inUse[slot] = new Promise<void>((resolve) => {
        const done = () => {
          pending.delete(done);
          resolve();
        };
        pending.add(done);
        gunzip.write(piece, done);
      });
    }
    if (!stop && !ended && !failed) gunzip.end();
  })();
  // A failed read wakes the loop below, which throws it.
  feed.catch((err: unknown) => {
    failed ??= { err };
    poke();
  });
  try {
    for (;;) {
      const c = ready.shift();
      if (c) {
        waiting -= c.length;
        if (waiting < INFLATE_AHEAD / 2 && gunzip.isPaused()) gunzip.resume();
        yield c;
        continue;
      }
      if (failed) throw failed.err;
      if (ended) break;
      await new Promise<void>((r) => (wake = r));
    }
    await feed;
  } catch (err) {
    throw gzipError(name, err);
  } finally {
    // Breaking off early (a refusal) must stop the inflater and the reads, not let them run on.
    stop = true;
    gunzip.destroy();
    freeAll();
    await feed.catch(() => undefined);
  }
}

function gzipError(name: string, err: unknown): unknown {
  if (err instanceof WebtreeError || !isErrno(err)) return err;
  if (err.code === 'Z_BUF_ERROR')
    return refuseArchive(name, 'is truncated: its gzip stream ends early (unexpected end of file)', HINT_DAMAGED);
  if (err.code?.startsWith('Z_'))
    return refuseArchive(name, `has a corrupt gzip stream (${err.message})`, HINT_DAMAGED);
  return new WebtreeError('EIO', `archive ${name} could not be read: ${err.message}`, { cause: err });
}
