/**
 * What an archive may hold, decided entry by entry as headers stream past (so a limit stops the
 * read at the first header that crosses it, long before a bomb is inflated), and the layout
 * decision once the last entry is known.
 */
import type { Limits } from '../site/types.js';
import type { EntryView } from './framing.js';
import { RATIO_FLOOR } from './framing.js';
import { HINT_LAYOUT, collisionReason, foldKey, nameParts, q, refuseArchive, refuseEntry, safeMode } from './names.js';

export type Kind = 'file' | 'dir';

export interface Admitted {
  /** The name as in the archive, for messages and for matching node-tar's entry. */
  raw: string;
  /** Path relative to the archive root ('' is the root itself, e.g. an entry "./"). */
  rel: string;
  kind: Kind;
  size: number;
  /** Mode to unpack with (see safeMode). */
  mode: number;
}

/**
 * What the listing holds for a path: a number, not an object, and the archive's own name only
 * where it differs from the path (see raws). At 100,000 entries an object and a second copy of
 * the name per entry were most of the reader's heap (docs/benchmarks.md, issue 15).
 */
const FILE = 0;
const DIR = 1;
/** A directory only implied by deeper names so far. */
const IMPLIED = 2;
type Code = typeof FILE | typeof DIR | typeof IMPLIED;

const kindOfCode = (c: Code): Kind => (c === FILE ? 'file' : 'dir');

/** Plain ASCII without capitals is its own fold key (NFC and case folding leave it alone). */
const FOLDS_TO_ITSELF = /^[\x20-\x40\x5b-\x7e]*$/;
const keyOf = (rel: string) => (FOLDS_TO_ITSELF.test(rel) ? rel : foldKey(rel));

const LINK_REASON = 'only regular files and directories are accepted';

function kindOf(v: EntryView): Kind {
  switch (v.type) {
    case 'File':
    case 'OldFile':
    case 'ContiguousFile':
      return 'file';
    case 'Directory':
      return 'dir';
    case 'SymbolicLink':
      throw refuseEntry(v.path, `is a symbolic link (to ${q(v.linkpath ?? '')}); ${LINK_REASON}`);
    case 'Link':
      throw refuseEntry(v.path, `is a hard link (to ${q(v.linkpath ?? '')}); ${LINK_REASON}`);
    case 'CharacterDevice':
      throw refuseEntry(v.path, `is a character device; ${LINK_REASON}`);
    case 'BlockDevice':
      throw refuseEntry(v.path, `is a block device; ${LINK_REASON}`);
    case 'FIFO':
      throw refuseEntry(v.path, `is a FIFO (named pipe); ${LINK_REASON}`);
    default:
      // node-tar skips these without a word, even in strict mode.
      throw refuseEntry(
        v.path,
        `has unsupported entry type ${v.type} (typeflag ${JSON.stringify(v.typeflag)}); ${LINK_REASON}`,
      );
  }
}

const limitHint = (key: keyof Limits, value: number) =>
  `Nothing was installed. If the archive is genuine, raise limits.${key} in the site file (now ${value}).`;

export class EntryRules {
  /** Files and directories the archive creates, implicit parent directories included. */
  entries = 0;
  /** Sum of file sizes. */
  bytes = 0;
  /** Every path the archive creates, relative to the archive root, in the archive's order. */
  private readonly tree = new Map<string, Code>();
  /** The archive's name for a path where it is not the path itself ("./a", "dir/", or for an implied directory the entry that implied it). */
  private readonly raws = new Map<string, string>();
  /**
   * The fold key of each path that does not fold to itself, to the path. A path that does is
   * its own key, so a later name folding to it is found in the tree instead: no second map
   * entry for the (usual) plain lower-case names.
   */
  private readonly folded = new Map<string, string>();

  constructor(
    private readonly limits: Limits,
    private readonly archiveSize: number,
  ) {}

  /** How many paths the archive creates. */
  get size(): number {
    return this.tree.size;
  }

  kindAt(rel: string): Kind | undefined {
    const c = this.tree.get(rel);
    return c === undefined ? undefined : kindOfCode(c);
  }

  /** Every path with its kind, in the archive's order. */
  *listing(): IterableIterator<[string, Kind]> {
    for (const [rel, c] of this.tree) yield [rel, kindOfCode(c)];
  }

  paths(): IterableIterator<string> {
    return this.tree.keys();
  }

  private rawOf(rel: string): string {
    return this.raws.get(rel) ?? rel;
  }

