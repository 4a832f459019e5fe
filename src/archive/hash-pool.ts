/**
 * Hashing many files on several threads (verify of a version of 100,000 files): the files are
 * cut into jobs of about 4 MiB, taken in turn by the pool's threads and by this thread itself,
 * one job at a time, so that a thread that finishes early takes more. Fewer bytes than a job's
 * worth are hashed here at once: a thread costs more to start than they take to hash.
 * The pool's threads are started at the first large request and kept (unref'd) for the next.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { hashFilesSync, type HashDone, type HashJob } from './hash-sync.js';
import { workerFile } from './worker-file.js';

const JOB_BYTES = 4 * 1024 * 1024;
const JOB_FILES = 256;

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

/** The sha256 of each file (or the error code that stopped its read), in the order given. */
export async function hashFiles(files: { path: string; size: number }[]): Promise<HashDone['results']> {
  const jobs: HashJob[] = [];
  let bytes = 0;
  for (let i = 0, start = 0; i < files.length; i++) {
    bytes += files[i].size;
    if (bytes >= JOB_BYTES || i - start + 1 >= JOB_FILES || i === files.length - 1) {
      jobs.push({ id: jobs.length, paths: files.slice(start, i + 1).map((f) => f.path) });
      start = i + 1;
      bytes = 0;
    }
  }
  const threads = hashThreads();
  if (jobs.length <= 1 || threads === 1) return jobs.flatMap((j) => hashFilesSync(j).results);
  const results: HashDone['results'][] = new Array<HashDone['results']>(jobs.length);
  let next = 0;
  const take = () => (next < jobs.length ? jobs[next++] : undefined);
  const helpers = workers(Math.min(threads - 1, jobs.length - 1)).map(
    (w) =>
      new Promise<void>((resolve, reject) => {
        w.ref();
        const give = () => {
          const job = take();
          if (!job) return finish();
          w.postMessage(job);
        };
        const onMessage = (done: HashDone) => {
          results[done.id] = done.results;
          give();
        };
        const onError = (err: unknown) => {
          finish();
          reject(err);
        };
        const finish = () => {
          w.off('message', onMessage);
          w.off('error', onError);
          w.unref();
          resolve();
        };
        w.on('message', onMessage);
        w.on('error', onError);
        give();
      }),
  );
  // This thread takes jobs too, letting the others' answers in between.
  for (let job = take(); job; job = take()) {
    results[job.id] = hashFilesSync(job).results;
    await new Promise<void>((r) => setImmediate(r));
  }
  await Promise.all(helpers);
  return results.flat();
}
