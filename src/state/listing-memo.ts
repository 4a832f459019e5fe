/**
 * A memo of each product's listing for status and list (issue 15): which entries of the product
 * directory are versions with a manifest, which are versions without one, which are leftovers,
 * kept in <state>/listing.json beside what the two directories it was read from (the product's
 * and its manifests') looked like then. While both look the same, status takes the listing from
 * the memo: two stat calls instead of listing, parsing and sorting every version (at 8 products
 * x 200 versions, most of a status's own time).
 *
 * Written only by a change, at its end, under the lock (commands/tx.ts, keepListings in
 * state/tree.ts), which lists every product afresh: no other webtree process changes a product
 * directory meanwhile, and status, list and every other read open the memo read-only. "Look the
 * same": device, inode, modification and change times, link count and size of each directory.
 * Adding, removing or renaming an entry changes its directory's times, and a change time cannot
 * be set back (only the clock can). The change waits until its own last write to the directories
 * is TICK_MS old before it lists them, so that a change by hand made after the listing falls in a
 * later tick of the clock the file system stamps times with, and so moves the change time: it is
 * seen at once. Not so where a file system's times are coarser than TICK_MS (ext4 with 128-byte
 * inodes and ext3: a second; FAT: two) or come from another host's clock (NFS): there a change by
 * hand within that tick of the memo's listing that leaves the link count and size as they were
 * (a rename of a version, a manifest renamed) is not seen until the next change lists again.
 * Whatever else goes wrong (no memo, a torn or foreign one, another build of webtree, a state
 * directory that cannot be written) costs the listing, never an error: the memo is never the truth
 * of the tree (verify, and every change's plan, list the directories themselves).
 *
 * Written whole under a temporary name and renamed, so a reader sees the old memo or the new one.
 *
 * The same file keeps the history's 'pointer' reading (state/history.ts: the few entries that can
 * move a pointer, and the damaged lines), made by the same change after the same wait, beside what
 * history.jsonl looked like then (device, inode, times, size). status and list take it while the
 * file still looks so, instead of reading every line of it (at 8 x 200 versions, some 1,600
 * lines; ~2 ms). The history only grows by appends, which move its size and times; an edit by
 * hand moves its change time, and `sed -i` or an editor that saves by rename its inode: seen at
 * once, with the same limit as above on file systems with coarse times. Any other program that
 * appends (a command that writes history without a change's end, or webtree of another build)
 * makes it look otherwise: the lines are read again until the next change.
 */
import { readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { HistoryRead } from './history.js';

/** Set by scripts/bundle.mjs, new at every build: a memo made by other code is not read. */
declare const WEBTREE_BUILD: string | undefined;
export const BUILD: string | undefined = typeof WEBTREE_BUILD !== 'undefined' ? WEBTREE_BUILD : undefined;

/** A product's listing as readProductState makes it in 'list' mode (sorted). */
export interface Listing {
  versions: string[];
  unmanaged: string[];
  leftovers: string[];
}

interface Entry extends Listing {
  key: string;
}

const FORMAT = 1;
/** Longer than a tick of the kernel's coarse clock, which stamps file times (1-10 ms). */
export const TICK_MS = 20;

export interface Found {
  /** The memo's listing, when the directories are as it recorded them (read mode only). */
  listing?: Listing;
  /** Keeps the listing just read, for save (write mode; read AFTER find: find looked at the directories first). */
  keep(l: Listing): void;
}

/** The history's pointer reading, as Found is a listing. */
export interface HistoryFound {
  /** The memo's reading, when the history file is as it recorded it (read mode only). */
  read?: HistoryRead;
  /** Keeps the reading just made, for save (write mode; read AFTER history(): it looked at the file first). */
  keep(r: HistoryRead): void;
}

export interface ListingMemo {
  /** `config`: what else the listing depends on (the descriptor's names), as one string. */
  find(product: string, dirs: string[], config: string): Found;
  /** history.jsonl's 'pointer' reading; `valid` says whether a recorded one has the right shape. */
  history(file: string, valid: (r: unknown) => r is HistoryRead): HistoryFound;
  /** Writes the memo when a listing was kept (write mode); best effort, quiet. */
  save(): void;
}

export const listingMemoFile = (state: string) => path.join(state, 'listing.json');

/**
 * The memo of the state directory `state`. 'read' (status, list): gives recorded listings back,
 * never writes. 'write' (a change's end, under the lock): gives nothing back, keeps what is
 * listed, and save writes it. Undefined outside the built CLI (no BUILD) unless a build is given.
 */
export function openListingMemo(
  state: string,
  mode: 'read' | 'write',
  build: string | undefined = BUILD,
): ListingMemo | undefined {
  if (build === undefined) return undefined;
  const file = listingMemoFile(state);
  let recorded: Recorded | undefined;
  const kept: Record<string, Entry> = {};
  let keptHistory: HistoryEntryOfMemo | undefined;
  let dirty = false;
  const memo = (): Recorded => (recorded ??= readMemo(file, build));
  const entries = (): Record<string, unknown> => memo().products;
  return {
    find(product, dirs, config) {
      let key: string | undefined = `${build}\n${config}`;
      for (let i = 0; i < dirs.length && key !== undefined; i++) {
        const k = dirKey(dirs[i]);
        key = k === undefined ? undefined : `${key}\n${dirs[i]}\n${k}`;
      }
      const e = key === undefined || mode === 'write' ? undefined : entries()[product];
      const listing = e !== undefined && isEntry(e) && e.key === key ? e : undefined;
      return {
        listing: listing && { versions: listing.versions, unmanaged: listing.unmanaged, leftovers: listing.leftovers },
        keep(l) {
          if (key === undefined || mode === 'read') return;
          kept[product] = { key, versions: l.versions, unmanaged: l.unmanaged, leftovers: l.leftovers };
          dirty = true;
        },
      };
    },
    history(historyFile, valid) {
      const k = dirKey(historyFile);
      const key = k === undefined ? undefined : `${build}\n${historyFile}\n${k}`;
      const h = key === undefined || mode === 'write' ? undefined : memo().history;
      const read =
        h !== undefined && h.key === key && valid({ entries: h.entries, problems: h.problems })
          ? { entries: h.entries as HistoryRead['entries'], problems: h.problems as HistoryRead['problems'] }
          : undefined;
      return {
        read,
        keep(r) {
          if (key === undefined || mode === 'read') return;
          keptHistory = { key, entries: r.entries, problems: r.problems };
          dirty = true;
        },
      };
    },
    save() {
      if (!dirty) return;
      dirty = false;
      // One name, not one per process: only a change writes, under the lock, and a kill leaves one file at most.
      const tmp = `${file}.tmp`;
      try {
        // The history's reading only as this change kept it: an older one describes an older file.
        const whole = { format: FORMAT, build, products: { ...entries(), ...kept }, history: keptHistory };
        writeFileSync(tmp, JSON.stringify(whole), { mode: 0o644 });
        renameSync(tmp, file);
      } catch {
        // A state directory that cannot be written (a full disk): status lists the directories.
        try {
          unlinkSync(tmp);
        } catch {
          // never made
        }
      }
    },
  };
}

/** How long to wait before listing `dirs` so that their last change is TICK_MS old (listing-memo's header). */
export function tickWait(dirs: string[], now = Date.now()): number {
  let wait = 0;
  for (const dir of dirs) {
    const st = statSync(dir, { throwIfNoEntry: false });
    if (st !== undefined) wait = Math.max(wait, TICK_MS - (now - Math.max(st.ctimeMs, st.mtimeMs)));
  }
  return Math.min(wait, TICK_MS);
}

/** A directory as it looks now, '-' when it is not there; undefined when it cannot be looked at. */
function dirKey(dir: string): string | undefined {
  let st;
  try {
    st = statSync(dir, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
  if (st === undefined) return '-';
  return `${st.dev}:${st.ino}:${st.mtimeMs}:${st.ctimeMs}:${st.nlink}:${st.size}`;
}

/** The history's reading in the memo, beside the key of the file it was read from. */
interface HistoryEntryOfMemo {
  key: string;
  entries: unknown;
  problems: unknown;
}

interface Recorded {
  products: Record<string, unknown>;
  history?: HistoryEntryOfMemo;
}

function readMemo(file: string, build: string): Recorded {
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as {
      format?: unknown;
      build?: unknown;
      products?: unknown;
      history?: unknown;
    };
    if (m.format === FORMAT && m.build === build && typeof m.products === 'object' && m.products !== null) {
      const h = m.history as Partial<HistoryEntryOfMemo> | undefined;
      return {
        products: m.products as Record<string, unknown>,
        history:
          typeof h === 'object' && h !== null && typeof h.key === 'string' ? (h as HistoryEntryOfMemo) : undefined,
      };
    }
  } catch {
    // missing, unreadable or torn: no memo
  }
  return { products: {} };
}

const strings = (a: unknown): a is string[] => {
  if (!Array.isArray(a)) return false;
  for (let i = 0; i < a.length; i++) if (typeof a[i] !== 'string') return false;
  return true;
};

function isEntry(e: unknown): e is Entry {
  if (typeof e !== 'object' || e === null) return false;
  const x = e as Record<string, unknown>;
  return typeof x.key === 'string' && strings(x.versions) && strings(x.unmanaged) && strings(x.leftovers);
}
