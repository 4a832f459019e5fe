/**
 * Whether a change is pending in the journal, and whether a live process is still making it:
 * what the reads report and verify counts as a finding. Reads only.
 */
import { holderAlive, readLockFile } from './lock.js';
import { journalFile, readJournal } from './journal.js';
import { isDamaged } from '../core/state-file.js';
import type { Site } from '../site/types.js';

/** What a read reports of a change in the journal (status --json's `pending`). */
export interface Pending {
  /** interrupted: its process is gone (run `webtree recover`); running: a live command holds the lock. */
  state: 'interrupted' | 'running' | 'damaged';
  command?: string;
  pid?: number;
  startedAt?: string;
  message: string;
  /** For a damaged journal: its fix. */
  hint?: string;
}

/** The change the journal records, if any, and whether a live process is still making it. */
export async function pendingChange(site: Site): Promise<Pending | undefined> {
  let j;
  try {
    j = await readJournal(site.paths.state);
  } catch (err) {
    if (!isDamaged(err)) throw err;
    return { state: 'damaged', message: err.message, hint: err.hint };
  }
  if (!j) return undefined;
  const lock = await readLockFile(`${site.paths.state}/lock`).catch(() => undefined);
  const running = lock?.kind === 'holder' && lock.holder.pid === j.pid && (await holderAlive(lock.holder));
  const what = `\`${j.plan.command}\` (pid ${j.pid}, started ${j.startedAt})`;
  return running
    ? {
        state: 'running',
        command: j.plan.command,
        pid: j.pid,
        startedAt: j.startedAt,
        message: `a change is under way: ${what}; what is shown may change when it ends`,
      }
    : {
        state: 'interrupted',
        command: j.plan.command,
        pid: j.pid,
        startedAt: j.startedAt,
        message: `a change is pending: ${what} was interrupted${j.phase === 'after' ? ' before its check had run' : ''}; run \`webtree recover\` to finish it (${journalFile(site.paths.state)})`,
      };
}
