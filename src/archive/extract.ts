/**
 * Safe unpacking of an untrusted .tar / .tar.gz in one pass: read, inflate, check, write and hash
 * each entry as it streams past, into a scratch directory beside dest that nothing serves. The
 * reading, checking and hashing run on a worker thread (unpack-worker.ts), the writing here, so
 * that on two cores the two halves overlap; the worker's instructions come in acknowledged
 * batches, each in one of a few 1 MiB slabs of shared memory that go back and forth by number
 * (unpack-protocol.ts).
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
import { once } from 'node:events';
import fs from 'node:fs';
import { availableParallelism } from 'node:os';
import v8 from 'node:v8';
import { join } from 'node:path';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { WebtreeError, type ErrorCode } from '../core/errors.js';
import type { Limits } from '../site/types.js';
import { strip } from './check-tree.js';
import { FileWriter } from './file-writer.js';
import { newReader, takeWarmReader, dropWarmReader } from './warm.js';
import { workerFile } from './worker-file.js';
import type { ManifestFile } from './manifest.js';
import { filesOf, sortedFiles, type WrittenList } from './written-files.js';
import type {
  Abort,
  Ahead,
  Check,
  FromReader,
  FromWriter,
  Go,
  Request,
  ToReader,
  ToWriter,
  UnpackRequest,
  WorkerError,
} from './unpack-protocol.js';

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
  /** expectSha256 is the archive's, checked by this process (archive/verified.ts): not hashed again. */
  knownSha256?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: ExtractProgress) => void;
  /**
   * Told, once every file is written, the archive's sha256 and the files (under dest, sorted by
   * path, each made as it is taken): called while the reader makes its last check of the tree on
   * its own thread, when this one would only wait, so that the caller writes the manifest then.
   * The unpack ends when both have; a failure of either fails it. The result's `files` is then
   * left empty (they were given here).
   */
  onWritten?: (w: { archiveSha256: string; files: Iterable<ManifestFile> }) => Promise<void>;
}

/** Where the tree is unpacked before it is moved onto dest; swept with dest's leftovers. */
export const scratchFor = (dest: string) => `${dest}.unpack`;

