/**
 * The reading half of the unpacking (extract.ts is the writing half), on a worker thread so that
 * the two run side by side on two cores: read the archive, inflate it, hash it, frame it, check
 * every header against the rules — and send the writer a stream of instructions with the bytes
 * to write, in batches it acknowledges (the writer hashes each file: measured, that balances
 * the two threads best). Nothing here touches the
 * destination; a refusal is sent as an error before any instruction of the refused entry.
 */
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { WebtreeError } from '../core/errors.js';
import type { Limits } from '../site/types.js';
import { strip } from './check-tree.js';
import { TarFraming, type EntryView } from './framing.js';
import { EntryRules } from './rules.js';
import { openArchive } from './source.js';
import type { FromWorker, Instruction, ToWorker, UnpackRequest } from './unpack-protocol.js';

/** Bytes per batch, and how many batches may wait unacknowledged (the memory the two may hold). */
const BATCH_BYTES = 1024 * 1024;
const CREDITS = 8;

const port = parentPort!;
const req = workerData as UnpackRequest;
let credits = CREDITS;
let wake: (() => void) | undefined;
/** Batch buffers the writer has handed back: reused, so that a big archive allocates eight, not hundreds. */
const spare: ArrayBuffer[] = [];
port.on('message', (m: ToWorker) => {
  credits += m.credit;
  if (m.buffer && m.buffer.byteLength === BATCH_BYTES) spare.push(m.buffer);
  wake?.();
  wake = undefined;
});

let ops: Instruction[] = [];
let buf = Buffer.allocUnsafeSlow(BATCH_BYTES);
let used = 0;
/** Archive bytes read so far, and the archive's size: sent ahead of each batch, for the progress report. */
let read = 0;
let size = 0;

function flush(): void {
  if (ops.length === 0) return;
  port.postMessage({ kind: 'read', read, size } satisfies FromWorker);
  const data = buf.buffer;
  const msg: FromWorker = { kind: 'batch', ops, data };
  port.postMessage(msg, [data]);
  credits--;
  ops = [];
  const again = spare.pop();
  buf = again ? Buffer.from(again) : Buffer.allocUnsafeSlow(BATCH_BYTES);
  used = 0;
}

function send(piece: Buffer): void {
  for (let off = 0; off < piece.length; ) {
    if (used === BATCH_BYTES) flush();
    const n = Math.min(BATCH_BYTES - used, piece.length - off);
    piece.copy(buf, used, off, off + n);
    ops.push(['w', used, n]);
    used += n;
    off += n;
  }
}

async function run(limits: Limits): Promise<void> {
  const src = await openArchive(req.archive);
  size = src.size;
  try {
    const rules = new EntryRules(limits, src.size);
    let left = 0;
    const close = () => {
      ops.push(['c']);
    };
    const framing = new TarFraming(
      src.name,
      limits,
      (v: EntryView) => {
        const a = rules.admit(v);
        if (a.rel === '') return;
        if (a.kind === 'dir') {
          ops.push(['d', a.rel, a.mode]);
          return;
        }
        // A pax mtime that is no number or out of a Date's range is an Invalid Date: none, as
        // node-tar makes of an unreadable header field (futimes would fail on it).
        const mtime = v.mtime?.getTime();
        ops.push(['f', a.rel, a.mode, mtime !== undefined && Number.isFinite(mtime) ? mtime : null]);
        left = a.size;
        if (left === 0) close();
      },
      (piece) => {
        if (left === 0) return; // padding
        const data = piece.length > left ? piece.subarray(0, left) : piece;
        send(data);
        left -= data.length;
        if (left === 0) close();
      },
    );
    const archiveHash = createHash('sha256');
    for await (const chunk of src.chunks((raw) => {
      archiveHash.update(raw);
      read += raw.length;
    })) {
      framing.push(chunk);
      if (used >= BATCH_BYTES / 2 || ops.length >= 4096) flush();
      while (credits <= 0) await new Promise<void>((r) => (wake = r));
    }
    framing.end();
    const top = rules.finish(src.name, req.layout);
    flush();
    const tree: [string, 'file' | 'dir', number][] = [];
    for (const [rel, node] of rules.tree) {
      const s = strip(rel, top);
      if (s !== '') tree.push([s, node.kind, node.size]);
    }
    const end: FromWorker = { kind: 'end', archiveSha256: archiveHash.digest('hex'), top, bytes: rules.bytes, tree, name: src.name };
    port.postMessage(end);
  } finally {
    await src.close();
  }
}

run(req.limits).catch((err: unknown) => {
  const e = err as Partial<WebtreeError> & NodeJS.ErrnoException;
  const msg: FromWorker = {
    kind: 'error',
    error: {
      webtree: err instanceof WebtreeError,
      code: e?.code,
      message: e?.message ?? String(err),
      hint: e?.hint,
      details: e?.details,
      exitCode: e?.exitCode,
      errno: e?.errno,
      syscall: e?.syscall,
      path: e?.path,
    },
  };
  port.postMessage(msg);
});
