/**
 * variants keep|restore: the kept copies of the per-server variants (src/failover/variant-keep.ts).
 * keep records the variants as they are now (after a change of yours to one of them); restore
 * puts back every variant replaced by a link, removed or changed behind webtree's back, byte for
 * byte with owner and mode, and every consumer and slot link through the indirection. Both run
 * as every change does: under the lock, after settling an interrupted change, through the executor.
 */
import { errorText, WebtreeError } from '../core/errors.js';
import { readVariantFacts } from '../failover/variant-keep.js';
import { planKeep, planRestore } from '../plan/variants.js';
import type { Plan } from '../plan/ops.js';
import type { Site } from '../site/types.js';
import { freshPlanContext, lockAndRecover } from './tx.js';
import type { CommandCode, CommandContext } from './types.js';

type Planned = { plan: Plan; lines: string[] };

async function planFor(ctx: CommandContext, site: Site, verb: 'keep' | 'restore', links: boolean): Promise<Planned> {
  const facts = await readVariantFacts(site, await ctx.catalog());
  const pctx = await freshPlanContext(ctx, site);
  if (verb === 'restore') return planRestore(facts, pctx, { links });
  const { plan, changed } = planKeep(facts, pctx.now);
  return { plan, lines: [`kept ${changed} changed variant(s)`] };
}

/** Plan under the lock and apply; with --dry-run, plan only. Returns what was (or would be) done. */
export async function variantsChange(
  ctx: CommandContext,
  site: Site,
  verb: 'keep' | 'restore',
  opts: { links?: boolean } = {},
): Promise<Planned> {
  if (ctx.dryRun) return planFor(ctx, site, verb, opts.links !== false);
  const { lock, executor } = await lockAndRecover(ctx, site, `variants ${verb}`);
  try {
    const p = await planFor(ctx, site, verb, opts.links !== false);
    await executor.apply(p.plan, (await freshPlanContext(ctx, site)).id);
    return p;
  } finally {
    await lock.release();
  }
}

/**
 * After adopt and switch-web (their own lock released): the variants as they are now are the
 * ones to restore after a hand rename. Their change is done either way, so a failure here is a
 * warning naming the command that does it.
 */
export async function keepAfter(ctx: CommandContext, site: Site): Promise<void> {
  if (ctx.dryRun) return;
  try {
    await variantsChange(ctx, site, 'keep');
  } catch (err) {
    ctx.reporter.warn(`the per-server variants were not kept (${errorText(err)}): run \`webtree variants keep\``);
  }
}

export const variantsCommand: CommandCode = {
  async run(ctx) {
    const verb = ctx.positionals[0];
    if (verb !== 'keep' && verb !== 'restore')
      throw new WebtreeError('EUSAGE', `unknown variants verb "${verb}"`, { hint: 'webtree variants keep|restore' });
    const site = await ctx.site();
    const { plan, lines } = await variantsChange(ctx, site, verb);
    if (ctx.dryRun) {
      ctx.reporter.result(
        { dryRun: true, command: plan.command, summary: plan.summary, operations: plan.ops, done: lines },
        () => (plan.ops.length ? ['would:', ...lines.map((l) => `  ${l}`)] : [plan.summary]).join('\n'),
      );
      return 0;
    }
    const done = verb === 'keep' || plan.ops.length ? lines : [];
    ctx.reporter.result(
      { done },
      () =>
        done.join('\n') ||
        'every variant is as webtree kept it, and every consumer goes through the indirection: nothing to restore',
    );
    return 0;
  },
};