export async function extractArchive(archive: string, dest: string, opts: ExtractOptions): Promise<ExtractResult> {
  checkDest(dest);
  keepYoungGenerationSmall();
  const scratch = scratchFor(dest);
  let writer: FileWriter | undefined;
  let result: ExtractResult | undefined;
  let written: WrittenList[] = [];
  let top: string | undefined;
  const team =
    takePrestarted(archive, opts) ??
    startTeam({ archive, limits: opts.limits, layout: opts.layout, writers: writerCount(), readAhead: true });
  try {
    fs.mkdirSync(scratch, { mode: 0o700 });
    if (opts.owner) fs.lchownSync(scratch, opts.owner.uid, opts.owner.gid);
    const umask = readUmask();
    writer = new FileWriter(scratch, opts.owner, umask);
    // One channel per writer to the reader, this thread's first.
    const channels = Array.from({ length: team.writers.length + 1 }, () => new MessageChannel());
    team.ownPort = channels[0].port1;
    const done = write(team, writer, opts);
    const go = (ports: MessagePort[]): Go => ({ kind: 'go', root: scratch, owner: opts.owner, umask, ports });
    const known = opts.knownSha256 === true && opts.expectSha256 !== undefined;
    team.reader.postMessage(
      { ...go(channels.map((c) => c.port2)), ...(known ? { hashArchive: false } : {}) },
      channels.map((c) => c.port2),
    );
    team.writers.forEach((w, i) => w.worker.postMessage(go([channels[i + 1].port1]), [channels[i + 1].port1]));
    const { end, files } = await done;
    if (known) end.archiveSha256 = opts.expectSha256!;
    const name = end.name;
    if (opts.expectSha256 !== undefined && end.archiveSha256 !== opts.expectSha256) {
      throw new WebtreeError(
        'EBADARCHIVE',
        `archive ${name} changed while it was being installed (sha256 ${end.archiveSha256.slice(0, 12)}…, was ${opts.expectSha256.slice(0, 12)}…)`,
        {
          hint: 'Nothing was installed. Let whatever writes the archive finish, then install it again.',
        },
      );
    }
    const checked = check(
      team,
      files.reduce((n, l) => l.sizes.reduce((m, size) => m + size, n), 0),
    );
    const given = opts.onWritten?.({
      archiveSha256: end.archiveSha256,
      files: sortedFiles(files, (p) => strip(p, end.top)),
    });
    // Both ended before either's failure is reported: a manifest still being written must not
    // outlive the removal of the temporaries that follows a failure.
    const [c, g] = await Promise.allSettled([checked, given]);
    if (c.status === 'rejected') throw c.reason;
    if (g.status === 'rejected') throw g.reason;
    const root = end.top === undefined ? scratch : join(scratch, end.top);
    // dest is an empty directory: rename replaces it in one step.
    fs.renameSync(root, dest);
    fs.rmSync(scratch, { recursive: true, force: true });
    written = files;
    top = end.top;
    result = { entries: end.entries, bytes: end.bytes, archiveSha256: end.archiveSha256, files: [] };
    if (end.top !== undefined) result.strippedTop = end.top;
  } catch (err) {
    // Every writer stops (its open file closed) before the tree goes: none may write after the
    // removal. File system errors (a full disk, a denied write) go up as they are, with their
    // code and path, for the command line to name.
    writer?.abandon();
    await stopWriters(team);
    // The reader makes the directories: stopped too before the tree goes, or a mkdir of its
    // landing during the removal failed it with ENOTEMPTY, in place of the error that stopped us
    // (seen once in test/security/root-as-account.test.ts's race).
    await team.reader.terminate();
    try {
      fs.rmSync(scratch, { recursive: true, force: true });
    } catch {
      // The error that stopped the unpack is the one to report; the executor removes the scratch
      // directory again with the temporaries, and the next command sweeps what is left.
    }
    throw err;
  } finally {
    team.ownPort?.close();
    const ended = Promise.all([team.reader.terminate(), ...team.writers.map((w) => w.worker.terminate())]);
    // Waited for before the entries are made (the reader's listing gone first), or after a
    // failure; given to onWritten, there are none to make: the threads end while the caller goes on.
    if (result === undefined || !opts.onWritten) await ended;
    else ended.catch(() => undefined);
  }
  // The manifest's entries, made once the reader (and its listing) is gone; none when onWritten had them.
  if (!opts.onWritten) result.files = filesOf(written, (p) => strip(p, top));
  return result;
}

/**
 * How many threads write files: the main thread, and one more per core beyond the second, at
 * most four. The reader and the inflater (on libuv's pool) already keep two cores busy; on two
 * cores a second writer measured 5-15 % more CPU time (a thread's start, an isolate's heap) and
 * 55 MB more peak memory at 1 GiB, for no core to run on (docs/benchmarks.md, issue 15).
 * WEBTREE_WRITERS overrides it, for measuring.
 */
