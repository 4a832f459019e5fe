/**
 * The intent journal: the plan being applied, written before its first operation and removed
 * after its last. A journal found by the next command (which holds the lock, so its writer is
 * gone) is an interrupted apply, to be finished or undone before anything else.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { moveAsideCommand } from '../core/attic.js';
import {
  isNat,
  isNonEmptyStr,
  isObj,
  isStr,
  oneOf,
  optional,
  readStateJson,
  shapeProblem,
  type FieldCheck,
  type StateFileSpec,
} from '../core/state-file.js';
import type { Plan } from '../plan/ops.js';
import { fsyncDir, writeFileAtomic } from './fsatomic.js';
import { withReserve } from './reserve.js';

/**
 * The check that follows a plan once it is live (a restart and health check, say), named so
 * that the next command can run it again when the process died before it finished.
 */
export interface AfterSpec {
  kind: string;
  data: unknown;
}

export interface Journal {
  id: string;
  pid: number;
  startedAt: string;
  plan: Plan;
  after?: AfterSpec;
  /** 'after': every operation is done and only `after` may not have run to its end. */
  phase?: 'ops' | 'after';
}

export const journalFile = (stateDir: string) => path.join(stateDir, 'journal.json');

export async function writeJournal(stateDir: string, j: Journal): Promise<void> {
  // A full disk: the reserve is given up for it (a change without its journal is not made at all).
  await withReserve(stateDir, () => writeFileAtomic(journalFile(stateDir), JSON.stringify(j, null, 1), 0o644));
}

const isOp: FieldCheck = (v) => isObj(v) && typeof (v as { kind?: unknown }).kind === 'string';
const PLAN_FIELDS: Record<string, FieldCheck> = {
  command: isStr,
  summary: isStr,
  ops: (v) => Array.isArray(v) && v.every(isOp),
  commit: isNat,
  temps: (v) => Array.isArray(v) && v.every((t) => typeof t === 'string'),
  notes: optional((v) => Array.isArray(v)),
};
const JOURNAL_FIELDS: Record<string, FieldCheck> = {
  id: isNonEmptyStr,
  pid: isNat,
  startedAt: isStr,
  plan: isObj,
  after: optional((v) => isObj(v) && typeof (v as { kind?: unknown }).kind === 'string'),
  phase: optional(oneOf('ops', 'after')),
};

/**
 * A damaged journal is no plan to finish or undo: what it meant is lost, so a command must not
 * guess. The fix: see what state the tree is in, then put the journal in the attic.
 */
export const journalSpec = (stateDir: string): StateFileSpec => ({
  what: 'the intent journal',
  // Made only when an error says it: its dated name was the first Date of every status (~1 ms).
  get fix() {
    return `an interrupted change may be half done and its plan cannot be read: run \`webtree verify\` to see the tree as it is, move the journal aside (${moveAsideCommand(journalFile(stateDir), stateDir)}), then mend what verify names (\`webtree activate PRODUCT VERSION\` re-points a product, \`webtree render\` rewrites the Apache files)`;
  },
});

/**
 * The journal, undefined when none is pending; a damaged one (empty, truncated, null, a field
 * missing, a directory, a FIFO …) throws a DamagedFileError naming it and the fix. write-then-
 * rename never leaves one torn, so damage came from outside and is never guessed around.
 */
export async function readJournal(stateDir: string): Promise<Journal | undefined> {
  const file = journalFile(stateDir);
  const spec = journalSpec(stateDir);
  return readStateJson<Journal>(file, spec, JOURNAL_FIELDS, (j) => {
    const p = shapeProblem(j.plan, PLAN_FIELDS);
    if (p) return `has a plan that ${p}`;
    if (j.plan.commit > j.plan.ops.length)
      return `has a plan whose commit point (${j.plan.commit}) lies past its ${j.plan.ops.length} operations`;
    return undefined;
  });
}

export async function clearJournal(stateDir: string): Promise<void> {
  await fs.rm(journalFile(stateDir), { force: true });
  await fsyncDir(stateDir);
}
