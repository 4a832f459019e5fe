/**
 * webtree recover: settle a change that was interrupted (kill -9, a power cut, a full disk): finish
 * it when its commit point was reached, undo it otherwise, then run the check that follows it
 * (restart, health check, going back when that fails). Reads only report such a change; this is
 * the command they name. Exit 0 when nothing was pending or the check passed, 1 when it failed.
 */
import { WebtreeError } from '../core/errors.js';
import { pendingChange } from './read-recovery.js';
import { lockAndRecover } from './tx.js';
import type { CommandCode } from './types.js';

export const recoverCommand: CommandCode = {
  async run(ctx) {
    const site = await ctx.site();
    if (ctx.dryRun) {
      const p = await pendingChange(site);
      if (p?.state === 'damaged') throw new WebtreeError('EDAMAGED', p.message, { hint: p.hint });
      ctx.reporter.result({ dryRun: true, pending: p ?? null }, () =>
        !p
          ? 'nothing to recover: no change is pending'
          : p.state === 'running'
            ? `${p.message}; nothing to recover while it runs`
            : `would settle \`${p.command}\` (pid ${p.pid}, started ${p.startedAt}): finish it if it had reached its commit point, else undo it; then run the check that follows it`,
      );
      return 0;
    }
    const { lock, recovered } = await lockAndRecover(ctx, site, 'recover');
    await lock.release();
    ctx.reporter.result({ recovered: recovered ?? null }, () =>
      !recovered
        ? 'nothing to recover: no change was pending'
        : `\`${recovered.command}\` was ${recovered.how}${recovered.check ? (recovered.checkFailed ? `; its check failed (${recovered.checkFailed})` : '; its check passed') : ''}`,
    );
    return recovered?.checkFailed ? 1 : 0;
  },
};
