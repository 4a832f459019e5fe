/**
 * switch-web SERVER: fail every web tool over to SERVER's database in one step. Checks first
 * (a site server, every variant readable and its own, the database a primary of the cluster the
 * site serves, no second master), switches with one rename, restarts and checks the apps, and
 * goes back if the switch broke them, but only to a server checked like a target. Prints the
 * rest of the guide's failover runbook.
 */
import { errorText, WebtreeError } from '../core/errors.js';
import { appsFailing, restartAndCheck, type RestartAndCheck, type RestartOutcome } from '../failover/restart.js';
import { failoverRunbook } from '../failover/runbook.js';
import { readSwitchFacts } from '../failover/switch-facts.js';
import { checkTarget, recordOf } from '../failover/target-check.js';
import { planRefusedSwitch, planStayed, planSwitch, refuseSwitch, requireKnownServer } from '../plan/switch.js';
import type { Op } from '../plan/ops.js';
import type { ProductDescriptor } from '../catalog/types.js';
import type { Site } from '../site/types.js';
import { readCluster, recordClusterOp, type ClusterRecord } from '../state/cluster.js';
import { executorFor, freshPlanContext, goBack, registerAfterHook, runChange } from './tx.js';
import type { CommandCode, CommandContext } from './types.js';

/** What the check after a switch needs, also from the journal when the next command runs it. */
interface AfterSwitch {
  server: string;
  from: string | null;
  restart: boolean;
  /** URLs failing before the switch (undefined: Apache was not running, or not known). */
  before?: string[];
  /** Check the server before going back to it (false under --no-check-db). */
  checkDb?: boolean;
  /** The cluster record before the switch: what the server we came from was checked against. */
  recordedBefore?: ClusterRecord | null;
}

/** Back to `to` after a failed health check, under the lock the switch still holds. */
async function switchBack(ctx: CommandContext, site: Site, catalog: ProductDescriptor[], to: string, failed: string, restart: RestartAndCheck, a: AfterSwitch): Promise<RestartOutcome> {
  const facts = await readSwitchFacts(site, catalog, to);
  // The apps reconnect to the server they came from; the next command redoes that if this one dies.
  return goBack(ctx, site, (pctx) => planSwitch(site, catalog, facts, { server: to, checks: [`was ${to} before`, ...(a.checkDb === false ? [] : [`${to} checked again: primary of the same cluster`])], undo: { reason: failed } }, pctx),
    { kind: 'switch-restore', data: { server: to } }, () => restart(site, catalog, a.before));
}

/** A switch back whose process died before the apps were restarted on the server they came from. */
registerAfterHook('switch-restore', async (ctx, { site, catalog }, _plan, data: { server: string }) => {
  ctx.reporter.warn(`after switching back to ${data.server}: ${(await restartAndCheck(site, catalog)).report}`);
});

/** Why going back to `from` is not safe, or undefined when it was checked like a switch's target. */
async function unsafeToGoBack(site: Site, from: string, a: AfterSwitch): Promise<string | undefined> {
  if (!site.database.servers.some((s) => s.name === from)) return `${from} is not one of the site's servers`;
  if (a.checkDb === false) return undefined; // --no-check-db: the operator said the database is not to be asked
  try {
    await checkTarget(site, from, a.recordedBefore ?? null, { splitBrain: false, allowSplitBrain: true });
    return undefined;
  } catch (err) {
    return errorText(err).split('\n')[0];
  }
}

/** Restart and check the apps on the new server; if the switch broke one, go back to a checked `from`, or stay and say so. */
async function restartOrGoBack(ctx: CommandContext, site: Site, catalog: ProductDescriptor[], a: AfterSwitch, restart: RestartAndCheck): Promise<RestartOutcome> {
  const { server, from } = a;
  const restarted = await restart(site, catalog, a.before);
  if (restarted.ok) return restarted;
  const failing = restarted.failing?.length ? ` (${restarted.failing.join(', ')})` : '';
  if (from === null) {
    throw new WebtreeError('ESWITCH', `switched to ${server}, but the health check failed${failing} and there is no earlier server to go back to`, { details: restarted.report, hint: 'fix what the report names, then webtree apache graceful' });
  }
  const reason = `the health check after switching to ${server} failed`;
  const unsafe = await unsafeToGoBack(site, from, a);
  if (unsafe !== undefined) {
    // Going back to a server nobody checked would move every app onto it: stay, and say what to do.
    const pctx = await freshPlanContext(ctx, site);
    await (await executorFor(ctx, site)).apply(planStayed(server, from, `${reason}${failing}; going back to ${from} is not safe: ${unsafe}`, pctx), pctx.id);
    throw new WebtreeError('ESWITCH', `${reason}${failing}; going back to ${from} is not safe, so the web tools stay on ${server}`, {
      details: [restarted.report, `not going back: ${unsafe}`].join('\n'),
      hint: `fix what the report names on ${server} (webtree apache status, the error log), then webtree apache graceful; or, once ${from} is the master of the site's cluster again, run switch-web ${from}`,
    });
  }
  const again = await switchBack(ctx, site, catalog, from, reason, restart, a);
  throw new WebtreeError('ESWITCH', `${reason}${failing}; switched back to ${from}`, {
    details: [restarted.report, `after switching back to ${from}: ${again.report}`].join('\n'),
    hint: `fix what the report names (webtree apache status, the error log), then run switch-web ${server} again`,
  });
}

