/**
 * What a changing command and the checks after its change share: the context a command runs
 * with, the executor it applies through, the plan context, and the one way of going back after
 * a failed check. Below src/commands, so that the checks (src/after/checks.ts) need no command.
 */
import { randomBytes } from 'node:crypto';
import { Executor } from '../apply/executor.js';
import type { AfterSpec } from '../apply/journal.js';
import { ownerForThisProcess } from '../apply/owner.js';
import type { ProductDescriptor } from '../catalog/types.js';
import type { Reporter } from '../core/reporter.js';
import type { HistoryEntry } from '../plan/facts.js';
import type { PlanContext } from '../plan/lifecycle.js';
import type { Plan } from '../plan/ops.js';
import type { Site } from '../site/types.js';
import { readHistory, whoAmI } from '../state/history.js';
import { historyFile } from '../state/tree.js';
import { debugLine } from '../core/debug-line.js';

export interface CommandContext {
  positionals: string[];
  options: Record<string, string | boolean | string[] | undefined>;
  reporter: Reporter;
  dryRun: boolean;
  debug: boolean;
  /** --config as given (undefined: $WEBTREE_CONFIG or the production default). */
  config?: string;
  env: NodeJS.ProcessEnv;
  /** Loads and validates the site file (exit 2 when bad). */
  site(): Promise<Site>;
  catalog(): Promise<ProductDescriptor[]>;
  /** Aborted (reason: the signal's name) on SIGINT, SIGTERM or SIGHUP while a changing command runs. */
  signal?: AbortSignal;
}

/**
 * The kinds of check that follow a change once it is live. The journal records the kind, and
 * the next command runs the check again when the process that made the change died before the
 * check finished: src/after/checks.ts maps each kind to its code, and the compiler holds the two
 * lists together.
 */
export type AfterKind =
  | 'serve-activation'
  | 'serve-restore'
  | 'render'
  | 'render-restore'
  | 'switch-web'
  | 'switch-restore'
  | 'apply-serve'
  | 'apply-restore'
  | 'repair';

/** What a check after a change needs: it reads what it checks itself, after the change. */
export interface AfterInput {
  site: Site;
  catalog: ProductDescriptor[];
}

/** A check run again from the journal: `data` is what the interrupted command recorded for it. */
// `any`: each kind's code declares the shape of the data its command recorded in the journal.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AfterHook = (ctx: CommandContext, input: AfterInput, plan: Plan, data: any) => Promise<void>;

export interface After {
  kind: AfterKind;
  /** What the check needs to run again from the journal; computed once the plan is made. */
  data?: () => unknown;
  /** This process's own run of the check (it may report more than a resumed one). */
  run: (input: AfterInput, plan: Plan) => Promise<void>;
}

/** The journal's record of the check that must follow a going back. */
export interface Resume extends AfterSpec {
  kind: AfterKind;
}

export const newApplyId = () => `${Date.now().toString(36)}-${process.pid}-${randomBytes(3).toString('hex')}`;

/** The clock, the caller and the history a planner takes, for one apply. */
export const planContext = (ctx: CommandContext, history: HistoryEntry[]): PlanContext => ({
  id: newApplyId(),
  now: new Date().toISOString(),
  who: whoAmI(ctx.env),
  history,
});

/** The plan context with the history as the tree has it now (for plans made after another apply). */
export const freshPlanContext = async (ctx: CommandContext, site: Site): Promise<PlanContext> =>
  planContext(ctx, await readHistory(historyFile(site)));

/**
 * The one way a command gets an executor: run as root it gives what it makes to the service
 * account; --debug shows each operation; the kill tests can slow it down. `interruptible`: a
 * signal stops its apply (the command's own change); the executors of the checks that follow a
 * live change (going back, recording a failed check) are not, as stopping them would leave the
 * failed change live.
 */
export async function executorFor(
  ctx: CommandContext,
  site: Site,
  interruptible = false,
  giveToAccount = true,
): Promise<Executor> {
  return new Executor({
    site,
    // giveToAccount false: what root puts under /etc (install-service) stays root's.
    owner: giveToAccount ? await ownerForThisProcess(site.apache.user, site.apache.group) : undefined,
    // With the time since the process started: where a slow command spends it.
    onOp: ctx.debug ? (l) => ctx.reporter.note(debugLine(l)) : undefined,
    opDelayMs: Number(ctx.env.WEBTREE_TEST_OP_DELAY_MS ?? 0) || undefined,
    flushDelayMs: Number(ctx.env.WEBTREE_TEST_FLUSH_DELAY_MS ?? 0) || undefined,
    // A bar while unpacking, on a terminal only (the reporter decides).
    progress: (label) => ctx.reporter.progress(label),
    signal: interruptible ? ctx.signal : undefined,
  });
}

/**
 * Going back after a failed check, the one way: a plan its planner marked `finish` (completed,
 * never undone, if this process dies), applied with the check that must follow it as its `after`
 * (so that the next command redoes that check), then the check, then the journal cleared. A
 * check that throws leaves the journal for the next command.
 */
export async function goBack<T>(
  ctx: CommandContext,
  site: Site,
  plan: (pctx: PlanContext) => Plan | Promise<Plan>,
  resume: Resume,
  check: () => Promise<T>,
): Promise<T> {
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
  for (const n of notes) n.startsWith('warning: ') ? reporter.warn(n.slice(9)) : reporter.note(n);
}
