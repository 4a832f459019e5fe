/**
 * webtree's tar reader: a block-by-block state machine over the decompressed tar stream.
 *
 * It decodes every header with node-tar's Header, Pax and ReadEntry classes (the field formats,
 * base-256 sizes, pax and GNU long names) but keeps the framing itself, because node-tar's own
 * Parser accepts a tar that stops at an entry boundary (no end-of-archive marker), buffers without
 * bound whatever follows the marker, silently skips entries of unknown types, and keeps parsing
 * after a strict-mode error. Here each of those is a refusal, at the header that causes it.
 * Entries go to onEntry as their header completes, their bytes (padding included) to onBody.
 * A plain header (ustar.ts) is read without node-tar, which is loaded only for the first header
 * that is not plain: an archive of plain headers never loads it.
 */
import { createRequire } from 'node:module';
import type * as Tar from 'tar';
import type { Header, Pax } from 'tar';
import type { Limits } from '../site/types.js';
import { HINT_DAMAGED, q, refuseArchive } from './names.js';
import { plainHeader, type EntryView } from './ustar.js';

/** node-tar's CommonJS build, loaded (synchronously, within a header's reading) the first time it is needed. */
let tar: typeof Tar | undefined;
const nodeTar = (): typeof Tar => (tar ??= createRequire(import.meta.url)('tar') as typeof Tar);

export type { EntryView } from './ustar.js';

/** node-tar ignores (instead of applying) longer extended headers; we refuse them. */
export const MAX_META_BYTES = 1024 * 1024;
/** Below this many unpacked bytes the ratio is not applied: headers dominate tiny archives. */
export const RATIO_FLOOR = 1024 * 1024;
/** Bytes beyond file data: a header and its padding per entry, extended headers, and slack. */
const OVERHEAD_PER_ENTRY = 1024;
const OVERHEAD_BASE = 1024 * 1024;
/** All extended headers together, per entry the limits allow. */
const META_PER_ENTRY = 4096;

const ACCEPTED_META = new Set(['ExtendedHeader', 'GlobalExtendedHeader', 'NextFileHasLongPath']);
const ZERO_BLOCK = Buffer.alloc(512);

/** The header's own size field (node-tar reports 0 for any directory). */
function rawSizeIsZero(block: Buffer): boolean {
  const field = block.subarray(124, 136);
  if (field[0] & 0x80) return field.every((b, i) => (i === 0 ? b & 0x7f : b) === 0);
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' || /^0+$/.test(text);
}

type State = 'header' | 'body' | 'meta' | 'end';

export class TarFraming {
  /** Decompressed bytes seen. */
  bytes = 0;
  /** File content bytes (unpadded) seen. */
  private fileBytes = 0;
  private state: State = 'header';
  private block = Buffer.alloc(512);
  private blockFill = 0;
  private bodyLeft = 0;
  private metaType = '';
  private metaSize = 0;
  private metaParts: Buffer[] = [];
  private metaLeft = 0;
  private ex?: Pax;
  private gex?: Pax;
  private zeroBlocks = 0;
  private headers = 0;
  private metaBytes = 0;
  private last?: string;

  constructor(
    private readonly archive: string,
    private readonly limits: Limits,
    private readonly onEntry: (view: EntryView) => void,
    /** A piece of the current entry's body; the last pieces are the padding to 512 bytes. */
    private readonly onBody: (piece: Buffer) => void = () => {},
  ) {}