/** A switch killed before its restart and health check finished: the next command does them. */
registerAfterHook('switch-web', async (ctx, { site, catalog }, _plan, data: AfterSwitch) => {
  if (!data.restart) return;
  const r = await restartOrGoBack(ctx, site, catalog, data, restartAndCheck);
  ctx.reporter.warn(r.report);
});

/** A refusal as the history records it: the message and what it names (a variant, a path). */
const refusalText = (err: WebtreeError) => [err.message, ...(err.details ?? '').split('\n').map((l) => l.trim()).filter(Boolean)].join('; ');

export async function runSwitchWeb(ctx: CommandContext, restart: RestartAndCheck = restartAndCheck): Promise<number> {
  const server = ctx.positionals[0];
  const site = await ctx.site();
  requireKnownServer(site, server);
  const checkDb = ctx.options['no-check-db'] !== true;
  const doRestart = ctx.options['no-restart'] !== true;
  const allowSplitBrain = ctx.options['allow-split-brain'] === true;
  const checks: string[] = [];
  const a: AfterSwitch = { server, from: null, restart: doRestart, checkDb };
  let refused: WebtreeError | undefined;
  let restarted: RestartOutcome | undefined;

  const plan = await runChange(ctx, `switch-web ${server}`, async ({ site, catalog, pctx }) => {
    const facts = await readSwitchFacts(site, catalog, server);
    a.from = facts.active;
    if (facts.active === server) return planSwitch(site, catalog, facts, { server, checks }, pctx);
    checks.push(`${server} is a site server`);
    try {
      // The file checks are cheap and need no network: refuse on them before waiting for a database.
      refuseSwitch(site, catalog, facts, server);
      checks.push(`${Object.keys(facts.variants).length} variants readable`);
      const after: Op[] = [];
      if (checkDb) {
        a.recordedBefore = await readCluster(site);
        const v = await checkTarget(site, server, a.recordedBefore, { splitBrain: true, allowSplitBrain });
        checks.push(...v.checks, ...v.warnings.map((w) => `warning: ${w}`));
        for (const w of v.warnings) ctx.reporter.warn(w);
        after.push(recordClusterOp(site, recordOf(v.probe, pctx.now, 'switch-web')));
      } else checks.push('database not checked (--no-check-db)');
      // The apps' health before the switch: only what the switch breaks is a reason to go back.
      if (doRestart && !ctx.dryRun) a.before = await appsFailing(site, catalog);
      if (a.before?.length) checks.push(`already failing before the switch: ${a.before.join(', ')}`);
      return planSwitch(site, catalog, facts, { server, checks, after }, pctx);
    } catch (err) {
      if (!(err instanceof WebtreeError) || ctx.dryRun) throw err;
      // Recorded in the history, then reported; every refusal says that nothing changed.
      refused = /nothing changed$/.test(err.message) ? err
        : new WebtreeError(err.code, `${err.message}; nothing changed`, { hint: err.hint, details: err.details, exitCode: err.exitCode, cause: err });
      return planRefusedSwitch(facts.active, { server, checks }, refusalText(err), pctx);
    }
  }, {
    kind: 'switch-web',
    data: () => ({ ...a, restart: doRestart && !refused }),
    run: async ({ site, catalog }, p) => {
      if (refused || p.ops.length === 0 || !doRestart) return;
      restarted = await restartOrGoBack(ctx, site, catalog, a, restart);
    },
  });
  if (refused) throw refused;
  if (ctx.dryRun) return 0;
  const from = a.from;
  const changed = plan.ops.length > 0;
  const runbook = changed ? failoverRunbook(site, server, from) : [];
  const restartReport = !changed ? undefined : doRestart ? restarted?.report : 'not restarted (--no-restart): the apps keep their old connections until Apache restarts';
  ctx.reporter.result({ server, from, changed, checks, restart: restartReport ?? null, runbook }, () => (changed
    ? [`switched the web tools ${from ? `from ${from} ` : ''}to ${server}`, `  checks: ${checks.join('; ')}`, `  restart: ${restartReport}`, '', ...runbook]
    : [plan.summary]).join('\n'));
  return 0;
}

export const switchWebCommand: CommandCode = {
  run: (ctx) => runSwitchWeb(ctx),
};
