/**
 * A hashing thread of the hash pool (hash-pool.ts): sha256 of each file it is given, read with
 * plain reads into one buffer used again and again.
 */
import { parentPort } from 'node:worker_threads';
import { hashFilesSync, type HashJob } from './hash-sync.js';

const port = parentPort!;
port.on('message', (job: HashJob) => port.postMessage(hashFilesSync(job)));
