/**
 * The intent journal: the plan being applied, written before its first operation and removed
 * after its last. A journal found by the next command (which holds the lock, so its writer is
 * gone) is an interrupted apply, to be finished or undone before anything else.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { isErrno } from '../core/errors.js';
import type { Plan } from '../plan/ops.js';
import { fsyncDir, writeFileAtomic } from './fsatomic.js';

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
  await writeFileAtomic(journalFile(stateDir), JSON.stringify(j, null, 1), 0o644);
}

export async function readJournal(stateDir: string): Promise<Journal | undefined> {
  try {
    return JSON.parse(await fs.readFile(journalFile(stateDir), 'utf8')) as Journal;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    if (err instanceof SyntaxError) return undefined; // cannot happen with write-then-rename; never trust a torn one
    throw err;
  }
}

export async function clearJournal(stateDir: string): Promise<void> {
  await fs.rm(journalFile(stateDir), { force: true });
  await fsyncDir(stateDir);
}