export function writerCount(env: NodeJS.ProcessEnv = process.env): number {
  const asked = Number(env.WEBTREE_WRITERS);
  if (Number.isInteger(asked) && asked >= 1 && asked <= 16) return asked;
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/** The reader and the writer threads of one unpacking, and what they said before anyone listened. */
interface Team {
  reader: Worker;
  writers: { worker: Worker; exited: boolean }[];
  ownPort?: MessagePort;
  queue: Heard[];
  listener?: (h: Heard) => void;
}
type Heard = FromReader | (FromWriter & { writer: number }) | { kind: 'crash'; err: unknown };

function startTeam(req: UnpackRequest): Team {
  const reader = takeWarmReader() ?? newReader();
  reader.postMessage({ kind: 'request', req } satisfies Request);
  const t: Team = { reader, writers: [], queue: [] };
  const hear = (h: Heard) => (t.listener ? t.listener(h) : t.queue.push(h));
  const crashed = (what: string) => (code: number) =>
    hear({
      kind: 'crash',
      err: new WebtreeError('EIO', `the unpacking ${what} stopped (exit ${code}) before the archive's end`, {
        hint: 'this is a fault in webtree; report it with the archive',
      }),
    });
  reader.on('message', (m: FromReader) => hear(m));
  reader.on('error', (err) => hear({ kind: 'crash', err }));
  reader.on('exit', crashed('reader'));
  for (let i = 1; i < req.writers; i++) {
    const w = { worker: new Worker(WRITER), exited: false };
    w.worker.on('message', (m: FromWriter) => hear({ ...m, writer: i }));
    w.worker.on('error', (err) => hear({ kind: 'crash', err }));
    w.worker.on('exit', (code) => {
      w.exited = true;
      crashed('writer')(code);
    });
    t.writers.push(w);
  }
  return t;
}

/** Tell every writer thread to stop, and wait until each has (its open file closed). */
async function stopWriters(team: Team): Promise<void> {
  await Promise.all(
    team.writers.map(async (w) => {
      if (w.exited) return;
      const gone = once(w.worker, 'exit');
      w.worker.postMessage({ kind: 'abort' } satisfies Abort);
      await gone;
    }),
  );
}

const prestarted = new Map<string, Team>();
const keyOf = (req: Omit<UnpackRequest, 'writers' | 'readAhead'>) =>
  JSON.stringify([req.archive, req.limits, req.layout]);

/**
 * Start the unpacking's threads before the change is planned (install does, once it knows the
 * archive is new): their start-up overlaps the lock and the planning. With `readAhead` (the
 * archive is whole: not a download still under way) the reader reads, checks and frames its
 * start meanwhile; nothing is made or written before the go (unpack-worker.ts). The unpack of the
 * same archive takes them over, and discardPrestarted ends them if none comes. Asked again with
 * `readAhead` (the download is done), threads started without it begin reading.
 */
export function prestartUnpack(
  archive: string,
  limits: Limits,
  layout: 'single-top' | 'any',
  readAhead: boolean,
): void {
  const req: UnpackRequest = { archive, limits, layout, writers: writerCount(), readAhead };
  const known = prestarted.get(keyOf(req));
  if (known) {
    if (readAhead) known.reader.postMessage({ kind: 'ahead' } satisfies Ahead);
    return;
  }
  const t = startTeam(req);
  // Never what keeps the process alive: a plan that needs no unpacking just exits.
  t.reader.unref();
  for (const w of t.writers) w.worker.unref();
  prestarted.set(keyOf(req), t);
}

export async function discardPrestarted(): Promise<void> {
  const all = [...prestarted.values()];
  prestarted.clear();
  await Promise.all([
    dropWarmReader(),
    ...all.flatMap((t) => [t.reader.terminate(), ...t.writers.map((w) => w.worker.terminate())]),
  ]);
}

function takePrestarted(archive: string, opts: ExtractOptions): Team | undefined {
  const key = keyOf({ archive, limits: opts.limits, layout: opts.layout });
  const t = prestarted.get(key);
  prestarted.delete(key);
  t?.reader.ref();
  for (const w of t?.writers ?? []) w.worker.ref();
  return t;
}

const WRITER = workerFile('write-worker');

type End = Extract<FromReader, { kind: 'end' }>;

/**
 * Write what the reader sends this thread, until the reader's end and every writer's: the files
 * of all writers, with their hashes. Settles at the first refusal or failure of any of them.
 */
function write(team: Team, writer: FileWriter, opts: ExtractOptions): Promise<{ end: End; files: WrittenList[] }> {
  return new Promise((resolve, reject) => {
    let done = false;
    let read = 0;
    let size = -1;
    let end: End | undefined;
    let ownDone = false;
    const files: WrittenList[] = [];
    const progress = team.writers.map(() => ({ bytes: 0, entries: 0 }));
    let left = team.writers.length;
    const finish = (err: unknown) => {
      if (done) return;
      done = true;
      opts.signal?.removeEventListener('abort', onAbort);
      if (err !== undefined) reject(err);
      else resolve({ end: end!, files: [writer.written.list(), ...files] });
    };
    const maybeDone = () => {
      if (end && ownDone && left === 0) finish(undefined);
    };
    const report = () => {
      if (size < 0 || !opts.onProgress) return;
      const bytes = progress.reduce((n, p) => n + p.bytes, writer.bytes);
      const entries = progress.reduce((n, p) => n + p.entries, writer.entries);
      opts.onProgress({ bytes, entries, archiveBytes: size, archiveRead: read });
    };
    const onAbort = () => finish(opts.signal!.reason);
    if (opts.signal?.aborted) return finish(opts.signal.reason);
    opts.signal?.addEventListener('abort', onAbort);
    const slabs: Buffer[] = [];
    const onBatch = (b: ToWriter) => {
      if (done) return;
      try {
        if (b.kind === 'end') {
          writer.finish();
          ownDone = true;
          return maybeDone();
        }
        if (b.slab) slabs[b.slot] = Buffer.from(b.slab);
        writer.apply(b.code, b.names, slabs[b.slot]);
        // Written: the slab goes back to the reader to be filled again.
        team.ownPort!.postMessage({ slot: b.slot } satisfies ToReader);
        report();
      } catch (err) {
        finish(err);
      }
    };
    team.listener = (m: Heard) => {
      if (done) return;
      switch (m.kind) {
        case 'read':
          read = m.read;
          size = m.size;
          return report();
        case 'progress':
          progress[m.writer - 1] = { bytes: m.bytes, entries: m.entries };
          return report();
        case 'done':
          files.push(m.files);
          left--;
          return maybeDone();
        case 'end':
          end = m;
          return maybeDone();
        case 'error':
          return finish(revive(m.error));
        case 'crash':
          return finish(m.err);
      }
    };
    team.ownPort!.on('message', onBatch);
    // What they said before we listened (threads started ahead), in order.
    for (const m of team.queue.splice(0)) team.listener(m);
  });
}

/**
 * The last word on the tree (check-tree.ts), said by the reader, which holds the archive's
 * listing: the root itself was made by us (mode 0700 while unpacking); the archive's own mode
 * for its top directory, if it had an entry, is applied by the caller's chmod of dest.
 */
function check(team: Team, bytesWritten: number): Promise<void> {
  return new Promise((resolve, reject) => {
    team.listener = (m: Heard) => {
      if (m.kind === 'checked') resolve();
      else if (m.kind === 'error') reject(revive(m.error));
      else if (m.kind === 'crash') reject(m.err);
    };
    team.reader.postMessage({ kind: 'check', bytesWritten } satisfies Check);
  });
}

/** The worker's error as the one it was: a refusal stays a WebtreeError, a system error keeps its code and path. */
function revive(e: WorkerError): Error {
  if (e.webtree)
    return new WebtreeError(e.code as ErrorCode, e.message, { hint: e.hint, details: e.details, exitCode: e.exitCode });
  return Object.assign(new Error(e.message), { code: e.code, errno: e.errno, syscall: e.syscall, path: e.path });
}

/**
 * From the unpack on, no thread's young generation grows past its first few MB. This thread
 * keeps a record of every file written (100,000 at 1 GiB), which survives its first collections;
 * V8 then grows the young generation to 32 MB, nearly all of it dead pieces of messages between
 * collections. Held small, the peak at 1 GiB fell by 15-25 MB in alternated runs, for no
 * measurable CPU (docs/benchmarks.md, issue 15). V8 reads this flag at each growth, so setting
 * it now applies to heaps already running (Node's `--max-semi-space-size` is fixed at start).
 */
function keepYoungGenerationSmall(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}

/** The staging directory must be a real, empty directory: a link there would redirect everything. */
function checkDest(dest: string): void {
  let st;
  try {
    st = fs.lstatSync(dest);
  } catch (err) {
    throw new WebtreeError('EIO', `staging directory ${dest} cannot be used: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!st.isDirectory())
    throw new WebtreeError('EIO', `staging directory ${dest} is not a directory (or is a symbolic link)`);
  if (fs.readdirSync(dest).length > 0) throw new WebtreeError('EIO', `staging directory ${dest} is not empty`);
}

/** The process's umask, read once (setting it back at once): open() and mkdir() apply it to every mode. */
function readUmask(): number {
  const mask = process.umask(0o022);
  process.umask(mask);
  return mask;
}
