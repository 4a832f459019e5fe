/**
 * Read commands finish an interrupted apply first when they can; without write access they say
 * so. Apart from this check a read command loads none of the executor's code (startup stays fast).
 */
import { readJournal } from '../apply/journal.js';
import { isErrno, WebtreeError } from '../core/errors.js';
import type { Site } from '../site/types.js';
import type { CommandContext } from './types.js';

export async function readWithRecovery(ctx: CommandContext, site: Site): Promise<void> {
  if (!(await readJournal(site.paths.state).catch(() => undefined))) return;
  const { lockAndRecover } = await import('./tx.js');
  try {
    // A short wait: a live apply holds the lock, and a read command then reads what is there.
    const { lock } = await lockAndRecover(ctx, site, 'recover', 2000);
    await lock.release();
  } catch (err) {
    if (err instanceof WebtreeError && err.code === 'ELOCKED') return; // a live apply is under way; read what is there
    if (isErrno(err, 'EACCES') || isErrno(err, 'EPERM')) {
      ctx.reporter.warn('an interrupted change is pending and this account cannot finish it: run any changing webtree command as the service account or root');
      return;
    }
    throw err;
  }
}
