/**
 * switch-web SERVER: fail every web tool over to SERVER's database in one step. Checks first
 * (a site server, every variant readable, the database a primary), switches with one rename,
 * restarts and checks the apps, switches back if they do not answer, and prints the rest of the
 * guide's failover runbook.
 */
import { WebtreeError } from '../core/errors.js';
import { describeServer, requirePrimary } from '../db/primary.js';
import { restartAndCheck, type RestartAndCheck, type RestartOutcome } from '../failover/restart.js';
import { failoverRunbook } from '../failover/runbook.js';
import { readSwitchFacts } from '../failover/switch-facts.js';
import { planRefusedSwitch, planSwitch, refuseSwitch, requireKnownServer } from '../plan/switch.js';
import { restartOrGoBack } from '../after/switch-web.js';
import { runChange } from './tx.js';
import type { CommandCode, CommandContext } from './types.js';

export async function runSwitchWeb(ctx: CommandContext, restart: RestartAndCheck = restartAndCheck): Promise<number> {
  const server = ctx.positionals[0];
  const site = await ctx.site();
  requireKnownServer(site, server);
  const checkDb = ctx.options['no-check-db'] !== true;
  const doRestart = ctx.options['no-restart'] !== true;
  const checks: string[] = [];
  let from: string | null = null;
  let refused: WebtreeError | undefined;
  let restarted: RestartOutcome | undefined;

  const plan = await runChange(ctx, `switch-web ${server}`, async ({ site, catalog, pctx }) => {
    const facts = await readSwitchFacts(site, catalog, server);
    from = facts.active;
    if (facts.active === server) return planSwitch(site, catalog, facts, { server, checks }, pctx);
    checks.push(`${server} is a site server`);
    try {
      // The file checks are cheap and need no network: refuse on them before waiting for a database.
      refuseSwitch(site, catalog, facts, server);
      checks.push(`${Object.keys(facts.variants).length} variants readable`);
      if (checkDb) {
        const srv = site.database.servers.find((s) => s.name === server)!;
        const r = await requirePrimary(srv, { name: site.database.name, user: site.database.user, connectTimeoutSec: site.database.connectTimeout });
        checks.push(`${describeServer(srv)} is primary (pg_is_in_recovery() = false, PostgreSQL ${r.version})`);
      } else checks.push('database not checked (--no-check-db)');
      return planSwitch(site, catalog, facts, { server, checks }, pctx);
    } catch (err) {
      if (!(err instanceof WebtreeError) || ctx.dryRun) throw err;
      // Recorded in the history, then reported; every refusal says that nothing changed.
      refused = err.code === 'ESWITCH' ? err
        : new WebtreeError(err.code, `${err.message}; nothing changed`, { hint: err.hint, details: err.details, exitCode: err.exitCode, cause: err });
      return planRefusedSwitch(facts.active, { server, checks }, err.message, pctx);
    }
  }, {
    kind: 'switch-web',
    data: () => ({ server, from, restart: doRestart && !refused }),
    run: async ({ site, catalog }, p) => {
      if (refused || p.ops.length === 0 || !doRestart) return;
      restarted = await restartOrGoBack(ctx, site, catalog, server, from, restart);
    },
  });
  if (refused) throw refused;
  if (ctx.dryRun) return 0;
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
