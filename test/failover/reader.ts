/**
 * A reader that never stops while a command runs: a worker thread opening every path in a tight
 * loop, counting reads and any read whose bytes differ from the expected ones (or that fails).
 */
import { Worker } from 'node:worker_threads';

const SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { paths, expected, stop } = workerData;
const flag = new Int32Array(stop);
let reads = 0; const bad = [];
while (Atomics.load(flag, 0) === 0) {
  for (let i = 0; i < paths.length; i++) {
    let got;
    try { got = fs.readFileSync(paths[i], 'utf8'); } catch (e) { got = 'ERROR ' + e.code; }
    reads++;
    if (got !== expected[i] && bad.length < 20) bad.push(paths[i] + ': ' + got.slice(0, 60));
  }
}
parentPort.postMessage({ reads, bad });
`;

export interface ReaderResult {
  reads: number;
  bad: string[];
}

export function startReader(paths: string[], expected: string[]): { stop: () => Promise<ReaderResult> } {
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(SCRIPT, { eval: true, workerData: { paths, expected, stop } });
  const result = new Promise<ReaderResult>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    async stop() {
      Atomics.store(new Int32Array(stop), 0, 1);
      const r = await result;
      await worker.terminate();
      return r;
    },
  };
}
