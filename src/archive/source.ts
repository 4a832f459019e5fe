/**
 * The archive file as a stream of decompressed tar bytes, read from one open file handle. The
 * raw (compressed) bytes can be watched on the way (to hash exactly what was unpacked).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { WebtreeError, isErrno } from '../core/errors.js';
import { HINT_DAMAGED, q, refuseArchive } from './names.js';

/** Raw reads of 1 MiB; inflated pieces of 256 KiB, with up to 4 MiB inflated ahead of the reader. */
const CHUNK = 1024 * 1024;
const INFLATED_CHUNK = 4 * 1024 * 1024;
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
    throw new WebtreeError('EBADARCHIVE', `archive ${name} cannot be read (${why})`, { hint: 'Check the path and its permissions.' });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw refuseArchive(name, 'is not a regular file');
    if (st.size === 0) throw refuseArchive(name, 'is empty (0 bytes)', HINT_DAMAGED);
    const head = Buffer.alloc(8);
    await fh.read(head, 0, 8, 0);
    for (const [magic, what] of MAGIC) {
      if (magic.every((b, i) => head[i] === b)) {
        throw refuseArchive(name, `${what}; only .tar and .tar.gz (.tgz) are accepted`, 'Nothing was installed. Repack it as a .tar.gz and install that.');
      }
    }
    const gzip = st.size >= 2 && head[0] === 0x1f && head[1] === 0x8b;
    return { name, size: st.size, gzip, chunks: (raw) => read(fh, name, gzip, raw), close: () => fh.close() };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/** Positional reads: a stream over a FileHandle closes the handle when it ends. */
async function* rawChunks(fh: FileHandle, watch?: (piece: Buffer) => void, from = 0): AsyncGenerator<Buffer> {
  for (let pos = from; ; ) {
    const buf = Buffer.allocUnsafe(CHUNK);
    const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
    if (bytesRead === 0) return;
    pos += bytesRead;
    const piece = buf.subarray(0, bytesRead);
    watch?.(piece);
    yield piece;
  }
}

async function* read(fh: FileHandle, name: string, gzip: boolean, watch?: (piece: Buffer) => void): AsyncGenerator<Buffer> {
  if (!gzip) {
    yield* rawChunks(fh, watch);
    return;
  }
  // Bytes watched so far, in order; `stop` silences a read still in flight when gunzip ended.
  let watched = 0;
  let stop = false;
  const seen = (piece: Buffer) => {
    if (stop) return;
    watched += piece.length;
    watch?.(piece);
  };
  const raw = Readable.from(rawChunks(fh, seen), { objectMode: false });
  // Inflating runs on libuv's thread pool: reading ahead lets it overlap the writing of files.
  const gunzip = createGunzip({ chunkSize: INFLATED_CHUNK, readableHighWaterMark: INFLATE_AHEAD } as ZlibOptions);
  // Errors reach us through the iteration below; the callback only keeps pipeline quiet.
  const inflated = pipeline(raw, gunzip, () => {});
  try {
    for await (const chunk of inflated) yield chunk as Buffer;
  } catch (err) {
    throw gzipError(name, err);
  } finally {
    // Breaking off early (a refusal) must stop the inflater, not let it run on to the end.
    stop = true;
    raw.destroy();
    gunzip.destroy();
  }
  // gunzip ends with its stream and skips zero bytes after it as padding, unread: the watcher
  // (the archive's sha256) must still see the whole file, or the same file hashed whole later
  // (install's no-op check) would not be recognised.
  if (watch) for await (const piece of rawChunks(fh, watch, watched)) void piece;
}

function gzipError(name: string, err: unknown): unknown {
  if (err instanceof WebtreeError || !isErrno(err)) return err;
  if (err.code === 'Z_BUF_ERROR') return refuseArchive(name, 'is truncated: its gzip stream ends early (unexpected end of file)', HINT_DAMAGED);
  if (err.code?.startsWith('Z_')) return refuseArchive(name, `has a corrupt gzip stream (${err.message})`, HINT_DAMAGED);
  return new WebtreeError('EIO', `archive ${name} could not be read: ${err.message}`, { cause: err });
}
