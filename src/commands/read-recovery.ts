/**
 * Reads change nothing: status, list, history, verify, render --diff and apache status/configtest
 * never finish, undo, restart, roll back or switch. An interrupted change (a journal with no live
 * writer) is reported, with the command that settles it (`webtree recover`), and the read goes on
 * with what is there. Apart from the journal and the lock, a read loads none of the executor's
 * code (startup stays fast).
 */
import { pendingChange, type Pending } from '../apply/pending.js';
import type { Site } from '../site/types.js';
import type { CommandContext } from './types.js';

export { pendingChange, type Pending } from '../apply/pending.js';

/** Warn of a pending change (reads go on); returns it for a read's --json. */
export async function reportPending(ctx: CommandContext, site: Site): Promise<Pending | undefined> {
  const p = await pendingChange(site);
  if (p) ctx.reporter.warn(p.hint ? `${p.message}: ${p.hint}` : p.message);
  return p;
}
