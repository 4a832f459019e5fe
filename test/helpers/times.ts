import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * An edit by hand that puts the file's (or directory's) access and modification times back
 * exactly, to the nanosecond, as `cp -p`, `touch -r` or `rsync -t` can: through touch -r and a
 * reference file. From Node, utimes of mtimeMs / 1000 loses the nanoseconds, and so moves the
 * time the edit meant to keep: a test of "the time set back" then passes on the modification time
 * alone. Throws unless the change time is all that moved of what the listing memo's key holds
 * (device, inode, modification time, link count, size), so that a test using it fails if the
 * memo stops looking at the change time.
 */
export function editKeepingTimes(file: string, edit: () => void): void {
  const refDir = fs.mkdtempSync(path.join(os.tmpdir(), 'webtree-times-'));
  try {
    const ref = path.join(refDir, 'ref');
    fs.writeFileSync(ref, '');
    execFileSync('touch', ['-r', file, ref]);
    const before = fs.statSync(file, { bigint: true });
    edit();
    execFileSync('touch', ['-r', ref, file]);
    const after = fs.statSync(file, { bigint: true });
    const kept = (s: fs.BigIntStats) => [s.dev, s.ino, s.mtimeNs, s.nlink, s.size].join(':');
    if (kept(after) !== kept(before) || after.ctimeNs === before.ctimeNs)
      throw new Error(
        `the edit of ${file} moved more than its change time, or not that: ${kept(before)} -> ${kept(after)}`,
      );
  } finally {
    fs.rmSync(refDir, { recursive: true, force: true });
  }
}
