/**
 * A hashing thread of the hash pool (hash-pool.ts): takes jobs from the shared counter until none
 * is left, writing its answers into the request's shared arrays, then says which files it could
 * not read.
 */
import { parentPort } from 'node:worker_threads';
import { takeJobs, type CheckRequest, type PoolAnswer } from './hash-sync.js';

const port = parentPort!;
port.on('message', (req: CheckRequest) => {
  let answer: PoolAnswer;
  try {
    answer = { errors: takeJobs(req) };
  } catch (err) {
    answer = { error: (err as Error).message };
  }
  port.postMessage(answer);
});
