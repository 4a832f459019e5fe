/**
 * How every changing command runs: lock, finish or undo an interrupted apply, read the tree,
 * plan (pure), then apply through the executor, or print the plan with --dry-run.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProductDescriptor } from '../catalog/types.js';
import { Executor } from '../apply/executor.js';
import type { AfterSpec } from '../apply/journal.js';
import { acquireLock, type Lock } from '../apply/lock.js';
import { ownerForThisProcess } from '../apply/owner.js';
import { errorText, isErrno, WebtreeError } from '../core/errors.js';
import { interruptedNothingChanged } from '../core/interrupt.js';
import type { Reporter } from '../core/reporter.js';
import { describeOp, type Plan } from '../plan/ops.js';
import type { PlanContext } from '../plan/lifecycle.js';
import type { Site } from '../site/types.js';
import { readHistory, whoAmI, type HistoryEntry } from '../state/history.js';
import { historyFile, readTree, type TreeState } from '../state/tree.js';
import type { CommandContext } from './types.js';

export const newApplyId = () => `${Date.now().toString(36)}-${process.pid}-${randomBytes(3).toString('hex')}`;

/** The clock, the caller and the history a planner takes, for one apply. */
export const planContext = (ctx: CommandContext, history: HistoryEntry[]): PlanContext => ({
  id: newApplyId(), now: new Date().toISOString(), who: whoAmI(ctx.env), history,
});

/** The plan context with the history as the tree has it now (for plans made after another apply). */
export const freshPlanContext = async (ctx: CommandContext, site: Site): Promise<PlanContext> => planContext(ctx, await readHistory(historyFile(site)));

/**
 * The one way a command gets an executor: run as root it gives what it makes to the service
 * account; --debug shows each operation; the kill tests can slow it down. `interruptible`: a
 * signal stops its apply (the command's own change); the executors of the checks that follow a
 * live change (going back, recording a failed check) are not, as stopping them would leave the
 * failed change live.
 */
export async function executorFor(ctx: CommandContext, site: Site, interruptible = false): Promise<Executor> {
  return new Executor({
    site,
    owner: await ownerForThisProcess(site.apache.user, site.apache.group),
    // With the time since the process started: where a slow command spends it.
    onOp: ctx.debug ? (l) => ctx.reporter.note(`  ${`${Math.round(performance.now())} ms`.padStart(8)}  ${l}`) : undefined,
    opDelayMs: Number(ctx.env.WEBTREE_TEST_OP_DELAY_MS ?? 0) || undefined,
    flushDelayMs: Number(ctx.env.WEBTREE_TEST_FLUSH_DELAY_MS ?? 0) || undefined,
    // A bar while unpacking, on a terminal only (the reporter decides).
    progress: (label) => ctx.reporter.progress(label),
    signal: interruptible ? ctx.signal : undefined,
  });
}

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
      throw new WebtreeError('ESITE', `the tree of ${site.file} has no state directory ${site.paths.state}`, { hint: 'create the tree first: webtree init' });
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
    hint: p.state === 'running' ? 'wait for that command to end, then run --dry-run again' : 'run `webtree recover` (or `webtree recover --dry-run` to see what it would do), then --dry-run again',
  });
}

const lockWaitMs = (env: NodeJS.ProcessEnv) => Math.max(0, Number(env.WEBTREE_LOCK_WAIT ?? '10')) * 1000;

/**
 * The check that follows a change once it is live (restart, health check, going back on
 * failure). A command registers its kind at load; the next command runs it again when the
 * process that made the change died before the check finished.
 */
export type AfterHook = (ctx: CommandContext, input: AfterInput, plan: Plan, data: any) => Promise<void>;
/** What a check after a change needs: it reads what it checks itself, after the change. */
export type AfterInput = Pick<TxInput, 'site' | 'catalog'>;
const AFTER_HOOKS = new Map<string, AfterHook>();
export const registerAfterHook = (kind: string, hook: AfterHook) => void AFTER_HOOKS.set(kind, hook);

/**
 * The module that registers each kind: commands load lazily, so the command that finds an
 * interrupted apply may not have loaded the one that made it. A test checks this table.
 */
export const AFTER_HOOK_MODULES: Record<string, () => Promise<unknown>> = {
  'serve-activation': () => import('./serve-activation.js'),
  'serve-restore': () => import('./serve-activation.js'),
  render: () => import('./render.js'),
  'render-restore': () => import('./render.js'),
  'switch-web': () => import('./switch-web.js'),
  'switch-restore': () => import('./switch-web.js'),
  repair: () => import('./repair.js'),
  'apply-serve': () => import('./apply-serve.js'),
  'apply-restore': () => import('./apply-serve.js'),
};

