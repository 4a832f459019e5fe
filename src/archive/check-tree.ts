/**
 * The last word on an unpacked tree: what is on disk must be exactly what the archive declared —
 * the same paths, only regular files and directories, the same sizes — and nothing may be setuid,
 * setgid, sticky, or writable by group or others. Synchronous: thousands of lstat calls cost
 * milliseconds this way, and far more as promises.
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { WebtreeError } from '../core/errors.js';
import { UNSAFE_MODE_BITS, q } from './names.js';
import type { Kind } from './rules.js';

/** What an archive creates under dest, after its top directory is stripped. */
export interface Listing {
  /** Files and directories that will exist under dest. */
  entries: number;
  /** Sum of file sizes. */
  bytes: number;
  /** The top directory stripped, if any. */
  top?: string;
  /** Every path under dest, '/'-separated. */
  tree: Map<string, { kind: Kind; size: number }>;
}

/** The path below dest: rel with the top directory removed ('' for the top itself). */
export function strip(rel: string, top: string | undefined): string {
  if (top === undefined) return rel;
  return rel === top ? '' : rel.slice(top.length + 1);
}

const HINT = 'Nothing was installed. This is a fault in webtree or a concurrent change to the staging directory; report it with the archive.';

function fault(name: string, what: string): WebtreeError {
  return new WebtreeError('EBADARCHIVE', `unpacking archive ${name} produced ${what}`, { hint: HINT });
}

export function checkTree(dest: string, listing: Listing, name: string): void {
  const seen = new Set<string>();
  let bytes = 0;
  const walk = (rel: string): void => {
    const names = fs.readdirSync(rel === '' ? dest : join(dest, rel));
    for (const base of names.sort()) {
      const path = rel === '' ? base : `${rel}/${base}`;
      const st = fs.lstatSync(join(dest, path));
      const want = listing.tree.get(path);
      const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : undefined;
      if (!kind) throw fault(name, `${q(path)}, which is neither a regular file nor a directory`);
      if (!want) throw fault(name, `${q(path)}, which the archive listing does not hold`);
      if (want.kind !== kind) throw fault(name, `${q(path)} as a ${kind === 'dir' ? 'directory' : 'file'}, listed as a ${want.kind === 'dir' ? 'directory' : 'file'}`);
      if (st.mode & UNSAFE_MODE_BITS) throw fault(name, `${q(path)} with unsafe mode ${(st.mode & 0o7777).toString(8)}`);
      seen.add(path);
      if (kind === 'dir') walk(path);
      else {
        if (st.size !== want.size) throw fault(name, `${q(path)} of ${st.size} bytes, listed as ${want.size}`);
        if (st.nlink !== 1) throw fault(name, `${q(path)} with ${st.nlink} hard links`);
        bytes += st.size;
      }
    }
  };
  walk('');
  for (const path of listing.tree.keys()) {
    if (!seen.has(path)) throw fault(name, `no ${q(path)}, which the archive listing holds`);
  }
  if (seen.size !== listing.entries || bytes !== listing.bytes) {
    throw fault(name, `${seen.size} entries and ${bytes} bytes, listed as ${listing.entries} and ${listing.bytes}`);
  }
}
