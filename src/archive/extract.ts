/**
 * Safe unpacking of an untrusted .tar / .tar.gz in one pass: read, inflate, check, write and hash
 * each entry as it streams past, into a scratch directory beside dest that nothing serves. The
 * reading, checking and hashing run on a worker thread (unpack-worker.ts), the writing here, so
 * that on two cores the two halves overlap; the worker's instructions come in acknowledged
 * batches (about 12 MiB in flight: eight 1 MiB batches, and what one inflated piece adds).
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
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PACKAGE_ROOT } from '../core/package-root.js';
import { WebtreeError, type ErrorCode } from '../core/errors.js';
import type { Limits } from '../site/types.js';
import { checkTree, strip, type Listing } from './check-tree.js';
import type { ManifestFile } from './manifest.js';
import { HINT_DAMAGED, q } from './names.js';
import type { FromWorker, Instruction, ToWorker, UnpackRequest, WorkerError } from './unpack-protocol.js';

export interface ExtractResult {
  /** Files and directories created under dest. */
  entries: number;
  /** Sum of the sizes of the files created. */
  bytes: number;
  /** The archive's single top-level directory, when it was stripped. */
  strippedTop?: string;
  /** sha256 of the archive file as read. */
  archiveSha256: string;
  /** Every file under dest with its hash (a manifest's entries), in no particular order. */
  files: ManifestFile[];
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
  let writer: TreeWriter | undefined;
  const reader = takePrestarted(archive, opts) ?? startReader({ archive, limits: opts.limits, layout: opts.layout });
  try {
    fs.mkdirSync(scratch, { mode: 0o700 });
    if (opts.owner) fs.lchownSync(scratch, opts.owner.uid, opts.owner.gid);
    writer = new TreeWriter(scratch, opts.owner);
    const end = await write(reader, writer, opts);
    writer.finish();
    const name = end.name;
    if (opts.expectSha256 !== undefined && end.archiveSha256 !== opts.expectSha256) {
      throw new WebtreeError('EBADARCHIVE', `archive ${name} changed while it was being installed (sha256 ${end.archiveSha256.slice(0, 12)}…, was ${opts.expectSha256.slice(0, 12)}…)`, {
        hint: 'Nothing was installed. Let whatever writes the archive finish, then install it again.',
      });
    }
    const listing: Listing = { entries: end.tree.length, bytes: end.bytes, top: end.top, tree: new Map(end.tree.map(([rel, kind, size]) => [rel, { kind, size }])) };
    const root = end.top === undefined ? scratch : join(scratch, end.top);
    // The root itself was made by us (mode 0700 while unpacking); the archive's own mode for its
    // top directory, if it had an entry, is applied by the caller's chmod of dest.
    checkTree(root, listing, name, writer.bytes);
    // dest is an empty directory: rename replaces it in one step.
    fs.renameSync(root, dest);
    fs.rmSync(scratch, { recursive: true, force: true });
    const files = writer.files.map((f) => ({ ...f, path: strip(f.path, end.top) }));
    const result: ExtractResult = { entries: listing.entries, bytes: listing.bytes, archiveSha256: end.archiveSha256, files };
    if (end.top !== undefined) result.strippedTop = end.top;
    return result;
  } catch (err) {
    // File system errors (a full disk, a denied write) go up as they are, with their code and
    // path, for the command line to name.
    writer?.abandon();
    fs.rmSync(scratch, { recursive: true, force: true });
    throw err;
  } finally {
    await reader.worker.terminate();
  }
}

/** A reader worker and what it said before anyone listened (it was started ahead of the unpack). */
interface Reader {
  worker: Worker;
  queue: Heard[];
  listener?: (h: Heard) => void;
}
type Heard = FromWorker | { kind: 'crash'; err: unknown };

function startReader(req: UnpackRequest): Reader {
  const worker = new Worker(WORKER, { workerData: req });
  const r: Reader = { worker, queue: [] };
  const hear = (h: Heard) => (r.listener ? r.listener(h) : r.queue.push(h));
  worker.on('message', (m: FromWorker) => hear(m));
  worker.on('error', (err) => hear({ kind: 'crash', err }));
  worker.on('exit', (code) => hear({ kind: 'crash', err: new WebtreeError('EIO', `the unpacking worker stopped (exit ${code}) before the archive's end`, { hint: 'this is a fault in webtree; report it with the archive' }) }));
  return r;
}

const prestarted = new Map<string, Reader>();
const keyOf = (req: UnpackRequest) => JSON.stringify([req.archive, req.limits, req.layout]);

/**
 * Start reading an archive before the change is planned (install does, once it knows the archive
 * is new): the reader's start-up and first megabytes overlap the lock and the planning. It reads
 * at most its batches' worth ahead (about 12 MiB) and writes nothing; the unpack of the same archive takes it
 * over, and discardPrestarted ends it if none comes.
 */
export function prestartUnpack(archive: string, limits: Limits, layout: 'single-top' | 'any'): void {
  const req: UnpackRequest = { archive, limits, layout };
  if (prestarted.has(keyOf(req))) return;
  const r = startReader(req);
  // Never what keeps the process alive: a plan that needs no unpacking just exits.
  r.worker.unref();
  prestarted.set(keyOf(req), r);
}

export async function discardPrestarted(): Promise<void> {
  const all = [...prestarted.values()];
  prestarted.clear();
  await Promise.all(all.map((r) => r.worker.terminate()));
}

