/**
 * Safe unpacking of an untrusted .tar / .tar.gz in one pass: read, inflate, check, write and hash
 * each entry as it streams past, into a scratch directory beside dest that nothing serves.
 *
 * Every header is checked (rules.ts) before a byte of its entry is written, and a refusal removes
 * the scratch directory, so dest is only ever empty or the whole, checked tree. Only regular files
 * and directories are created — files with O_EXCL|O_NOFOLLOW, names that are plain relative
 * paths without ".." — so no link exists for a later entry to write through and nothing can land
 * outside the scratch directory, not even for a moment. The files' sha256 are taken from the
 * bytes as they are written, for the manifest, and the archive's own sha256 from the bytes as
 * they are read, so what was unpacked is exactly what was hashed. Finally the tree on disk is
 * checked against what the archive declared, and moved onto dest with one rename.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import { dirname, join } from 'node:path';
import { WebtreeError } from '../core/errors.js';
import type { Limits } from '../site/types.js';
import { checkTree, strip, type Listing } from './check-tree.js';
import { TarFraming, type EntryView } from './framing.js';
import { HINT_DAMAGED, q } from './names.js';
import { EntryRules, type Admitted, type Kind } from './rules.js';
import { openArchive } from './source.js';

export interface UnpackedFile {
  /** Relative to dest, '/'-separated. */
  path: string;
  size: number;
  sha256: string;
  mode: number;
}

export interface ExtractResult {
  /** Files and directories created under dest. */
  entries: number;
  /** Sum of the sizes of the files created. */
  bytes: number;
  /** The archive's single top-level directory, when it was stripped. */
  strippedTop?: string;
  /** sha256 of the archive file as read. */
  archiveSha256: string;
  /** Every file under dest with its hash, in no particular order. */
  files: UnpackedFile[];
}

export interface ExtractProgress {
  /** File bytes written so far, and files and directories created. */
  bytes: number;
  entries: number;
  /** Sum of the file sizes, known only at the end; the archive's size is given instead. */
  archiveBytes: number;
  archiveRead: number;
}

export interface ExtractOptions {
  limits: Limits;
  layout: 'single-top' | 'any';
  owner?: { uid: number; gid: number };
  /** The sha256 the archive must have (taken before planning): refused if it changed since. */
  expectSha256?: string;
  signal?: AbortSignal;
  onProgress?: (p: ExtractProgress) => void;
}

/** Where the tree is unpacked before it is moved onto dest; swept with dest's leftovers. */
export const scratchFor = (dest: string) => `${dest}.unpack`;

export async function extractArchive(archive: string, dest: string, opts: ExtractOptions): Promise<ExtractResult> {
  checkDest(dest);
  const scratch = scratchFor(dest);
  const src = await openArchive(archive);
  let writer: TreeWriter | undefined;
  try {
    fs.mkdirSync(scratch, { mode: 0o700 });
    if (opts.owner) fs.lchownSync(scratch, opts.owner.uid, opts.owner.gid);
    writer = new TreeWriter(scratch, opts.owner);
    const rules = new EntryRules(opts.limits, src.size);
    const framing = new TarFraming(
      src.name,
      opts.limits,
      (v: EntryView) => writer!.begin(rules.admit(v), v.mtime),
      (piece) => writer!.body(piece),
    );
    const hash = createHash('sha256');
    let read = 0;
    for await (const chunk of src.chunks((raw) => {
      hash.update(raw);
      read += raw.length;
    })) {
      opts.signal?.throwIfAborted();
      framing.push(chunk);
      opts.onProgress?.({ bytes: writer.bytes, entries: writer.entries, archiveBytes: src.size, archiveRead: read });
    }
    framing.end();
    writer.finish();
    const archiveSha256 = hash.digest('hex');
    if (opts.expectSha256 !== undefined && archiveSha256 !== opts.expectSha256) {
      throw new WebtreeError('EBADARCHIVE', `archive ${src.name} changed while it was being installed (sha256 ${archiveSha256.slice(0, 12)}…, was ${opts.expectSha256.slice(0, 12)}…)`, {
        hint: 'Nothing was installed. Let whatever writes the archive finish, then install it again.',
      });
    }
    const top = rules.finish(src.name, opts.layout);
    const listing = listingOf(rules, top);
    const root = top === undefined ? scratch : join(scratch, top);
    // The root itself was made by us (mode 0700 while unpacking); the archive's own mode for its
    // top directory, if it had an entry, is applied by the caller's chmod of dest.
    checkTree(root, listing, src.name);
    // dest is an empty directory: rename replaces it in one step.
    fs.renameSync(root, dest);
    fs.rmSync(scratch, { recursive: true, force: true });
    const files = writer.files.map((f) => ({ ...f, path: strip(f.path, top) }));
    const result: ExtractResult = { entries: listing.entries, bytes: listing.bytes, archiveSha256, files };
    if (top !== undefined) result.strippedTop = top;
    return result;
  } catch (err) {
    // File system errors (a full disk, a denied write) go up as they are, with their code and
    // path, for the command line to name.
    writer?.abandon();
    fs.rmSync(scratch, { recursive: true, force: true });
    throw err;
  } finally {
    await src.close();
  }
}

