/**
 * sha256 of files, synchronously, on whichever thread calls it (a hash pool thread, or the main
 * thread taking its share): 1 MiB reads into one reused buffer, which costs no page faults and
 * no thread-pool round trips per read.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';

export interface HashJob {
  id: number;
  paths: string[];
}

/** Per path: the hex digest, or the error code that stopped the read (ENOENT when it went away). */
export interface HashDone {
  id: number;
  results: ({ sha256: string } | { error: string })[];
}

let buf: Buffer | undefined;

export function hashFilesSync(job: HashJob): HashDone {
  buf ??= Buffer.allocUnsafeSlow(1024 * 1024);
  const results: HashDone['results'] = [];
  for (const p of job.paths) {
    let fd = -1;
    try {
      fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      const h = createHash('sha256');
      for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
      results.push({ sha256: h.digest('hex') });
    } catch (err) {
      results.push({ error: (err as NodeJS.ErrnoException).code ?? String(err) });
    } finally {
      if (fd !== -1) fs.closeSync(fd);
    }
  }
  return { id: job.id, results };
}