  admit(v: EntryView): Admitted {
    const parts = nameParts(v.path);
    const kind = kindOf(v);
    if (v.linkpath) throw refuseEntry(v.path, `carries a link target (${q(v.linkpath)}) although it is not a link`);
    // node-tar writes bodySize bytes but reports size; they differ only when extended headers
    // contradict each other, and then the size limit would be checked against the wrong number.
    if (v.size !== v.bodySize)
      throw refuseEntry(v.path, `has extended headers that disagree about its size (${v.size} or ${v.bodySize})`);
    const mode = safeMode(v.mode, kind);
    if (parts.length === 0) {
      if (kind !== 'dir') throw refuseEntry(v.path, 'is a file that names the extraction directory itself');
      return { raw: v.path, rel: '', kind, size: 0, mode };
    }
    const { maxDepth, maxBytes, maxRatio } = this.limits;
    if (parts.length > maxDepth) {
      throw refuseEntry(
        v.path,
        `is ${parts.length} levels deep, over the limit of ${maxDepth} (limits.maxDepth)`,
        limitHint('maxDepth', maxDepth),
      );
    }
    let dir = '';
    for (let i = 0; i < parts.length - 1; i++) {
      dir = dir === '' ? parts[i] : `${dir}/${parts[i]}`;
      const c = this.tree.get(dir);
      if (c === FILE) throw refuseEntry(v.path, `lies under ${q(this.rawOf(dir))}, which is a file`);
      if (c === undefined) this.add(dir, IMPLIED, v.path);
    }
    const rel = parts.length === 1 ? parts[0] : parts.join('/');
    const c = this.tree.get(rel);
    if (c === FILE || c === DIR) {
      const raw = this.rawOf(rel);
      const also = raw === v.path ? '' : ` (also as ${q(raw)})`;
      throw refuseEntry(v.path, `appears twice in the archive${also}`);
    }
    if (c !== undefined && kind === 'file')
      throw refuseEntry(v.path, 'is a file, but earlier entries use it as a directory');
    if (c !== undefined) this.tree.set(rel, DIR);
    else this.add(rel, kind === 'file' ? FILE : DIR, v.path);
    if (kind === 'file') {
      this.bytes += v.size;
      if (this.bytes > maxBytes) {
        throw refuseEntry(
          v.path,
          `takes the unpacked size to ${this.bytes} bytes, over the limit of ${maxBytes} (limits.maxBytes)`,
          limitHint('maxBytes', maxBytes),
        );
      }
      if (this.bytes > RATIO_FLOOR && this.bytes > maxRatio * this.archiveSize) {
        const ratio = Math.floor(this.bytes / this.archiveSize);
        throw refuseEntry(
          v.path,
          `takes the unpacked size to ${this.bytes} bytes, ${ratio} times the archive's ${this.archiveSize}, over the ratio limit of ${maxRatio} (limits.maxRatio)`,
          limitHint('maxRatio', maxRatio),
        );
      }
    }
    return { raw: v.path, rel, kind, size: v.size, mode };
  }

  /** The archive is read: no more names to compare, and the folded names are memory. */
  dropFolds(): void {
    this.folded.clear();
  }

  private add(rel: string, code: Code, raw: string): void {
    const key = keyOf(rel);
    // Another path with the same key: one that does not fold to itself (folded), or the key
    // itself as a path that does (the check guards against a fold that is not idempotent).
    const other = this.folded.get(key) ?? (key !== rel && this.tree.has(key) && foldKey(key) === key ? key : undefined);
    if (other !== undefined) throw refuseEntry(raw, collisionReason(rel, other));
    this.entries++;
    const { maxEntries } = this.limits;
    if (this.entries > maxEntries) {
      throw refuseEntry(
        raw,
        `would be file or directory number ${this.entries}, over the limit of ${maxEntries} (limits.maxEntries)`,
        limitHint('maxEntries', maxEntries),
      );
    }
    if (key !== rel) this.folded.set(key, rel);
    if (raw !== rel) this.raws.set(rel, raw);
    this.tree.set(rel, code);
  }

  /**
   * The directory to strip, if every path lies under one; refuses an archive that creates
   * nothing, and under 'single-top' one that has anything beside (or no) top directory.
   */
  checkNotEmpty(archive: string): void {
    if (this.tree.size === 0) throw refuseArchive(archive, 'holds no files or directories');
  }

  finish(archive: string, layout: 'single-top' | 'any'): string | undefined {
    this.checkNotEmpty(archive);
    const tops: string[] = [];
    const dirs: string[] = [];
    for (const [rel, c] of this.tree) {
      if (rel.includes('/')) continue;
      tops.push(rel);
      if (c !== FILE) dirs.push(rel);
    }
    if (tops.length === 1 && dirs.length === 1) {
      if (this.tree.size === 1) throw refuseArchive(archive, `holds nothing but the directory ${q(tops[0])}`);
      return tops[0];
    }
    if (layout === 'any') return undefined;
    const need = 'layout single-top needs every entry under one directory';
    const file = tops.find((t) => this.tree.get(t) === FILE);
    if (file !== undefined && dirs.length > 0) {
      throw refuseEntry(this.rawOf(file), `lies beside the top-level directory ${q(dirs[0])}; ${need}`, HINT_LAYOUT);
    }
    if (file !== undefined) throw refuseEntry(this.rawOf(file), `is a file at the top level; ${need}`, HINT_LAYOUT);
    throw refuseEntry(this.rawOf(dirs[1]), `lies outside the top-level directory ${q(dirs[0])}; ${need}`, HINT_LAYOUT);
  }
}
