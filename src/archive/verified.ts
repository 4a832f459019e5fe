/**
 * The archives this process has just verified in webtree's cache: the fetch hashed their bytes
 * as it wrote them (or hashed a cached file before use) and found the pinned sha256. The unpack
 * of such an archive need not hash it a second time (63 MB of sha256 on the reader thread, for
 * the archive of benchmark 4): its sha256 is already known, and it was checked before a byte was
 * unpacked.
 *
 * Why the bytes cannot change in between: the cache (<state>/cache) is webtree's own directory,
 * written only by webtree as the service account; the entry is renamed into place only after the
 * check; and the file's identity (device, inode, size, modification and change times) is compared
 * again right before the unpack reads it — any write, truncation or replacement since changes
 * the change time or the inode, and then the unpack hashes as usual and refuses a mismatch.
 * (File times move in clock ticks of a few ms, so a rewrite of the same size within one tick
 * would not show: the check is the second line; the first is that nobody else writes there.)
 * Only archives verified by this process count: a later command (a recovery, another install)
 * hashes again.
 */
import fs from 'node:fs';

type Identity = Pick<fs.BigIntStats, 'dev' | 'ino' | 'size' | 'mtimeNs' | 'ctimeNs'>;

const verified = new Map<string, { sha256: string; id: Identity }>();

const same = (a: Identity, b: Identity) =>
  a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

/** `file` (a cache entry) holds bytes whose sha256 is `sha256`, as found by this process now. */
export function markVerified(file: string, sha256: string): void {
  verified.set(file, { sha256, id: fs.statSync(file, { bigint: true }) });
}

/** Whether `file` is still the cache entry this process verified to have `sha256`, unchanged since. */
export function verifiedUnchanged(file: string, sha256: string): boolean {
  const v = verified.get(file);
  if (!v || v.sha256 !== sha256) return false;
  try {
    return same(v.id, fs.statSync(file, { bigint: true }));
  } catch {
    return false;
  }
}

/** For tests: forget every mark. */
export function forgetVerified(): void {
  verified.clear();
}
