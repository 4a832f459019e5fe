import { findVersionedProduct } from '../catalog/load.js';
import { planActivate, planRollback } from '../plan/lifecycle.js';
import { serveAfter } from './serve-activation.js';
import { reportPlan, runChange } from './tx.js';
import type { Command } from './types.js';

export const activateCommand: Command = {
  name: 'activate',
  summary: 'point a product at one of its installed versions',
  args: 'PRODUCT VERSION',
  positionals: { min: 2, max: 2 },
  changes: true,
  json: true,
  options: {},
  async run(ctx) {
    const d = findVersionedProduct(await ctx.catalog(), ctx.positionals[0]);
    const plan = await runChange(ctx, `activate ${d.name} ${ctx.positionals[1]}`, ({ site, tree, pctx }) =>
      planActivate(site, d, tree.products[d.name], ctx.positionals[1], pctx), serveAfter(ctx, d));
    return reportPlan(ctx, plan, { product: d.name });
  },
};

export const rollbackCommand: Command = {
  name: 'rollback',
  summary: 'go back to the version that was active before (from the history)',
  args: 'PRODUCT',
  positionals: { min: 1, max: 1 },
  changes: true,
  json: true,
  options: { to: { type: 'string', arg: 'VERSION', description: 'go back to this installed version instead' } },
  async run(ctx) {
    const d = findVersionedProduct(await ctx.catalog(), ctx.positionals[0]);
    const plan = await runChange(ctx, `rollback ${d.name}`, ({ site, tree, pctx }) =>
      planRollback(site, d, tree.products[d.name], ctx.options.to as string | undefined, pctx), serveAfter(ctx, d));
    return reportPlan(ctx, plan, { product: d.name });
  },
};
