import { findVersionedProduct } from '../catalog/load.js';
import { WebtreeError } from '../core/errors.js';
import { listCache } from '../fetch/cache.js';
import { planPruneCache } from '../plan/cache.js';
import { planPrune } from '../plan/lifecycle.js';
import { reportPlan, runChange } from './tx.js';
import type { CommandCode } from './types.js';

export const pruneCommand: CommandCode = {
  async run(ctx) {
    const cache = ctx.options.cache === true;
    if (ctx.positionals.length === 0) {
      if (!cache)
        throw new WebtreeError('EUSAGE', 'prune needs a PRODUCT (with --keep N), or --cache', {
          hint: 'e.g. webtree prune TV --keep 3, or webtree prune --cache',
        });
      if (ctx.options.keep !== undefined)
        throw new WebtreeError('EUSAGE', '--keep needs a PRODUCT', { hint: 'e.g. webtree prune TV --keep 3' });
      const plan = await runChange(ctx, 'prune --cache', async ({ site, tree, pctx }) =>
        planPruneCache(await listCache(site), tree, pctx),
      );
      return reportPlan(ctx, plan);
    }
    const d = findVersionedProduct(await ctx.catalog(), ctx.positionals[0]);
    const raw = ctx.options.keep as string | undefined;
    if (raw === undefined)
      throw new WebtreeError('EUSAGE', 'prune needs --keep N: how many of the newest versions to keep', {
        hint: `e.g. webtree prune ${d.name} --keep 3`,
      });
    // 0 is kept meaningful (docs/commands.md): the current and previous versions are kept whatever N says.
    if (!/^\d{1,6}$/.test(raw)) {
      throw new WebtreeError(
        'EUSAGE',
        `--keep takes a whole number ≥ 0 (the current and previous versions are always kept), got "${raw}"`,
        { hint: `e.g. webtree prune ${d.name} --keep 3` },
      );
    }
    const plan = await runChange(ctx, `prune ${d.name}`, ({ site, tree, pctx }) =>
      planPrune(site, d, tree.products[d.name], Number(raw), pctx),
    );
    // With --cache too: the archives of the versions just removed go as well.
    if (cache && !ctx.dryRun)
      await runChange(ctx, 'prune --cache', async ({ site, tree, pctx }) =>
        planPruneCache(await listCache(site), tree, pctx),
      );
    return reportPlan(ctx, plan, { product: d.name });
  },
};
