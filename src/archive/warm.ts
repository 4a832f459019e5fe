/**
 * The unpacking's reader thread, started before anyone knows what it will read: bin/webtree.js
 * starts it first thing when the command line holds `install`, so that the thread's start-up
 * (a fresh isolate loading zlib, crypto and the tar decoder: 50-90 ms of CPU) runs on the second
 * core while this one loads the CLI. extract.ts takes it over with its request; a process that
 * never unpacks just exits past it (the thread keeps nothing alive).
 */
import { Worker } from 'node:worker_threads';
import { workerFile } from './worker-file.js';

/**
 * The reader's young generation kept small: what it allocates per entry dies at once, and with
 * V8's default (tens of MB) the dead inflated pieces and headers piled up between collections:
 * 35 MB more peak memory at 1 GiB, for no CPU saved (docs/benchmarks.md, issue 15).
 */
const READER_LIMITS = { maxYoungGenerationSizeMb: 4 };
const READER = workerFile('unpack-worker');

type Warm = { worker: Worker; exited: boolean };
/**
 * The thread is kept where every copy of this module sees it: bin/webtree.js starts it from
 * dist/bundle/archive/warm.cjs, and the install that takes it runs from dist/bundle/install.cjs,
 * which holds a copy of this module of its own (scripts/bundle.mjs).
 */
const KEY = Symbol.for('webtree.warmReader');
const slot = globalThis as typeof globalThis & { [KEY]?: Warm };

/** A new reader thread, waiting for its request (unpack-protocol.ts). */
export function newReader(): Worker {
  return new Worker(READER, { resourceLimits: READER_LIMITS });
}

export function warmReader(): void {
  if (slot[KEY]) return;
  const w = { worker: newReader(), exited: false };
  w.worker.unref();
  // A thread that could not start is not used: the unpack starts one of its own and hears why.
  w.worker.on('error', () => undefined);
  w.worker.on('exit', () => (w.exited = true));
  slot[KEY] = w;
}

/** The thread warmReader started, if it is still there to be used (once). */
export function takeWarmReader(): Worker | undefined {
  const w = slot[KEY];
  slot[KEY] = undefined;
  if (!w || w.exited) return undefined;
  w.worker.removeAllListeners();
  w.worker.ref();
  return w.worker;
}

/** Ends the thread warmReader started if nothing took it. */
export async function dropWarmReader(): Promise<void> {
  const w = slot[KEY];
  slot[KEY] = undefined;
  if (w && !w.exited) await w.worker.terminate();
}