export async function findAfterHook(kind: string): Promise<AfterHook | undefined> {
  if (!AFTER_HOOKS.has(kind)) await AFTER_HOOK_MODULES[kind]?.();
  return AFTER_HOOKS.get(kind);
}

export interface After {
  kind: string;
  /** What the check needs to run again from the journal; computed once the plan is made. */
  data?: () => unknown;
  /** This process's own run of the check (it may report more than a resumed one). */
  run: (input: AfterInput, plan: Plan) => Promise<void>;
}

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

export async function recoverInterrupted(ctx: CommandContext, site: Site, executor: Executor): Promise<Recovered | undefined> {
  const done = await executor.recover();
  if (!done) return undefined;
  const { journal } = done;
  const how = done.finished ? 'finished' : 'undone';
  const out: Recovered = { command: journal.plan.command, pid: journal.pid, startedAt: journal.startedAt, how };
  ctx.reporter.warn(`an interrupted \`${journal.plan.command}\` (pid ${journal.pid}, ${journal.startedAt}) was ${how}`);
  if (!done.resume) return out;
  try {
    const hook = await findAfterHook(done.resume.kind);
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

/**
 * Going back after a failed check, the one way: a plan its planner marked `finish` (completed,
 * never undone, if this process dies), applied with the check that must follow it as its `after`
 * (so that the next command redoes that check), then the check, then the journal cleared. A
 * check that throws leaves the journal for the next command.
 */
export async function goBack<T>(ctx: CommandContext, site: Site, plan: (pctx: PlanContext) => Plan | Promise<Plan>, resume: AfterSpec, check: () => Promise<T>): Promise<T> {
  const pctx = await freshPlanContext(ctx, site);
  const p = await plan(pctx);
  const executor = await executorFor(ctx, site);
  await executor.apply(p, pctx.id, resume);
  const result = await check();
  await executor.clearJournal();
  return result;
}

/** A plan's notes: those that begin "warning: " are warnings, the others notes. */
export function reportNotes(reporter: Reporter, notes: string[]): void {
  for (const n of notes) (n.startsWith('warning: ') ? reporter.warn(n.slice(9)) : reporter.note(n));
}

/** A changing command's result: what the plan did (nothing more to print after --dry-run's plan). */
export function reportPlan(ctx: CommandContext, plan: Plan, extra: Record<string, unknown> = {}): number {
  if (ctx.dryRun) return 0;
  const changed = plan.ops.length > 0;
  ctx.reporter.result({ ...extra, changed, summary: plan.summary }, () => (changed ? `${plan.summary}: done` : plan.summary));
  return 0;
}

export function printPlan(reporter: Reporter, plan: Plan): void {
  reporter.result({ dryRun: true, command: plan.command, summary: plan.summary, operations: plan.ops, notes: plan.notes }, () =>
    // A plan with nothing to do has a sentence for a summary, not a verb: print it as it is.
    [plan.ops.length ? `would ${plan.summary}:` : plan.summary, ...plan.ops.map((o, i) => `  ${i + 1}. ${describeOp(o)}`), ...plan.notes.map((n) => `  note: ${n}`)].join('\n'));
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
      if (ctx.env.WEBTREE_TEST_PAUSE_MS) await sleep(Number(ctx.env.WEBTREE_TEST_PAUSE_MS), undefined, { signal: ctx.signal }).catch(() => undefined);
    } catch (err) {
      // A signal while planning (Ctrl-C also kills the planner's children, httpd -t say): nothing was written.
      if (!ctx.signal?.aborted) throw err;
      await executor.noteInterrupted({ id: pctx.id, time: pctx.now, ...pctx.who, action: label.split(' ')[0], outcome: 'undone' });
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
export async function lockAndRecover(ctx: CommandContext, site: Site, label: string, waitMs = lockWaitMs(ctx.env)): Promise<{ lock: Lock; executor: Executor; recovered?: Recovered }> {
  const executor = await executorFor(ctx, site, true);
  const lock = await acquireLock(site.paths.state, label, waitMs, ctx.signal);
  if (lock.recoveredFrom) ctx.reporter.warn(`took over the lock of pid ${lock.recoveredFrom.pid} (\`${lock.recoveredFrom.command}\`), which is no longer running`);
  if (lock.usedReserve) ctx.reporter.warn(`the disk is full: webtree gave up its reserve (${site.paths.state}/reserve) to take its lock; free space (\`webtree prune PRODUCT --keep N\`, \`df -h ${site.paths.state}\`): the reserve is made again once there is room`);
  try {
    const recovered = await recoverInterrupted(ctx, site, executor);
    return { lock, executor, recovered };
  } catch (err) {
    await lock.release();
    throw err;
  }
}
