/**
 * Pass one: read the whole archive without writing anything, through node-tar's Parser and our
 * framing mirror side by side, and decide whether it may be unpacked and how (which top
 * directory to strip). A refusal stops the read at the header that causes it.
 */
import { Parser, type ReadEntry } from 'tar';
import { WebtreeError } from '../core/errors.js';
import type { Limits } from '../site/types.js';
import { MAX_META_BYTES, TarFraming, type EntryView } from './framing.js';
import { HINT_DAMAGED, q, refuseArchive, refuseEntry } from './names.js';
import { EntryRules, type Admitted, type Kind } from './rules.js';
import type { ArchiveSource } from './source.js';

export type Layout = 'single-top' | 'any';

export interface Listing {
  /** Files and directories that will exist under dest (after stripping). */
  entries: number;
  /** Sum of file sizes. */
  bytes: number;
  /** The top directory stripped, if any. */
  top?: string;
  /** Every path that will exist under dest, '/'-separated, after stripping. */
  tree: Map<string, { kind: Kind; size: number }>;
}

/** node-tar options both passes share: the reader must never decide on its own to decompress. */
export const PARSER_OPTIONS = { strict: true, zstd: false, brotli: false, maxMetaEntrySize: MAX_META_BYTES } as const;

/**
 * One pass: our framing sees each chunk first (and throws on refusal), then node-tar gets the
 * bytes the framing released. `admitted` is the queue of entries node-tar has yet to reach;
 * node-tar's callbacks must match them one for one (see crossCheck).
 */
export class Pass {
  readonly rules: EntryRules;
  readonly framing: TarFraming;
  readonly admitted: Admitted[] = [];
  failure?: unknown;

  constructor(
    readonly src: ArchiveSource,
    limits: Limits,
  ) {
    this.rules = new EntryRules(limits, src.size);
    this.framing = new TarFraming(src.name, limits, (v: EntryView) => {
      this.admitted.push(this.rules.admit(v));
    });
  }

  /** Records the first problem; node-tar's own callbacks must not throw into its internals. */
  fail(err: unknown): void {
    this.failure ??= err;
  }

  /** The admitted entry node-tar has just reached, or a refusal if the two readers disagree. */
  crossCheck(entry: ReadEntry): Admitted | undefined {
    const a = this.admitted.shift();
    if (!a || a.raw !== entry.path || entry.size !== a.size || (entry.type === 'Directory') !== (a.kind === 'dir')) {
      this.fail(refuseEntry(entry.path, `is read differently by node-tar than by webtree's check${a ? ` (expected ${q(a.raw)})` : ''}`));
      return undefined;
    }
    return a;
  }

  async run(parser: Parser): Promise<void> {
    parser.on('error', (err: unknown) => this.fail(tarError(this.src.name, err)));
    const give = (bufs: Buffer[]) => {
      for (const b of bufs) {
        parser.write(b);
        if (this.failure) throw this.failure;
      }
    };
    for await (const chunk of this.src.chunks()) give(this.framing.push(chunk));
    give(this.framing.end());
    // Before node-tar's own, vaguer, complaint about an archive without entries.
    this.rules.checkNotEmpty(this.src.name);
    parser.end();
    if (this.failure) throw this.failure;
    if (this.admitted.length > 0) throw refuseEntry(this.admitted[0].raw, 'was never reached by node-tar');
  }
}

/** node-tar's own complaints, which our checks should have pre-empted, named as well as we can. */
export function tarError(name: string, err: unknown): unknown {
  if (err instanceof WebtreeError) return err;
  const e = err as NodeJS.ErrnoException & { entry?: { path?: string }; tarCode?: string };
  if (e.syscall) {
    const where = e.entry?.path ? ` at entry ${q(e.entry.path)}` : '';
    return new WebtreeError('EIO', `unpacking archive ${name} failed${where}: ${e.message}`, {
      hint: 'Nothing was installed. Check free space and permissions of the products root, then retry.',
      cause: err,
    });
  }
  const msg = e instanceof Error ? e.message : String(err);
  if (e.entry?.path) return refuseEntry(e.entry.path, `was refused by node-tar: ${msg}`);
  return refuseArchive(name, `was refused by node-tar: ${msg}`, HINT_DAMAGED);
}

export async function listArchive(src: ArchiveSource, limits: Limits, layout: Layout): Promise<Listing> {
  const pass = new Pass(src, limits);
  const parser = new Parser({
    ...PARSER_OPTIONS,
    onReadEntry: (entry: ReadEntry) => {
      pass.crossCheck(entry);
      entry.resume();
    },
  });
  // Unknown entry types never reach onReadEntry; the framing refuses them first, this is a backstop.
  parser.on('ignoredEntry', (entry: ReadEntry) => pass.fail(refuseEntry(entry.path, 'was skipped by node-tar')));
  await pass.run(parser);
  const top = pass.rules.finish(src.name, layout);
  const tree = new Map<string, { kind: Kind; size: number }>();
  for (const [rel, node] of pass.rules.tree) {
    const stripped = strip(rel, top);
    if (stripped !== '') tree.set(stripped, { kind: node.kind, size: node.size });
  }
  return { entries: tree.size, bytes: pass.rules.bytes, top, tree };
}

/** The path below dest: rel with the top directory removed ('' for the top itself). */
export function strip(rel: string, top: string | undefined): string {
  if (top === undefined) return rel;
  return rel === top ? '' : rel.slice(top.length + 1);
}
