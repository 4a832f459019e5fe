/**
 * The reading half of the unpacking (extract.ts and write-worker.ts write), on a worker thread:
 * read the archive, inflate it, hash it, frame it, check every header against the rules, make
 * the directories — and send the writers their files with the bytes to write, in batches each
 * acknowledges. The files of one directory go to one writer while it keeps up (several creating
 * files in one directory queue on its lock), and move to the least busy writer when it does not
 * (a directory of thousands of files would otherwise leave the others idle); directories are
 * made here, before any file in them is sent, so that no writer waits on another. A refusal is sent as an error before any instruction of the
 * refused entry, and nothing is written before the go.
 *
 * Asked to read ahead (the archive is whole and the unpack will most likely follow: install
 * asks while it takes the lock and plans), it reads, inflates, hashes, frames and checks from the
 * request on, while the main thread is still busy with the plan: the directories it would make
 * and the batches it would send wait here (at most its credits' worth of slabs) until the go,
 * which makes the directories first and then sends the batches in order. Without that, the
 * writer sat idle some 40 ms after the go while the first batch was read and inflated.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { dirname, join } from 'node:path';
import { parentPort, type MessagePort } from 'node:worker_threads';
import { WebtreeError } from '../core/errors.js';
import { checkTree } from './check-tree.js';
import { TarFraming, type EntryView } from './framing.js';
import { EntryRules } from './rules.js';
import { openArchive } from './source.js';
import {
  CLOSE,
  OPEN,
  WRITE,
  toWorkerError,
  type Ahead,
  type Check,
  type FromReader,
  type Go,
  type Request,
  type ToReader,
  type ToWriter,
  type UnpackRequest,
} from './unpack-protocol.js';

/** Bytes per batch, and how many batches each writer may hold unacknowledged (the memory in flight). */
const BATCH_BYTES = 1024 * 1024;
const CREDITS = 6;

const main = parentPort!;
/** What to read: the first message (the thread may start before it is known, warm.ts). */
let req: UnpackRequest;
let wake: (() => void) | undefined;
const poke = () => {
  wake?.();
  wake = undefined;
};

/** One writer as the reader sees it: its port, its credits, the batch being filled. */
class Outlet {
  credits = CREDITS;
  /** The batch being filled: its instructions (unpack-protocol.ts) and files' names. */
  code: number[] = [];
  names: string[] = [];
  /** Shared slabs by slot (CREDITS in flight, one being filled, made as first needed), and their views. */
  private readonly slabs: Buffer[] = [];
  /** How many slabs the writer has been sent: a slot's first batch carries its slab. */
  private known = 0;
  private readonly free: number[] = [];
  private slot = -1;
  buf!: Buffer;
  used = 0;

  private port?: MessagePort;
  /** What was sent before the go, in order: posted when the port arrives. */
  private held: ToWriter[] = [];

  constructor() {
    this.take();
  }

  /** The go: the writer's port; what waited for it goes first. */
  attach(port: MessagePort): void {
    port.on('message', (m: ToReader) => {
      this.credits++;
      this.free.push(m.slot);
      poke();
    });
    for (const m of this.held) port.postMessage(m);
    this.held = [];
    this.port = port;
  }

  private post(m: ToWriter): void {
    if (this.port) this.port.postMessage(m);
    else this.held.push(m);
  }

  flush(): void {
    if (this.code.length === 0) return;
    const first = this.slot === this.known;
    if (first) this.known++;
    const batch: ToWriter = { kind: 'batch', slot: this.slot, code: this.code, names: this.names };
    if (first) batch.slab = this.buf.buffer as SharedArrayBuffer;
    this.post(batch);
    this.credits--;
    this.code = [];
    this.names = [];
    this.take();
  }

  /** Starts a file in the batch being filled (mtimeMs NaN for none). */
  open(rel: string, mode: number, mtimeMs: number): void {
    this.code.push(OPEN, mode, mtimeMs);
    this.names.push(rel);
  }

  close(): void {
    this.code.push(CLOSE);
  }

