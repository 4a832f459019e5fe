/**
 * repair: put every consumer back through <switch>/active (src/plan/repair.ts), then restart the
 * apps' daemons so that every app reads the active server's variant, and check them. No going
 * back: the state repaired from was a split site, which is not worth returning to.
 */
import { restartAndCheck } from '../failover/restart.js';
import { readRepairFacts } from '../failover/repair-facts.js';
import { planRepair } from '../plan/repair.js';
import { runChange } from './tx.js';
import { variantsChange } from './variants.js';
import type { CommandCode, CommandContext } from './types.js';

export async function runRepair(ctx: CommandContext): Promise<number> {
  const doRestart = ctx.options['no-restart'] !== true;
  let report: string | undefined;
  let ok = true;
  // Kept variants a hand rename replaced (the guide's mv settings.py …) come back first, byte for
  // byte (failover/variant-keep.ts), so that the plan below finds every variant a file again.
  const { lines: restored } = await variantsChange(ctx, await ctx.site(), 'restore', { links: false });
  for (const line of restored) ctx.reporter.note(line);
  const plan = await runChange(
    ctx,
    'repair',
    async ({ site, catalog, tree, pctx }) =>
      planRepair(site, catalog, await readRepairFacts(site, catalog, tree), pctx),
    {
      kind: 'repair',
      data: () => null,
      run: async ({ site, catalog }) => {
        if (!doRestart) return;
        const r = await restartAndCheck(site, catalog);
        report = r.report;
        ok = r.ok;
      },
    },
  );
  if (ctx.dryRun) return 0;
  const changed = plan.ops.length > 0;
  const restart = !changed
    ? null
    : doRestart
      ? (report ?? null)
      : 'not restarted (--no-restart): the apps read the repaired paths when their daemons next restart';
  ctx.reporter.result({ changed, summary: plan.summary, repaired: plan.notes, restart }, () =>
    (changed ? [`${plan.summary}: done`, ...(restart ? [`  restart: ${restart}`] : [])] : [plan.summary]).join('\n'),
  );
  return ok ? 0 : 1;
}

export const repairCommand: CommandCode = { run: runRepair };
