/**
 * A plan is data: a list of operations that the executor applies, `--dry-run` prints, and unit
 * tests check in memory. Operations before `commit` only write temporary paths (listed in
 * `temps`), so an interrupted apply is undone by removing them; the operation at `commit` is a
 * single atomic rename or link swap; operations after it are idempotent, so an interrupted
 * apply is finished by running them again.
 */
import type { HistoryEntry } from './facts.js';

import type { ExpectTop } from '../catalog/top-dir.js';

export type Op =
  /** mode: for a directory only the account may read (the kept variants); 0755 otherwise. */
  | { kind: 'make-dir'; path: string; mode?: number }
  /** sha256: what the archive hashed to when planned; a different file at unpack time is refused. */
  /** expectTop: refuse an archive whose own top directory names another product or version (install without --force). */
  | {
      kind: 'extract';
      archive: string;
      dest: string;
      layout: 'single-top' | 'any';
      content?: string;
      sha256?: string;
      expectTop?: ExpectTop;
    }
  | { kind: 'check-version'; dir: string; product: string; requires: string[] }
  | { kind: 'add-file'; path: string; content: string }
  | { kind: 'copy-file'; from: string; to: string }
  /** archiveSha256 absent: the sha256 the extract into `dir` found (the executor fills it in, journal included). */
  | { kind: 'write-manifest'; dir: string; to: string; archiveSha256?: string; product: string; version: string }
  /**
   * The bytes of `from` put at `to` in one rename, with this mode and owner (the executor's owner
   * when absent): a kept variant and its restore, where 0644 and a new owner would leak a password.
   */
  /** keepExisting: a `to` already there is this apply's own copy (run again by recovery): left as it is. */
  | {
      kind: 'copy-exact';
      from: string;
      to: string;
      mode: number;
      owner?: { uid: number; gid: number };
      keepExisting?: boolean;
    }
  | { kind: 'rename'; from: string; to: string }
  | { kind: 'swap-link'; path: string; target: string }
  /**
   * adopt: replace the plain file at `path` by a link to `target`, keeping the file itself (its
   * inode: owner, mode, a password inside) as `keep`, hard-linked first when `keep` is missing.
   */
  | { kind: 'link-over-file'; path: string; target: string; keep: string }
  | { kind: 'remove'; path: string }
  | { kind: 'write-file'; path: string; content: string; mode: number }
  | { kind: 'record'; entry: HistoryEntry };

export interface Plan {
  command: string;
  /** One line for people: "install TV 3.4 and activate it (was 3.3a)". */
  summary: string;
  ops: Op[];
  /** Index of the commit operation (ops.length when the plan has nothing to do). */
  commit: number;
  /** Paths that only the pre-commit operations create; removed when an apply is undone. */
  temps: string[];
  /** Messages for the operator that are not errors (a missing licence, a no-op). */
  notes: string[];
  /**
   * Finish, never undo, when interrupted: every operation is run again from the first. For
   * plans that go back after a failed check (their operations are link swaps and whole-file
   * writes, safe to repeat), where undoing would leave the failed change live.
   */
  finish?: boolean;
}

export const emptyPlan = (command: string, summary: string, notes: string[] = []): Plan => ({
  command,
  summary,
  ops: [],
  commit: 0,
  temps: [],
  notes,
});

/** One line per operation, for --dry-run and the journal. */
export function describeOp(op: Op): string {
  switch (op.kind) {
    case 'make-dir':
      return `make directory ${op.path}${op.mode === undefined ? '' : ` (mode ${op.mode.toString(8)})`}`;
    case 'extract':
      return `unpack ${op.archive} into ${op.dest}${op.content ? ` (only its ${op.content}/)` : ''}`;
    case 'check-version':
      return `check ${op.dir} holds ${op.product}${op.requires.length ? ` (${op.requires.join(', ')})` : ''}`;
    case 'add-file':
      return `add ${op.path}`;
    case 'copy-file':
      return `copy ${op.from} to ${op.to}`;
    case 'write-manifest':
      return `record manifest of ${op.product} ${op.version} in ${op.to}`;
    case 'copy-exact':
      return `copy ${op.from} to ${op.to} (mode ${op.mode.toString(8)}${op.owner ? `, owner ${op.owner.uid}:${op.owner.gid}` : ''})`;
    case 'rename':
      return `rename ${op.from} to ${op.to}`;
    case 'swap-link':
      return `point ${op.path} -> ${op.target}`;
    case 'link-over-file':
      return `keep ${op.path} as ${op.keep} (hard link), then point ${op.path} -> ${op.target}`;
    case 'remove':
      return `remove ${op.path}`;
    case 'write-file':
      return `write ${op.path}`;
    case 'record':
      return `record in history: ${[op.entry.action, op.entry.product, op.entry.to ?? op.entry.version].filter(Boolean).join(' ')}`;
  }
}
