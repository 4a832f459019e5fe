/**
 * Checking many files on several threads (verify of a version of 100,000 files): the files are
 * cut into jobs of about 4 MiB, and every thread, this one included, takes the next job from one
 * shared counter (Atomics) until none is left: no thread waits for another to hand it work (a
 * job handed over by message waited for this thread to finish its own), and a thread that
 * finishes early takes more. Each pool thread is sent the request once and answers once, at the
 * end. A request of one job is checked here alone: a thread costs more to start than it takes.
 * The pool's threads are started at the first large request (or by warmHashPool) and kept
 * (unref'd) for the next.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { takeJobs, type CheckRequest, type PoolAnswer } from './hash-sync.js';
import { workerFile } from './worker-file.js';

export const JOB_BYTES = 4 * 1024 * 1024;
export const JOB_FILES = 256;

let pool: Worker[] | undefined;

/**
 * How many threads hash, this one included: one per core, at most eight. WEBTREE_HASH_THREADS
 * overrides it (1: this thread alone), for measuring.
 */
export function hashThreads(env: NodeJS.ProcessEnv = process.env): number {
  const asked = Number(env.WEBTREE_HASH_THREADS);
  if (Number.isInteger(asked) && asked >= 1 && asked <= 32) return asked;
  return Math.max(1, Math.min(8, availableParallelism()));
}

function workers(n: number): Worker[] {
  pool ??= [];
  while (pool.length < n) {
    const w = new Worker(workerFile('hash-worker'));
    w.unref();
    pool.push(w);
  }
  return pool.slice(0, n);
}

/** Starts the pool's threads now, so that they are up by the time the walk has made the jobs. */
export function warmHashPool(): void {
  if (hashThreads() > 1) workers(hashThreads() - 1);
}

function ask(w: Worker, req: CheckRequest): Promise<Record<number, string>> {
  return new Promise<Record<number, string>>((resolve, reject) => {
    w.ref();
    const finish = () => {
      w.off('message', onMessage);
      w.off('error', onError);
      w.unref();
    };
    const onMessage = (a: PoolAnswer) => {
      finish();
      if ('error' in a) reject(new Error(`a hashing thread failed: ${a.error}`));
      else resolve(a.errors);
    };
    const onError = (err: unknown) => {
      finish();
      reject(err);
    };
    w.on('message', onMessage);
    w.on('error', onError);
    w.postMessage(req);
  });
}

/** Checks every file of the request (its answers are written into it); the error codes by file. */
export async function checkFiles(req: CheckRequest): Promise<Record<number, string>> {
  const threads = Math.min(hashThreads(), req.ends.length);
  if (threads <= 1) return takeJobs(req);
  const helpers = workers(threads - 1).map((w) => ask(w, req));
  const errors = takeJobs(req);
  for (const e of await Promise.all(helpers)) Object.assign(errors, e);
  return errors;
}
