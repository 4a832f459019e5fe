/**
 * adopt: take over a tree laid out by hand, in place, without changing what any reader sees.
 * Order on the web host: `webtree init` (writes the site file, adds only what is missing), then
 * `webtree adopt --dry-run` to read the plan, then `webtree adopt`.
 */
import { readAdoptFacts } from '../failover/adopt-facts.js';
import { planAdopt } from '../plan/adopt.js';
import { reportPlan, runChange } from './tx.js';
import type { CommandCode } from './types.js';

export const adoptCommand: CommandCode = {
  async run(ctx) {
    const plan = await runChange(ctx, 'adopt', async ({ site, catalog, tree, pctx }) =>
      planAdopt(site, catalog, tree, await readAdoptFacts(site, catalog, tree), pctx));
    // runChange has printed the notes already (stderr); the result says what was done.
    return reportPlan(ctx, plan, { notes: plan.notes });
  },
};
