/**
 * The last word on an unpacked tree: what is on disk must be exactly what the archive declared —
 * the same paths, and only regular files and directories. One readdir per directory, with the
 * types it gives (no lstat per file: 8,000 of them were a tenth of the unpacking). Sizes and modes
 * are the writer's own doing and checked as it writes: it created every file O_EXCL with its
 * safe mode and wrote exactly the declared bytes; `bytes` is what it wrote, compared here.
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { WebtreeError } from '../core/errors.js';
import { q } from './names.js';
import type { Kind } from './rules.js';

/** What an archive creates (EntryRules holds it), as the tree check reads it. */
export interface Listing {
  /** Files and directories that must exist. */
  entries: number;
  /** Sum of file sizes. */
  bytes: number;
  /** What the listing holds at a '/'-separated path, if anything. */
  kindAt(path: string): Kind | undefined;
  /** Every path listed. */
  paths(): Iterable<string>;
}

/** The path below dest: rel with the top directory removed ('' for the top itself). */
export function strip(rel: string, top: string | undefined): string {
  if (top === undefined) return rel;
  return rel === top ? '' : rel.slice(top.length + 1);
}

const HINT =
  'Nothing was installed. This is a fault in webtree or a concurrent change to the staging directory; report it with the archive.';

function fault(name: string, what: string): WebtreeError {
  return new WebtreeError('EBADARCHIVE', `unpacking archive ${name} produced ${what}`, { hint: HINT });
}

export function checkTree(dest: string, listing: Listing, name: string, bytesWritten: number): void {
  // Counted, not collected: every path on disk is distinct and found in the listing, so as many
  // found as listed means every listed one was found (a set of 100,000 names was megabytes).
  let found = 0;
  const walk = (rel: string, seen?: Set<string>): void => {
    const entries = fs.readdirSync(rel === '' ? dest : join(dest, rel), { withFileTypes: true });
    for (const e of entries) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      const want = listing.kindAt(path);
      const kind = e.isFile() ? 'file' : e.isDirectory() ? 'dir' : undefined;
      if (!kind) throw fault(name, `${q(path)}, which is neither a regular file nor a directory`);
      if (!want) throw fault(name, `${q(path)}, which the archive listing does not hold`);
      if (want !== kind)
        throw fault(
          name,
          `${q(path)} as a ${kind === 'dir' ? 'directory' : 'file'}, listed as a ${want === 'dir' ? 'directory' : 'file'}`,
        );
      found++;
      seen?.add(path);
      if (kind === 'dir') walk(path, seen);
    }
  };
  walk('');
  let listed = 0;
  for (const _ of listing.paths()) listed++;
  if (found < listed) {
    // Something listed is missing: walk again, this time keeping the names, to say which.
    const seen = new Set<string>();
    found = 0;
    walk('', seen);
    for (const path of listing.paths()) {
      if (!seen.has(path)) throw fault(name, `no ${q(path)}, which the archive listing holds`);
    }
  }
  if (found !== listing.entries || bytesWritten !== listing.bytes) {
    throw fault(name, `${found} entries and ${bytesWritten} bytes, listed as ${listing.entries} and ${listing.bytes}`);
  }
}
