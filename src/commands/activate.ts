import { findVersionedProduct } from '../catalog/load.js';
import { planActivate, planRollback } from '../plan/lifecycle.js';
import { serveAfter } from '../after/serve-activation.js';
import { reportPlan, runChange } from './tx.js';
import type { CommandCode } from './types.js';

export const activateCommand: CommandCode = {
  async run(ctx) {
    const d = findVersionedProduct(await ctx.catalog(), ctx.positionals[0]);
    const plan = await runChange(
      ctx,
      `activate ${d.name} ${ctx.positionals[1]}`,
      ({ site, tree, pctx }) => planActivate(site, d, tree.products[d.name], ctx.positionals[1], pctx),
      serveAfter(ctx, d),
    );
    return reportPlan(ctx, plan, { product: d.name });
  },
};

export const rollbackCommand: CommandCode = {
  async run(ctx) {
    const d = findVersionedProduct(await ctx.catalog(), ctx.positionals[0]);
    const plan = await runChange(
      ctx,
      `rollback ${d.name}`,
      ({ site, tree, pctx }) =>
        planRollback(site, d, tree.products[d.name], ctx.options.to as string | undefined, pctx),
      serveAfter(ctx, d),
    );
    return reportPlan(ctx, plan, { product: d.name });
  },
};
