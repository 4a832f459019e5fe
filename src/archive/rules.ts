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

interface Node {
  kind: Kind;
  size: number;
  explicit: boolean;
  raw: string;
}

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
  /** Every path the archive creates, relative to the archive root. */
  readonly tree = new Map<string, Node>();
  private readonly folded = new Map<string, string>();

  constructor(
    private readonly limits: Limits,
    private readonly archiveSize: number,
  ) {}

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
    for (const part of parts.slice(0, -1)) {
      dir = dir === '' ? part : `${dir}/${part}`;
      const node = this.tree.get(dir);
      if (node?.kind === 'file') throw refuseEntry(v.path, `lies under ${q(node.raw)}, which is a file`);
      if (!node) this.add(dir, { kind: 'dir', size: 0, explicit: false, raw: v.path });
    }
    const rel = parts.join('/');
    const node = this.tree.get(rel);
    if (node?.explicit) {
      const also = node.raw === v.path ? '' : ` (also as ${q(node.raw)})`;
      throw refuseEntry(v.path, `appears twice in the archive${also}`);
    }
    if (node && kind === 'file') throw refuseEntry(v.path, 'is a file, but earlier entries use it as a directory');
    if (node) node.explicit = true;
    else this.add(rel, { kind, size: v.size, explicit: true, raw: v.path });
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

  /** The archive is read: no more names to compare, and the folded names are memory (MBs at 100,000 entries). */
  dropFolds(): void {
    this.folded.clear();
  }

  private add(rel: string, node: Node): void {
    const key = foldKey(rel);
    const other = this.folded.get(key);
    if (other !== undefined) throw refuseEntry(node.raw, collisionReason(rel, other));
    this.entries++;
    const { maxEntries } = this.limits;
    if (this.entries > maxEntries) {
      throw refuseEntry(
        node.raw,
        `would be file or directory number ${this.entries}, over the limit of ${maxEntries} (limits.maxEntries)`,
        limitHint('maxEntries', maxEntries),
      );
    }
    this.folded.set(key, rel);
    this.tree.set(rel, node);
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
    const tops = [...this.tree.keys()].filter((p) => !p.includes('/'));
    const dirs = tops.filter((t) => this.tree.get(t)!.kind === 'dir');
    if (tops.length === 1 && dirs.length === 1) {
      if (this.tree.size === 1) throw refuseArchive(archive, `holds nothing but the directory ${q(tops[0])}`);
      return tops[0];
    }
    if (layout === 'any') return undefined;
    const need = 'layout single-top needs every entry under one directory';
    const file = tops.find((t) => this.tree.get(t)!.kind === 'file');
    if (file !== undefined && dirs.length > 0) {
      throw refuseEntry(
        this.tree.get(file)!.raw,
        `lies beside the top-level directory ${q(dirs[0])}; ${need}`,
        HINT_LAYOUT,
      );
    }
    if (file !== undefined)
      throw refuseEntry(this.tree.get(file)!.raw, `is a file at the top level; ${need}`, HINT_LAYOUT);
    throw refuseEntry(
      this.tree.get(dirs[1])!.raw,
      `lies outside the top-level directory ${q(dirs[0])}; ${need}`,
      HINT_LAYOUT,
    );
  }
}
