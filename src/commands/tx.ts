/**
 * How every changing command runs: lock, finish or undo an interrupted apply, read the tree,
 * plan (pure), then apply through the executor, or print the plan with --dry-run.
 */
import fs from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterCheck } from '../after/checks.js';
import { executorFor, planContext, reportNotes, type After, type CommandContext } from '../after/context.js';
import type { ProductDescriptor } from '../catalog/types.js';
import type { Executor } from '../apply/executor.js';
import { acquireLock, describeHolder, type Lock, type LockHolder } from '../apply/lock.js';
import { errorText, isErrno, WebtreeError } from '../core/errors.js';
import { interruptedNothingChanged } from '../core/interrupt.js';
import type { Reporter } from '../core/reporter.js';
import { describeOp, type Plan } from '../plan/ops.js';
import { historyEntry, type PlanContext } from '../plan/lifecycle.js';
import type { Site } from '../site/types.js';
import { keepListings, readTree, type TreeState } from '../state/tree.js';
import { debugLine } from '../core/debug-line.js';

// What every changing command imports from here, though it lives below (the checks after a change share it).
export { executorFor, freshPlanContext, goBack, newApplyId, planContext, reportNotes } from '../after/context.js';
export type { After, AfterInput } from '../after/context.js';

export interface TxInput {
  site: Site;
  catalog: ProductDescriptor[];
  tree: TreeState;
  pctx: PlanContext;
}

async function requireState(site: Site): Promise<void> {
  try {
    await fs.access(site.paths.state);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) {
      throw new WebtreeError('ESITE', `the tree of ${site.file} has no state directory ${site.paths.state}`, {
        hint: 'create the tree first: webtree init',
      });
    }
    throw err;
  }
}

/**
 * --dry-run takes no lock and settles nothing: on a tree with an interrupted change it would plan
 * against a half-changed tree, so it says so instead.
 */
async function refusePending(site: Site): Promise<void> {
  const { pendingChange } = await import('./read-recovery.js');
  const p = await pendingChange(site);
  if (!p) return;
  if (p.state === 'damaged') throw new WebtreeError('EDAMAGED', p.message, { hint: p.hint });
  throw new WebtreeError('EPENDING', `${p.message}; --dry-run plans nothing against a half-changed tree`, {
    hint:
      p.state === 'running'
        ? 'wait for that command to end, then run --dry-run again'
        : 'run `webtree recover` (or `webtree recover --dry-run` to see what it would do), then --dry-run again',
  });
}

const lockWaitMs = (env: NodeJS.ProcessEnv) => Math.max(0, Number(env.WEBTREE_LOCK_WAIT ?? '10')) * 1000;

/** What settling an interrupted apply did: for `webtree recover`'s report. */
export interface Recovered {
  command: string;
  pid: number;
  startedAt: string;
  how: 'finished' | 'undone';
  /** The check that followed the change, run again: its kind, and its failure if it failed. */
  check?: string;
  checkFailed?: string;
}

export async function recoverInterrupted(
  ctx: CommandContext,
  site: Site,
  executor: Executor,
): Promise<Recovered | undefined> {
  const done = await executor.recover();
  if (!done) return undefined;
  const { journal } = done;
  const how = done.finished ? 'finished' : 'undone';
  const out: Recovered = { command: journal.plan.command, pid: journal.pid, startedAt: journal.startedAt, how };
  ctx.reporter.warn(`an interrupted \`${journal.plan.command}\` (pid ${journal.pid}, ${journal.startedAt}) was ${how}`);
  if (!done.resume) return out;
  try {
    const hook = afterCheck(done.resume.kind);
    if (hook) {
      out.check = done.resume.kind;
      ctx.reporter.warn(`running its check again: ${done.resume.kind}`);
      await hook(ctx, { site, catalog: await ctx.catalog() }, journal.plan, done.resume.data);
    }
  } catch (err) {
    // The check did its own going-back; what it reports belongs to the interrupted command, not this one.
    out.checkFailed = errorText(err);
    ctx.reporter.warn(`the check of the interrupted \`${journal.plan.command}\` failed: ${errorText(err)}`);
  } finally {
    await executor.clearJournal();
  }
  return out;
}

/** A changing command's result: what the plan did (nothing more to print after --dry-run's plan). */
export function reportPlan(ctx: CommandContext, plan: Plan, extra: Record<string, unknown> = {}): number {
  if (ctx.dryRun) return 0;
  const changed = plan.ops.length > 0;
  ctx.reporter.result({ ...extra, changed, summary: plan.summary }, () =>
    changed ? `${plan.summary}: done` : plan.summary,
  );
  return 0;
}

