/**
 * An extra writer of the unpacking, on a thread of its own (extract.ts starts them with the
 * reader): it waits for the go, then writes the files the reader sends on its port, each batch
 * whole before the next, and hands back each batch's slab. At the end it sends the main thread
 * the files with their hashes. An abort closes the open file and ends the thread; the main thread
 * removes the tree only once every writer has ended.
 */
import { parentPort } from 'node:worker_threads';
import { WebtreeError } from '../core/errors.js';
import { FileWriter } from './file-writer.js';
import {
  toWorkerError,
  type Abort,
  type FromWriter,
  type Go,
  type ToReader,
  type ToWriter,
} from './unpack-protocol.js';

const main = parentPort!;
let writer: FileWriter | undefined;
let stopped = false;

function fail(err: unknown): void {
  stopped = true;
  writer?.abandon();
  main.postMessage({ kind: 'error', error: toWorkerError(err, err instanceof WebtreeError) } satisfies FromWriter);
}

main.on('message', (m: Go | Abort) => {
  if (m.kind === 'abort') {
    stopped = true;
    writer?.abandon();
    process.exit(0);
  }
  const [port] = m.ports;
  writer = new FileWriter(m.root, m.owner, m.umask);
  const w = writer;
  const slabs: Buffer[] = [];
  port.on('message', (b: ToWriter) => {
    if (stopped) return;
    try {
      if (b.kind === 'end') {
        w.finish();
        const files = w.written.list();
        main.postMessage({ kind: 'done', bytes: w.bytes, files } satisfies FromWriter, [files.digests]);
        port.close();
        return;
      }
      if (b.slab) slabs[b.slot] = Buffer.from(b.slab);
      w.apply(b.code, b.names, slabs[b.slot]);
      port.postMessage({ slot: b.slot } satisfies ToReader);
      main.postMessage({ kind: 'progress', bytes: w.bytes, entries: w.entries } satisfies FromWriter);
    } catch (err) {
      fail(err);
    }
  });
});
