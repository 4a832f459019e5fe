/**
 * adopt: take over a tree laid out by hand, in place, without changing what any reader sees.
 * Order on the web host: `webtree init` (writes the site file, adds only what is missing), then
 * `webtree adopt --dry-run` to read the plan, then `webtree adopt`.
 */
import { readAdoptFacts } from '../failover/adopt-facts.js';
import { identityOps } from '../failover/record-identity.js';
import { planAdopt } from '../plan/adopt.js';
import { readHandScripts } from '../failover/shim-facts.js';
import { planShims } from '../plan/shims.js';
import type { Plan } from '../plan/ops.js';
import { activeLink } from '../plan/switch-layout.js';
import { thisWebtree } from '../apache/render.js';
import { keptDir } from '../failover/variant-keep.js';
import { reportPlan, runChange } from './tx.js';
import { keepAfter } from './variants.js';
import type { CommandCode } from './types.js';

export const adoptCommand: CommandCode = {
  async run(ctx) {
    const plan = await runChange(ctx, 'adopt', async ({ site, catalog, tree, pctx }) => {
      const planned = planAdopt(site, catalog, tree, await readAdoptFacts(site, catalog, tree), pctx);
      // keepAfter below writes its copies in a plan of its own, after this one: the dry run says so, so that it predicts every write of adopt.
      const p = ctx.dryRun
        ? {
            ...planned,
            notes: [
              ...planned.notes,
              `adopt also keeps a copy of each server's variant files in ${keptDir(site)} as \`webtree variants keep\` does (what \`webtree variants restore\` puts back)`,
            ],
          }
        : planned;
      // The guide's hand-kept scripts in ~codemanager/bin become shims that call webtree (plan/shims.ts).
      const shims = planShims(site, await readHandScripts(site, ctx.env), thisWebtree(), activeLink(site), pctx.now);
      const withShims = (q: Plan): Plan => ({
        ...q,
        ops: [...q.ops, ...shims.ops],
        notes: [...q.notes, ...shims.notes],
        summary:
          shims.ops.length && !q.ops.length
            ? 'put shims that call webtree in place of the hand-kept scripts'
            : q.summary,
      });
      const active = p.ops.find(
        (o) => o.kind === 'record' && o.entry.action === 'adopt' && o.entry.product === undefined,
      );
      if (ctx.options['no-check-db'] === true || active?.kind !== 'record' || active.entry.to === undefined)
        return withShims(p);
      // The cluster the adopted tree serves, for switch-web's checks: after the commit, with the history.
      const { ops, notes } = await identityOps(site, active.entry.to, pctx.now, 'adopt');
      const at = p.ops.indexOf(active);
      return withShims({
        ...p,
        ops: [...p.ops.slice(0, at), ...ops, ...p.ops.slice(at)],
        notes: [...p.notes, ...notes],
      });
    });
    // The variants as adopted are the ones to restore after a hand rename (failover/variant-keep.ts).
    await keepAfter(ctx, await ctx.site());
    // runChange has printed the notes already (stderr); the result says what was done.
    return reportPlan(ctx, plan, { notes: plan.notes });
  },
};
