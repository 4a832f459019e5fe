/**
 * How every changing command runs: lock, finish or undo an interrupted apply, read the tree,
 * plan (pure), then apply through the executor, or print the plan with --dry-run.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import type { ProductDescriptor } from '../catalog/types.js';
import { Executor } from '../apply/executor.js';
import { readJournal } from '../apply/journal.js';
import { acquireLock, type Lock } from '../apply/lock.js';
import { ownerForThisProcess } from '../apply/owner.js';
import { isErrno, WebtreeError } from '../core/errors.js';
import type { Reporter } from '../core/reporter.js';
import { describeOp, type Plan } from '../plan/ops.js';
import type { PlanContext } from '../plan/lifecycle.js';
import type { Site } from '../site/types.js';
import { whoAmI } from '../state/history.js';
import { readTree, type TreeState } from '../state/tree.js';
import type { CommandContext } from './types.js';

export const newApplyId = () => `${Date.now().toString(36)}-${process.pid}-${randomBytes(3).toString('hex')}`;

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

const lockWaitMs = (env: NodeJS.ProcessEnv) => Math.max(0, Number(env.WEBTREE_LOCK_WAIT ?? '10')) * 1000;

export async function recoverInterrupted(site: Site, executor: Executor, reporter: Reporter): Promise<void> {
  const done = await executor.recover();
  if (done) {
    const how = done.finished ? 'finished' : 'undone';
    reporter.warn(`an interrupted \`${done.journal.plan.command}\` (pid ${done.journal.pid}, ${done.journal.startedAt}) was ${how}`);
  }
}

export function printPlan(reporter: Reporter, plan: Plan): void {
  reporter.result({ dryRun: true, command: plan.command, summary: plan.summary, operations: plan.ops, notes: plan.notes }, () =>
    [`would ${plan.summary}:`, ...plan.ops.map((o, i) => `  ${i + 1}. ${describeOp(o)}`), ...plan.notes.map((n) => `  note: ${n}`)].join('\n'));
}

/** Lock, recover, read, plan, apply. `plan` is pure; `after` runs under the lock once the plan is live. */
export async function runChange(
  ctx: CommandContext,
  label: string,
  plan: (input: TxInput) => Plan | Promise<Plan>,
  after?: (input: TxInput, plan: Plan) => Promise<void>,
): Promise<Plan> {
  const site = await ctx.site();
  const catalog = await ctx.catalog();
  await requireState(site);
  const pctxFor = async (tree: TreeState): Promise<PlanContext> => ({ id: newApplyId(), now: new Date().toISOString(), who: whoAmI(ctx.env), history: tree.history });
  if (ctx.dryRun) {
    const tree = await readTree(site, catalog);
    const p = await plan({ site, catalog, tree, pctx: await pctxFor(tree) });
    printPlan(ctx.reporter, p);
    return p;
  }
  const owner = await ownerForThisProcess(site.apache.user, site.apache.group);
  const executor = new Executor({
    site, owner, onOp: ctx.debug ? (l) => ctx.reporter.note(`  ${l}`) : undefined,
    opDelayMs: Number(ctx.env.WEBTREE_TEST_OP_DELAY_MS ?? 0) || undefined,
  });
  const lock = await takeLock(site, label, ctx);
  try {
    await recoverInterrupted(site, executor, ctx.reporter);
    const tree = await readTree(site, catalog);
    const pctx = await pctxFor(tree);
    const p = await plan({ site, catalog, tree, pctx });
    for (const n of p.notes) (n.startsWith('warning: ') ? ctx.reporter.warn(n.slice(9)) : ctx.reporter.note(n));
    if (ctx.env.WEBTREE_TEST_PAUSE_MS) await new Promise((r) => setTimeout(r, Number(ctx.env.WEBTREE_TEST_PAUSE_MS)));
    await executor.apply(p, pctx.id);
    if (after) await after({ site, catalog, tree, pctx }, p);
    return p;
  } finally {
    await lock.release();
  }
}

async function takeLock(site: Site, label: string, ctx: CommandContext): Promise<Lock> {
  const lock = await acquireLock(site.paths.state, label, lockWaitMs(ctx.env));
  if (lock.recoveredFrom) ctx.reporter.warn(`took over the lock of pid ${lock.recoveredFrom.pid} (\`${lock.recoveredFrom.command}\`), which is no longer running`);
  return lock;
}

/** Read commands finish an interrupted apply first when they can; without write access they say so. */
export async function readWithRecovery(ctx: CommandContext, site: Site): Promise<void> {
  if (!(await readJournal(site.paths.state).catch(() => undefined))) return;
  try {
    const owner = await ownerForThisProcess(site.apache.user, site.apache.group);
    const lock = await acquireLock(site.paths.state, 'recover', 2000);
    try {
      await recoverInterrupted(site, new Executor({ site, owner }), ctx.reporter);
    } finally {
      await lock.release();
    }
  } catch (err) {
    if (err instanceof WebtreeError && err.code === 'ELOCKED') return; // a live apply is under way; read what is there
    if (isErrno(err, 'EACCES') || isErrno(err, 'EPERM')) {
      ctx.reporter.warn('an interrupted change is pending and this account cannot finish it: run any changing webtree command as the service account or root');
      return;
    }
    throw err;
  }
}
