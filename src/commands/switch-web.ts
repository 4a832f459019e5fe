/**
 * switch-web SERVER: fail every web tool over to SERVER's database in one step. Checks first
 * (a site server, every variant readable and its own, the database a primary of the cluster the
 * site serves, no second master), switches with one rename, restarts and checks the apps, and
 * goes back if the switch broke them, but only to a server checked like a target. Prints the
 * rest of the guide's failover runbook.
 */
import { WebtreeError } from '../core/errors.js';
import { appsFailing, restartAndCheck, type RestartAndCheck, type RestartOutcome } from '../failover/restart.js';
import { failoverRunbook } from '../failover/runbook.js';
import { readSwitchFacts } from '../failover/switch-facts.js';
import { checkTarget, recordOf } from '../failover/target-check.js';
import { readRepairFacts } from '../failover/repair-facts.js';
import { planRepair } from '../plan/repair.js';
import { planRefusedSwitch, planSwitch, refuseSwitch, requireKnownServer } from '../plan/switch.js';
import { activeLink } from '../plan/switch-layout.js';
import type { Op } from '../plan/ops.js';
import { readCluster, recordClusterOp } from '../state/cluster.js';
import { restartOrGoBack, type AfterSwitch } from '../after/switch-web.js';
import { runChange } from './tx.js';
import { keepAfter } from './variants.js';
import type { CommandCode, CommandContext } from './types.js';

/** A refusal as the history records it: the message and what it names (a variant, a path). */
const refusalText = (err: WebtreeError) =>
  [
    err.message,
    ...(err.details ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean),
  ].join('; ');

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
  let repaired: string[] | undefined;

  const plan = await runChange(
    ctx,
    `switch-web ${server}`,
    async ({ site, catalog, tree, pctx }) => {
      const facts = await readSwitchFacts(site, catalog, server);
      a.from = facts.active;
      try {
        if (facts.active === server) {
          // Already active: every consumer must still go through the indirection; put back any that does not.
          const p = planRepair(site, catalog, await readRepairFacts(site, catalog, tree), pctx);
          if (p.ops.length === 0) return planSwitch(site, catalog, facts, { server, checks }, pctx);
          repaired = p.notes;
          a.from = null; // nothing to go back to: the state before was a split site
          return {
            ...p,
            command: `switch-web ${server}`,
            summary: `the web tools already use ${server}; put ${p.notes.length} consumer(s) back through ${activeLink(site)}`,
          };
        }
        checks.push(`${server} is a site server`);
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
        refused = /nothing changed$/.test(err.message)
          ? err
          : new WebtreeError(err.code, `${err.message}; nothing changed`, {
              hint: err.hint,
              details: err.details,
              exitCode: err.exitCode,
              cause: err,
            });
        return planRefusedSwitch(facts.active, { server, checks }, refusalText(err), pctx);
      }
    },
    {
      kind: 'switch-web',
      data: () => ({ ...a, restart: doRestart && !refused }),
      run: async ({ site, catalog }, p) => {
        if (refused || p.ops.length === 0 || !doRestart) return;
        restarted = await restartOrGoBack(ctx, site, catalog, a, restart);
      },
    },
  );
  if (refused) throw refused;
  if (ctx.dryRun) return 0;
  if (repaired) {
    const report = doRestart ? (restarted?.report ?? null) : 'not restarted (--no-restart)';
    ctx.reporter.result({ server, from: server, changed: true, repaired, checks, restart: report, runbook: [] }, () =>
      [plan.summary, ...repaired!.map((l) => `  ${l}`), `  restart: ${report}`].join('\n'),
    );
    return 0;
  }
  await keepAfter(ctx, site);
  const from = a.from;
  const changed = plan.ops.length > 0;
  const runbook = changed ? failoverRunbook(site, server, from) : [];
  const restartReport = !changed
    ? undefined
    : doRestart
      ? restarted?.report
      : 'not restarted (--no-restart): the apps keep their old connections until Apache restarts';
  ctx.reporter.result({ server, from, changed, checks, restart: restartReport ?? null, runbook }, () =>
    (changed
      ? [
          `switched the web tools ${from ? `from ${from} ` : ''}to ${server}`,
          `  checks: ${checks.join('; ')}`,
          `  restart: ${restartReport}`,
          '',
          ...runbook,
        ]
      : [plan.summary]
    ).join('\n'),
  );
  return 0;
}

export const switchWebCommand: CommandCode = {
  run: (ctx) => runSwitchWeb(ctx),
};
