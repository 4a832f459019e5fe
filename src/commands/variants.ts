/**
 * variants keep|restore: the kept copies of the per-server variants (src/failover/variant-keep.ts).
 * keep records the variants as they are now (after a change of yours to one of them); restore
 * puts back every variant replaced by a link, removed or changed behind webtree's back, byte for
 * byte with owner and mode, and every consumer and slot link through the indirection.
 */
import { randomBytes } from 'node:crypto';
import { WebtreeError } from '../core/errors.js';
import { keepVariants, restoreVariants } from '../failover/variant-keep.js';
import { appendHistory, whoAmI } from '../state/history.js';
import { historyFile } from '../state/tree.js';
import { lockAndRecover } from './tx.js';
import type { CommandCode } from './types.js';

export const variantsCommand: CommandCode = {
  async run(ctx) {
    const verb = ctx.positionals[0];
    if (verb !== 'keep' && verb !== 'restore') throw new WebtreeError('EUSAGE', `unknown variants verb "${verb}"`, { hint: 'webtree variants keep|restore' });
    const site = await ctx.site();
    const catalog = await ctx.catalog();
    if (ctx.dryRun) {
      const lines = verb === 'restore' ? await restoreVariants(site, catalog, true) : ['copy every variant that is a regular file into the kept copies'];
      ctx.reporter.result({ dryRun: true, done: lines }, () => lines.join('\n') || 'nothing to restore');
      return 0;
    }
    const { lock } = await lockAndRecover(ctx, site, `variants ${verb}`);
    let done: string[];
    try {
      done = verb === 'keep' ? [`kept ${await keepVariants(site, catalog)} changed variant(s)`] : await restoreVariants(site, catalog);
      if (verb === 'restore' && done.length) {
        await appendHistory(historyFile(site), { id: randomBytes(8).toString('hex'), time: new Date().toISOString(), ...whoAmI(ctx.env), action: 'variants-restore', outcome: 'ok', message: done.filter((l) => !l.startsWith(' ')).join('; ') });
      }
    } finally {
      await lock.release();
    }
    ctx.reporter.result({ done }, () => done.join('\n') || 'every variant is as webtree kept it, and every consumer goes through the indirection: nothing to restore');
    return 0;
  },
};