export function printPlan(reporter: Reporter, plan: Plan): void {
  reporter.result(
    { dryRun: true, command: plan.command, summary: plan.summary, operations: plan.ops, notes: plan.notes },
    () =>
      // A plan with nothing to do has a sentence for a summary, not a verb: print it as it is.
      [
        plan.ops.length ? `would ${plan.summary}:` : plan.summary,
        ...plan.ops.map((o, i) => `  ${i + 1}. ${describeOp(o)}`),
        ...plan.notes.map((n) => `  note: ${n}`),
      ].join('\n'),
  );
}

/**
 * Lock, recover, read, plan, apply. `plan` gets the tree as read and returns a pure planner's
 * Plan; a command that needs more facts (switch-web's database check, render's httpd -t) reads
 * them there, under the lock. `after` runs under the lock once the plan is live.
 */
export async function runChange(
  ctx: CommandContext,
  label: string,
  plan: (input: TxInput) => Plan | Promise<Plan>,
  after?: After,
): Promise<Plan> {
  const site = await ctx.site();
  const catalog = await ctx.catalog();
  await requireState(site);
  if (ctx.dryRun) {
    await refusePending(site);
    const tree = await readTree(site, catalog);
    const p = await plan({ site, catalog, tree, pctx: planContext(ctx, tree.history) });
    printPlan(ctx.reporter, p);
    return p;
  }
  const { lock, executor } = await lockAndRecover(ctx, site, label);
  try {
    const tree = await readTree(site, catalog);
    const pctx = planContext(ctx, tree.history);
    let p: Plan;
    try {
      p = await plan({ site, catalog, tree, pctx });
      // Stops at once on a signal (the concurrency and signal tests aim there).
      if (ctx.env.WEBTREE_TEST_PAUSE_MS)
        await sleep(Number(ctx.env.WEBTREE_TEST_PAUSE_MS), undefined, { signal: ctx.signal }).catch(() => undefined);
    } catch (err) {
      // A signal while planning (Ctrl-C also kills the planner's children, httpd -t say): nothing was written.
      if (!ctx.signal?.aborted) throw err;
      await executor.noteInterrupted(historyEntry(pctx, { action: label.split(' ')[0], outcome: 'undone' }));
      throw interruptedNothingChanged(ctx.signal, 'while the change was being planned');
    }
    reportNotes(ctx.reporter, p.notes);
    const withAfter = after !== undefined && p.ops.length > 0;
    await executor.apply(p, pctx.id, withAfter ? { kind: after.kind, data: after.data?.() ?? null } : undefined);
    // A plan that changed nothing has nothing to check.
    if (withAfter) {
      try {
        await after.run({ site, catalog }, p);
      } finally {
        await executor.clearJournal();
      }
    }
    // Still under the lock: the listing memo status reads (state/listing-memo.ts).
    if (p.ops.length > 0) await keepListings(site, catalog).catch(() => undefined);
    return p;
  } finally {
    await lock.release();
  }
}

/**
 * Take the lock and finish or undo any interrupted apply: the start of every command that
 * changes the tree or what runs (runChange, init, apache start …). Returns the lock and the
 * executor to apply with.
 */
export async function lockAndRecover(
  ctx: CommandContext,
  site: Site,
  label: string,
  waitMs = lockWaitMs(ctx.env),
): Promise<{ lock: Lock; executor: Executor; recovered?: Recovered }> {
  const executor = await executorFor(ctx, site, true);
  const onWait = ctx.debug
    ? (h: LockHolder) => ctx.reporter.note(debugLine(`waiting for the lock held by ${describeHolder(h)}`))
    : undefined;
  const lock = await acquireLock(site.paths.state, label, waitMs, ctx.signal, onWait);
  if (lock.recoveredFrom)
    ctx.reporter.warn(
      `took over the lock of pid ${lock.recoveredFrom.pid} (\`${lock.recoveredFrom.command}\`), which is no longer running`,
    );
  if (lock.usedReserve)
    ctx.reporter.warn(
      `the disk is full: webtree gave up its reserve (${site.paths.state}/reserve) to take its lock; free space (\`webtree prune PRODUCT --keep N\`, \`df -h ${site.paths.state}\`): the reserve is made again once there is room`,
    );
  try {
    const recovered = await recoverInterrupted(ctx, site, executor);
    return { lock, executor, recovered };
  } catch (err) {
    await lock.release();
    throw err;
  }
}