  send(piece: Buffer): void {
    for (let off = 0; off < piece.length;) {
      if (this.used === BATCH_BYTES) this.flush();
      const n = Math.min(BATCH_BYTES - this.used, piece.length - off);
      piece.copy(this.buf, this.used, off, off + n);
      this.code.push(WRITE, this.used, n);
      this.used += n;
      off += n;
    }
  }

  end(): void {
    this.flush();
    this.post({ kind: 'end' });
  }

  /** The next slab to fill: one the writer handed back, or a new one. */
  private take(): void {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.slabs.length;
      this.slabs.push(Buffer.from(new SharedArrayBuffer(BATCH_BYTES)));
    }
    this.slot = slot;
    this.buf = this.slabs[slot];
    this.used = 0;
  }
}

/** The directories, made as the archive names them (parents it only implies: 0755, as GNU tar makes them). */
class Dirs {
  count = 0;
  private readonly made = new Set<string>(['']);
  /** Which writer a directory's files go to while it keeps up. */
  private readonly writerOf = new Map<string, number>();
  private next = 0;
  private go?: Go;
  /** What was to be done before the go, in order: [rel, mode, made already (a chmod)]. */
  private held: [string, number, boolean][] = [];

  /** The go: the directories decided before it are made now, in the archive's order. */
  attach(go: Go): void {
    this.go = go;
    for (const [rel, mode, chmod] of this.held) this.make(rel, mode, chmod);
    this.held = [];
  }

  dir(rel: string, mode: number): void {
    this.parents(rel);
    this.act(rel, mode, this.made.has(rel));
  }

  /** Make the file's directory if the archive only implies it; the writer to send the file to. */
  forFile(rel: string, outlets: Outlet[]): number {
    this.parents(rel);
    const dir = dirname(rel);
    let w = this.writerOf.get(dir);
    if (w === undefined || outlets[w].credits < 2) {
      // The writer with the most batches free, the search starting at the next one in turn.
      w = this.next;
      for (let i = 1; i < outlets.length; i++) {
        const j = (this.next + i) % outlets.length;
        if (outlets[j].credits > outlets[w].credits) w = j;
      }
      this.next = (w + 1) % outlets.length;
      this.writerOf.set(dir, w);
    }
    return w;
  }

  private parents(rel: string): void {
    const dir = dirname(rel);
    if (dir === '.' || this.made.has(dir)) return;
    this.parents(dir);
    this.act(dir, 0o755, false);
  }

  /** Make rel (or chmod it, made already) now, or at the go; either way it counts as made from here on. */
  private act(rel: string, mode: number, chmod: boolean): void {
    if (this.go) this.make(rel, mode, chmod);
    else this.held.push([rel, mode, chmod]);
    if (!chmod) {
      this.made.add(rel);
      this.count++;
    }
  }

  private make(rel: string, mode: number, chmod: boolean): void {
    const p = join(this.go!.root, rel);
    if (chmod) return fs.chmodSync(p, mode);
    const { owner } = this.go!;
    fs.mkdirSync(p, { mode: 0o700 });
    if (owner) fs.lchownSync(p, owner.uid, owner.gid);
    fs.chmodSync(p, mode);
  }
}

/** Archive bytes read so far, and the archive's size: sent ahead of each batch, for the progress report. */
let read = 0;
let size = 0;

/** The go, once it came; what waits for it (the reading's part of it, once the reading has begun). */
let go: Go | undefined;
let onGo: ((g: Go) => void) | undefined;
/** The reading failed (its error is sent): the go, if it comes after, does nothing. */
let failed = false;
/** The check's handler, once the archive is read (the main thread asks once every writer is done). */
let onCheck: ((c: Check) => void) | undefined;