/** The staging directory must be a real, empty directory: a link there would redirect everything. */
function checkDest(dest: string): void {
  let st;
  try {
    st = fs.lstatSync(dest);
  } catch (err) {
    throw new WebtreeError('EIO', `staging directory ${dest} cannot be used: ${(err as Error).message}`, { cause: err });
  }
  if (!st.isDirectory()) throw new WebtreeError('EIO', `staging directory ${dest} is not a directory (or is a symbolic link)`);
  if (fs.readdirSync(dest).length > 0) throw new WebtreeError('EIO', `staging directory ${dest} is not empty`);
}

function listingOf(rules: EntryRules, top: string | undefined): Listing {
  const tree = new Map<string, { kind: Kind; size: number }>();
  for (const [rel, node] of rules.tree) {
    const stripped = strip(rel, top);
    if (stripped !== '') tree.set(stripped, { kind: node.kind, size: node.size });
  }
  return { entries: tree.size, bytes: rules.bytes, top, tree };
}

const FILE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/** The process's umask, read once (setting it back at once): open() applies it to every mode. */
function readUmask(): number {
  const mask = process.umask(0o022);
  process.umask(mask);
  return mask;
}

/**
 * Writes admitted entries under root, synchronously: every system call is finished before the
 * next header is read, so a refusal never races a write still in flight.
 */
class TreeWriter {
  bytes = 0;
  entries = 0;
  readonly files: UnpackedFile[] = [];
  private readonly made = new Set<string>(['']);
  private fd = -1;
  private left = 0;
  private hash?: Hash;
  private current?: Admitted;
  private mtime?: Date;
  private readonly umask = readUmask();

  constructor(
    private readonly root: string,
    private readonly owner?: { uid: number; gid: number },
  ) {}

  begin(a: Admitted, mtime: Date | undefined): void {
    if (a.rel === '') return;
    this.parents(a.rel);
    const p = join(this.root, a.rel);
    if (a.kind === 'dir') {
      if (this.made.has(a.rel)) fs.chmodSync(p, a.mode);
      else this.mkdir(a.rel, a.mode);
      return;
    }
    this.fd = fs.openSync(p, FILE_FLAGS, a.mode);
    if (this.owner) fs.fchownSync(this.fd, this.owner.uid, this.owner.gid);
    // Explicitly only when the umask took bits from it (safe modes have no group or other write
    // bits, so the usual 022 and 002 take none).
    if ((a.mode & this.umask) !== 0) fs.fchmodSync(this.fd, a.mode);
    this.current = a;
    this.mtime = mtime;
    this.left = a.size;
    this.hash = createHash('sha256');
    this.entries++;
    if (a.size === 0) this.close();
  }

  /** Bytes beyond the entry's size are the padding to the next 512-byte block. */
  body(piece: Buffer): void {
    if (this.left === 0) return;
    const data = piece.length > this.left ? piece.subarray(0, this.left) : piece;
    try {
      for (let off = 0; off < data.length; ) off += fs.writeSync(this.fd, data, off);
    } catch (err) {
      // A write names no file of its own: say which one the disk was full for.
      throw Object.assign(err as NodeJS.ErrnoException, { path: (err as NodeJS.ErrnoException).path ?? join(this.root, this.current!.rel) });
    }
    this.hash!.update(data);
    this.left -= data.length;
    this.bytes += data.length;
    if (this.left === 0) this.close();
  }

  /** The archive ended: no file may be left open (the framing has refused a truncated body). */
  finish(): void {
    if (this.fd !== -1) throw new WebtreeError('EBADARCHIVE', `archive entry ${q(this.current?.raw ?? '')} ends early`, { hint: HINT_DAMAGED });
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

  private close(): void {
    const a = this.current!;
    const fd = this.fd;
    this.fd = -1;
    try {
      if (this.mtime) fs.futimesSync(fd, this.mtime, this.mtime);
    } finally {
      fs.closeSync(fd);
    }
    this.files.push({ path: a.rel, size: a.size, sha256: this.hash!.digest('hex'), mode: a.mode });
    this.current = undefined;
  }

  /** Parents the archive only implies, made as node-tar and GNU tar make them: 0755. */
  private parents(rel: string): void {
    const dir = dirname(rel);
    if (dir === '.' || this.made.has(dir)) return;
    this.parents(dir);
    this.mkdir(dir, 0o755);
  }

  private mkdir(rel: string, mode: number): void {
    const p = join(this.root, rel);
    fs.mkdirSync(p, { mode: 0o700 });
    if (this.owner) fs.lchownSync(p, this.owner.uid, this.owner.gid);
    fs.chmodSync(p, mode);
    this.made.add(rel);
    this.entries++;
  }
}