  /** Feed decompressed bytes. Throws on refusal. */
  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let p = 0;
    while (p < chunk.length) {
      const rest = chunk.length - p;
      if (this.state === 'end') {
        this.checkTrailing(chunk.subarray(p));
        break;
      }
      if (this.state === 'header') {
        const n = Math.min(512 - this.blockFill, rest);
        chunk.copy(this.block, this.blockFill, p, p + n);
        this.blockFill += n;
        p += n;
        if (this.blockFill === 512) {
          this.blockFill = 0;
          this.onHeader(this.block);
        }
      } else if (this.state === 'body') {
        const n = Math.min(this.bodyLeft, rest);
        this.onBody(chunk.subarray(p, p + n));
        this.bodyLeft -= n;
        p += n;
        if (this.bodyLeft === 0) this.state = 'header';
      } else {
        const n = Math.min(this.metaLeft, rest);
        // A copy: the reader reuses its buffers.
        this.metaParts.push(Buffer.from(chunk.subarray(p, p + n)));
        this.metaLeft -= n;
        p += n;
        if (this.metaLeft === 0) this.onMetaDone();
      }
    }
    this.checkStream();
  }

  /** The input has ended: it must have ended exactly at (or after) the end-of-archive marker. */
  end(): void {
    const after = this.last === undefined ? 'before its first entry' : `after entry ${q(this.last)}`;
    if (this.state === 'header' && this.headers === 0 && this.zeroBlocks === 0) {
      if (this.bytes === 0)
        throw refuseArchive(this.archive, 'holds no tar data (its gzip stream is empty)', HINT_DAMAGED);
      this.notTar(this.block, `${this.bytes} bytes, less than one 512-byte header`);
    }
    if (this.state === 'body' || this.state === 'meta') {
      const missing = this.state === 'body' ? this.bodyLeft : this.metaLeft;
      throw refuseArchive(
        this.archive,
        `is truncated: it ends inside entry ${q(this.last ?? this.metaType)} (${missing} bytes missing)`,
        HINT_DAMAGED,
      );
    }
    if (this.state === 'header' && this.blockFill > 0) {
      throw refuseArchive(this.archive, `is truncated: it ends inside a header block ${after}`, HINT_DAMAGED);
    }
    if (this.state !== 'end') {
      throw refuseArchive(
        this.archive,
        `is truncated: it ends ${after} without the end-of-archive marker (two 512-byte zero blocks)`,
        HINT_DAMAGED,
      );
    }
  }

  private onHeader(block: Buffer): void {
    if (block.equals(ZERO_BLOCK)) {
      this.zeroBlocks++;
      if (this.zeroBlocks === 2) this.state = 'end';
      return;
    }
    const where = this.last === undefined ? 'the first header' : `the header after entry ${q(this.last)}`;
    if (this.zeroBlocks > 0) {
      // GNU tar stops at the first zero block and node-tar reads on: two readers, two archives.
      throw refuseArchive(this.archive, `has a lone zero block before ${where}`);
    }
    const plain = this.ex === undefined && this.gex === undefined ? plainHeader(block) : undefined;
    if (plain) {
      this.headers++;
      if (plain.typeflag === '5' && !rawSizeIsZero(block)) throw this.dirWithData(plain.path);
      this.entry(plain);
      return;
    }
    const { Header, ReadEntry } = nodeTar();
    let h: Header;
    try {
      h = new Header(Buffer.from(block), 0, this.ex, this.gex);
    } catch (err) {
      if (this.headers === 0) this.notTar(block);
      throw refuseArchive(this.archive, `has a malformed header (${where}): ${(err as Error).message}`);
    }
    if (h.nullBlock) throw refuseArchive(this.archive, `has a malformed zero block (${where})`, HINT_DAMAGED);
    if (!h.cksumValid) {
      if (this.headers === 0) this.notTar(block);
      throw refuseArchive(this.archive, `is corrupt: ${where} fails its checksum`, HINT_DAMAGED);
    }
    this.headers++;
    if (!h.path) throw refuseArchive(this.archive, `has an entry with an empty name (${where})`);
    // node-tar reads a directory's data as the next header while GNU tar skips it: whatever is
    // hidden there would be seen by one reader and not the other.
    if (h.typeKey === '5' && !rawSizeIsZero(block)) throw this.dirWithData(h.path);
    const entry = new ReadEntry(h, this.ex, this.gex);
    const size = entry.remain;
    if (entry.meta) {
      if (!ACCEPTED_META.has(entry.type)) {
        throw refuseArchive(this.archive, `has a ${entry.type} header (${where}), which webtree does not accept`);
      }
      if (size > MAX_META_BYTES) {
        throw refuseArchive(this.archive, `has an extended header of ${size} bytes (${where}), over ${MAX_META_BYTES}`);
      }
      this.metaBytes += 512 + 512 * Math.ceil(size / 512);
      if (this.metaBytes > MAX_META_BYTES + META_PER_ENTRY * this.limits.maxEntries) {
        throw refuseArchive(
          this.archive,
          `has more than ${this.metaBytes - 1} bytes of extended headers (${where}); stopped reading`,
        );
      }
      if (size === 0) return; // node-tar applies nothing for an empty one either
      this.state = 'meta';
      this.metaType = entry.type;
      this.metaSize = size;
      this.metaParts = [];
      this.metaLeft = 512 * Math.ceil(size / 512);
      return;
    }
    this.ex = undefined;
    this.entry({
      path: entry.path,
      type: entry.type,
      typeflag: h.typeKey,
      size: entry.size,
      bodySize: size,
      mode: entry.mode,
      linkpath: entry.linkpath,
      mtime: entry.mtime,
    });
  }

  /** A file system entry's header, read: the entry goes out, its body follows. */
  private entry(view: EntryView): void {
    this.last = view.path;
    this.onEntry(view);
    this.fileBytes += view.bodySize;
    this.bodyLeft = 512 * Math.ceil(view.bodySize / 512);
    if (this.bodyLeft > 0) this.state = 'body';
  }

  private dirWithData(path: string): Error {
    return refuseArchive(this.archive, `has a directory entry ${q(path)} that carries data (a non-zero size)`);
  }

  /** Applies an extended header exactly as node-tar's Parser does (parse.js, EMITMETA). */
  private onMetaDone(): void {
    const meta = Buffer.concat(this.metaParts).subarray(0, this.metaSize).toString('utf8');
    this.metaParts = [];
    this.state = 'header';
    const { Pax } = nodeTar();
    if (this.metaType === 'ExtendedHeader') this.ex = Pax.parse(meta, this.ex, false);
    else if (this.metaType === 'GlobalExtendedHeader') this.gex = Pax.parse(meta, this.gex, true);
    else {
      const ex = this.ex ?? (Object.create(null) as Pax);
      ex.path = meta.replace(/\0.*/, '');
      this.ex = ex;
    }
  }

  /** The first block is no tar header: say what it is instead, when we can tell. */
  private notTar(first: Buffer, why = 'its first block is not a valid tar header'): never {
    // A gzip inside the gzip: node-tar would have inflated this second layer on its own.
    if (first[0] === 0x1f && first[1] === 0x8b)
      throw refuseArchive(this.archive, 'is compressed twice (a gzip stream inside the gzip stream)');
    throw refuseArchive(this.archive, `is not a tar archive (${why})`, HINT_DAMAGED);
  }

  private checkTrailing(rest: Buffer): void {
    for (let i = 0; i < rest.length; i += 512) {
      const piece = rest.subarray(i, i + 512);
      if (!piece.equals(ZERO_BLOCK.subarray(0, piece.length))) {
        throw refuseArchive(
          this.archive,
          `has data after its end-of-archive marker (after entry ${q(this.last ?? '')}): a second archive or garbage`,
        );
      }
    }
  }

  /**
   * File data is bounded by the declared sizes (checked per header in rules.ts); this bounds
   * everything else, so a stream of zeros after the marker, or of empty extended headers, is
   * not inflated to its end either.
   */
  private checkStream(): void {
    const overhead = this.bytes - this.fileBytes;
    const allowed = OVERHEAD_BASE + OVERHEAD_PER_ENTRY * this.headers + this.metaBytes;
    if (overhead > allowed) {
      const after = this.last === undefined ? '' : ` (last entry ${q(this.last)})`;
      throw refuseArchive(
        this.archive,
        `has more than ${allowed} bytes of headers, padding or trailing zeros beyond its file data${after}; stopped reading`,
      );
    }
  }
}