async function run(): Promise<void> {
  const src = await openArchive(req.archive);
  size = src.size;
  try {
    const outlets = Array.from({ length: req.writers }, () => new Outlet());
    const dirs = new Dirs();
    // Hashed from the first byte: whether the hash is wanted is said with the go.
    let archiveHash = createHash('sha256') as ReturnType<typeof createHash> | undefined;
    const attach = (g: Go) => {
      // Directories first: a writer may be sent a file in one as soon as it has its port.
      dirs.attach(g);
      outlets.forEach((o, i) => o.attach(g.ports[i]));
      if (g.hashArchive === false) archiveHash = undefined;
    };
    if (go) attach(go);
    else onGo = attach;
    const rules = new EntryRules(req.limits, src.size);
    let left = 0;
    let out: Outlet = outlets[0];
    const framing = new TarFraming(
      src.name,
      req.limits,
      (v: EntryView) => {
        const a = rules.admit(v);
        if (a.rel === '') return;
        if (a.kind === 'dir') {
          dirs.dir(a.rel, a.mode);
          return;
        }
        out = outlets[dirs.forFile(a.rel, outlets)];
        // A pax mtime that is no number or out of a Date's range is an Invalid Date: none, as
        // node-tar makes of an unreadable header field (futimes would fail on it).
        const mtime = v.mtime?.getTime();
        out.open(a.rel, a.mode, mtime !== undefined && Number.isFinite(mtime) ? mtime : NaN);
        left = a.size;
        if (left === 0) out.close();
      },
      (piece) => {
        if (left === 0) return; // padding
        const data = piece.length > left ? piece.subarray(0, left) : piece;
        out.send(data);
        left -= data.length;
        if (left === 0) out.close();
      },
    );
    const report = () => main.postMessage({ kind: 'read', read, size } satisfies FromReader);
    report();
    for await (const chunk of src.chunks((raw) => {
      archiveHash?.update(raw);
      read += raw.length;
    })) {
      framing.push(chunk);
      let sent = false;
      for (const o of outlets) {
        if (o.used >= BATCH_BYTES / 2 || o.names.length >= 4096) {
          o.flush();
          sent = true;
        }
      }
      if (sent) report();
      // The writer taking the current file must have room; the others were flushed at most once
      // more since they last had some, which bounds what is in flight (before the go too: no
      // credit comes back before it).
      while (out.credits <= 0) await new Promise<void>((r) => (wake = r));
    }
    framing.end();
    const top = rules.finish(src.name, req.layout);
    report();
    for (const o of outlets) o.end();
    rules.dropFolds();
    const entries = rules.size - (top === undefined ? 0 : 1);
    // The end waits for the go, if it has not come: the hash may not be wanted.
    const g = go ?? (await new Promise<Go>((r) => (onGo = (x) => (attach(x), r(x)))));
    const end: FromReader = {
      kind: 'end',
      archiveSha256: archiveHash?.digest('hex') ?? '',
      top,
      bytes: rules.bytes,
      dirs: dirs.count,
      entries,
      name: src.name,
    };
    // The listing stays here: the main thread asks for the check once every writer is done.
    onCheck = (c: Check) => {
      try {
        // The unstripped listing against the scratch directory: the top directory is one of its entries.
        checkTree(
          g.root,
          { entries: rules.size, bytes: rules.bytes, kindAt: (p) => rules.kindAt(p), paths: () => rules.paths() },
          src.name,
          c.bytesWritten,
        );
        main.postMessage({ kind: 'checked' } satisfies FromReader);
      } catch (err) {
        main.postMessage({
          kind: 'error',
          error: toWorkerError(err, err instanceof WebtreeError),
        } satisfies FromReader);
      }
    };
    main.postMessage(end);
  } finally {
    await src.close();
  }
}

let started = false;
function start(): void {
  if (started) return;
  started = true;
  run().catch((err: unknown) => {
    failed = true;
    main.postMessage({ kind: 'error', error: toWorkerError(err, err instanceof WebtreeError) } satisfies FromReader);
  });
}

main.on('message', (m: Request | Ahead | Go | Check) => {
  switch (m.kind) {
    case 'request':
      req = m.req;
      if (req.readAhead) start();
      return;
    case 'ahead':
      return start();
    case 'go':
      if (failed) return;
      go = m;
      onGo?.(m);
      onGo = undefined;
      return start();
    case 'check':
      return onCheck?.(m);
  }
});
