import { findVersionedProduct } from '../catalog/load.js';
import { WebtreeError } from '../core/errors.js';
import { planPrune } from '../plan/lifecycle.js';
import { reportPlan, runChange } from './tx.js';
import type { CommandCode } from './types.js';

export const pruneCommand: CommandCode = {
  async run(ctx) {
    const d = findVersionedProduct(await ctx.catalog(), ctx.positionals[0]);
    const raw = ctx.options.keep as string | undefined;
    if (raw === undefined || !/^\d+$/.test(raw)) throw new WebtreeError('EUSAGE', `prune needs --keep N with a whole number${raw === undefined ? '' : `, got "${raw}"`}`, { hint: `e.g. webtree prune ${d.name} --keep 3` });
    const plan = await runChange(ctx, `prune ${d.name}`, ({ site, tree, pctx }) => planPrune(site, d, tree.products[d.name], Number(raw), pctx));
    return reportPlan(ctx, plan, { product: d.name });
  },
};