function takePrestarted(archive: string, opts: ExtractOptions): Reader | undefined {
  const key = keyOf({ archive, limits: opts.limits, layout: opts.layout });
  const r = prestarted.get(key);
  prestarted.delete(key);
  r?.worker.ref();
  return r;
}

/** The worker's built file: under the test runner these sources run as TypeScript, the worker from dist/. */
const WORKER = fileURLToPath(import.meta.url).endsWith('.ts')
  ? join(PACKAGE_ROOT, 'dist', 'archive', 'unpack-worker.js')
  : join(dirname(fileURLToPath(import.meta.url)), 'unpack-worker.js');

type End = Extract<FromWorker, { kind: 'end' }>;

/** Carry out the worker's instructions as they come, until its end or its refusal. */
function write(reader: Reader, writer: TreeWriter, opts: ExtractOptions): Promise<End> {
  const { worker } = reader;
  return new Promise<End>((resolve, reject) => {
    let done = false;
    let read = 0;
    let size = 0;
    const finish = (err: unknown, end?: End) => {
      if (done) return;
      done = true;
      opts.signal?.removeEventListener('abort', onAbort);
      if (end) resolve(end);
      else reject(err);
    };
    const onAbort = () => finish(opts.signal!.reason);
    if (opts.signal?.aborted) return finish(opts.signal.reason);
    opts.signal?.addEventListener('abort', onAbort);
    reader.listener = (m: Heard) => {
      if (done) return;
      try {
        switch (m.kind) {
          case 'batch': {
            writer.apply(m.ops, Buffer.from(m.data));
            // Written: the buffer goes back to the reader to be filled again.
            worker.postMessage({ credit: 1, buffer: m.data } satisfies ToWorker, [m.data]);
            opts.onProgress?.({ bytes: writer.bytes, entries: writer.entries, archiveBytes: size, archiveRead: read });
            return;
          }
          case 'read':
            read = m.read;
            size = m.size;
            return;
          case 'end':
            return finish(undefined, m);
          case 'error':
            return finish(revive(m.error));
          case 'crash':
            return finish(m.err);
        }
      } catch (err) {
        finish(err);
      }
    };
    // What it said before we listened (a reader started ahead), in order.
    for (const m of reader.queue.splice(0)) reader.listener(m);
  });
}

/** The worker's error as the one it was: a refusal stays a WebtreeError, a system error keeps its code and path. */
function revive(e: WorkerError): Error {
  if (e.webtree) return new WebtreeError(e.code as ErrorCode, e.message, { hint: e.hint, details: e.details, exitCode: e.exitCode });
  return Object.assign(new Error(e.message), { code: e.code, errno: e.errno, syscall: e.syscall, path: e.path });
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


const FILE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/** The process's umask, read once (setting it back at once): open() applies it to every mode. */
function readUmask(): number {
  const mask = process.umask(0o022);
  process.umask(mask);
  return mask;
}

/**
 * Carries out the reader's instructions under root, synchronously: every system call of a batch
 * is finished before the next is taken, so a refusal never races a write still in flight.
 */
class TreeWriter {
  bytes = 0;
  entries = 0;
  readonly files: ManifestFile[] = [];
  private readonly made = new Set<string>(['']);
  private fd = -1;
  private rel = '';
  private mode = 0;
  private size = 0;
  private mtime?: Date;
  private hash?: Hash;
  private readonly umask = readUmask();

  constructor(
    private readonly root: string,
    private readonly owner?: { uid: number; gid: number },
  ) {}

  apply(ops: Instruction[], data: Buffer): void {
    for (const op of ops) {
      switch (op[0]) {
        case 'd':
          this.dir(op[1], op[2]);
          break;
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
    if (this.fd !== -1) throw new WebtreeError('EBADARCHIVE', `archive entry ${q(this.rel)} ends early`, { hint: HINT_DAMAGED });
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

  private dir(rel: string, mode: number): void {
    this.parents(rel);
    if (this.made.has(rel)) fs.chmodSync(join(this.root, rel), mode);
    else this.mkdir(rel, mode);
  }

  private open(rel: string, mode: number, mtimeMs: number | null): void {
    this.parents(rel);
    this.fd = fs.openSync(join(this.root, rel), FILE_FLAGS, mode);
    if (this.owner) fs.fchownSync(this.fd, this.owner.uid, this.owner.gid);
    // Explicitly only when the umask took bits from it (safe modes have no group or other write
    // bits, so the usual 022 and 002 take none).
    if ((mode & this.umask) !== 0) fs.fchmodSync(this.fd, mode);
    this.rel = rel;
    this.mode = mode;
    this.size = 0;
    this.mtime = mtimeMs === null ? undefined : new Date(mtimeMs);
    this.hash = createHash('sha256');
    this.entries++;
  }

  private write(data: Buffer): void {
    try {
      for (let off = 0; off < data.length; ) off += fs.writeSync(this.fd, data, off);
    } catch (err) {
      // A write names no file of its own: say which one the disk was full for.
      throw Object.assign(err as NodeJS.ErrnoException, { path: (err as NodeJS.ErrnoException).path ?? join(this.root, this.rel) });
    }
    this.hash!.update(data);
    this.size += data.length;
    this.bytes += data.length;
  }

  private close(): void {
    const sha256 = this.hash!.digest('hex');
    const fd = this.fd;
    this.fd = -1;
    try {
      if (this.mtime) fs.futimesSync(fd, this.mtime, this.mtime);
    } finally {
      fs.closeSync(fd);
    }
    this.files.push({ path: this.rel, size: this.size, sha256, mode: this.mode });
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
