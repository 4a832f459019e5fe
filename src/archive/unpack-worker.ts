/**
 * The reading half of the unpacking (extract.ts and write-worker.ts write), on a worker thread:
 * read the archive, inflate it, hash it, frame it, check every header against the rules, make
 * the directories — and send the writers their files with the bytes to write, in batches each
 * acknowledges. The files of one directory go to one writer while it keeps up (several creating
 * files in one directory queue on its lock), and move to the least busy writer when it does not
 * (a directory of thousands of files would otherwise leave the others idle); directories are
 * made here, before any file in them is sent, so that no writer waits on another. A refusal is sent as an error before any instruction of the
 * refused entry, and nothing is written before the go.
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

  constructor(private readonly port: MessagePort) {
    this.take();
    port.on('message', (m: ToReader) => {
      this.credits++;
      this.free.push(m.slot);
      poke();
    });
  }

  flush(): void {
    if (this.code.length === 0) return;
    const first = this.slot === this.known;
    if (first) this.known++;
    const batch: ToWriter = { kind: 'batch', slot: this.slot, code: this.code, names: this.names };
    if (first) batch.slab = this.buf.buffer as SharedArrayBuffer;
    this.port.postMessage(batch);
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
    this.port.postMessage({ kind: 'end' } satisfies ToWriter);
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

  constructor(private readonly go: Go) {}

  dir(rel: string, mode: number): void {
    this.parents(rel);
    if (this.made.has(rel)) fs.chmodSync(join(this.go.root, rel), mode);
    else this.mkdir(rel, mode);
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
    this.mkdir(dir, 0o755);
  }

  private mkdir(rel: string, mode: number): void {
    const p = join(this.go.root, rel);
    const { owner } = this.go;
    fs.mkdirSync(p, { mode: 0o700 });
    if (owner) fs.lchownSync(p, owner.uid, owner.gid);
    fs.chmodSync(p, mode);
    this.made.add(rel);
    this.count++;
  }
}

/** Archive bytes read so far, and the archive's size: sent ahead of each batch, for the progress report. */
let read = 0;
let size = 0;

async function run(go: Go): Promise<void> {
  const src = await openArchive(req.archive);
  size = src.size;
  try {
    const outlets = go.ports.map((p) => new Outlet(p));
    const dirs = new Dirs(go);
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
    const archiveHash = go.hashArchive === false ? undefined : createHash('sha256');
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
      // more since they last had some, which bounds what is in flight.
      while (out.credits <= 0) await new Promise<void>((r) => (wake = r));
    }
    framing.end();
    const top = rules.finish(src.name, req.layout);
    report();
    for (const o of outlets) o.end();
    rules.dropFolds();
    const entries = rules.size - (top === undefined ? 0 : 1);
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
    main.once('message', (c: Check) => {
      try {
        // The unstripped listing against the scratch directory: the top directory is one of its entries.
        checkTree(
          go.root,
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
    });
    main.postMessage(end);
  } finally {
    await src.close();
  }
}

main.once('message', (r: Request) => {
  req = r.req;
  main.once('message', (go: Go) => {
    run(go).catch((err: unknown) => {
      main.postMessage({ kind: 'error', error: toWorkerError(err, err instanceof WebtreeError) } satisfies FromReader);
    });
  });
});
