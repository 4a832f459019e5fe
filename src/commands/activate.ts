import { findProduct } from '../catalog/load.js';
import { planActivate, planRollback } from '../plan/lifecycle.js';
import { serveAfter } from './serve-activation.js';
import { runChange } from './tx.js';
import type { Command, CommandContext } from './types.js';

async function report(ctx: CommandContext, product: string, summary: string, changed: boolean) {
  if (!ctx.dryRun) ctx.reporter.result({ product, changed, summary }, () => (changed ? `${summary}: done` : summary));
  return 0;
}

export const activateCommand: Command = {
  name: 'activate',
  summary: 'point a product at one of its installed versions',
  args: 'PRODUCT VERSION',
  positionals: { min: 2, max: 2 },
  changes: true,
  json: true,
  options: {},
  async run(ctx) {
    const d = findProduct(await ctx.catalog(), ctx.positionals[0]);
    const plan = await runChange(ctx, `activate ${d.name} ${ctx.positionals[1]}`, ({ site, tree, pctx }) =>
      planActivate(site, d, tree.products[d.name], ctx.positionals[1], pctx), serveAfter(ctx, d));
    return report(ctx, d.name, plan.summary, plan.ops.length > 0);
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
    const d = findProduct(await ctx.catalog(), ctx.positionals[0]);
    const plan = await runChange(ctx, `rollback ${d.name}`, ({ site, tree, pctx }) =>
      planRollback(site, d, tree.products[d.name], ctx.options.to as string | undefined, pctx), serveAfter(ctx, d));
    return report(ctx, d.name, plan.summary, plan.ops.length > 0);
  },
};
