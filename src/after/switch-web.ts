/**
 * switch-web's check once the switch is live: restart the apps and check them on the new server,
 * and go back when the switch broke them, but only to a server checked like a target. The next
 * command runs it again (from the journal) when switch-web died before it finished.
 */
import type { ProductDescriptor } from '../catalog/types.js';
import { errorText, WebtreeError } from '../core/errors.js';
import { restartAndCheck, type RestartAndCheck, type RestartOutcome } from '../failover/restart.js';
import { readSwitchFacts } from '../failover/switch-facts.js';
import { checkTarget } from '../failover/target-check.js';
import { planStayed, planSwitch } from '../plan/switch.js';
import type { Site } from '../site/types.js';
import type { ClusterRecord } from '../state/cluster.js';
import { executorFor, freshPlanContext, goBack, type AfterHook, type CommandContext } from './context.js';

/** What the check after a switch needs, also from the journal when the next command runs it. */
export interface AfterSwitch {
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
async function switchBack(
  ctx: CommandContext,
  site: Site,
  catalog: ProductDescriptor[],
  to: string,
  failed: string,
  restart: RestartAndCheck,
  a: AfterSwitch,
): Promise<RestartOutcome> {
  const facts = await readSwitchFacts(site, catalog, to);
  // The apps reconnect to the server they came from; the next command redoes that if this one dies.
  return goBack(
    ctx,
    site,
    (pctx) =>
      planSwitch(
        site,
        catalog,
        facts,
        {
          server: to,
          checks: [
            `was ${to} before`,
            ...(a.checkDb === false ? [] : [`${to} checked again: primary of the same cluster`]),
          ],
          undo: { reason: failed },
        },
        pctx,
      ),
    { kind: 'switch-restore', data: { server: to } },
    () => restart(site, catalog, a.before),
  );
}

/** A switch back whose process died before the apps were restarted on the server they came from. */
export const resumeSwitchRestore: AfterHook = async (ctx, { site, catalog }, _plan, data: { server: string }) => {
  ctx.reporter.warn(`after switching back to ${data.server}: ${(await restartAndCheck(site, catalog)).report}`);
};

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
export async function restartOrGoBack(
  ctx: CommandContext,
  site: Site,
  catalog: ProductDescriptor[],
  a: AfterSwitch,
  restart: RestartAndCheck,
): Promise<RestartOutcome> {
  const { server, from } = a;
  const restarted = await restart(site, catalog, a.before);
  if (restarted.ok) return restarted;
  const failing = restarted.failing?.length ? ` (${restarted.failing.join(', ')})` : '';
  if (from === null) {
    throw new WebtreeError(
      'ESWITCH',
      `switched to ${server}, but the health check failed${failing} and there is no earlier server to go back to`,
      { details: restarted.report, hint: 'fix what the report names, then webtree apache graceful' },
    );
  }
  const reason = `the health check after switching to ${server} failed`;
  const unsafe = await unsafeToGoBack(site, from, a);
  if (unsafe !== undefined) {
    // Going back to a server nobody checked would move every app onto it: stay, and say what to do.
    const pctx = await freshPlanContext(ctx, site);
    await (
      await executorFor(ctx, site)
    ).apply(
      planStayed(server, from, `${reason}${failing}; going back to ${from} is not safe: ${unsafe}`, pctx),
      pctx.id,
    );
    throw new WebtreeError(
      'ESWITCH',
      `${reason}${failing}; going back to ${from} is not safe, so the web tools stay on ${server}`,
      {
        details: [restarted.report, `not going back: ${unsafe}`].join('\n'),
        hint: `fix what the report names on ${server} (webtree apache status, the error log), then webtree apache graceful; or, once ${from} is the master of the site's cluster again, run switch-web ${from}`,
      },
    );
  }
  const again = await switchBack(ctx, site, catalog, from, reason, restart, a);
  throw new WebtreeError('ESWITCH', `${reason}${failing}; switched back to ${from}`, {
    details: [restarted.report, `after switching back to ${from}: ${again.report}`].join('\n'),
    hint: `fix what the report names (webtree apache status, the error log), then run switch-web ${server} again`,
  });
}

/** A switch killed before its restart and health check finished: the next command does them. */
export const resumeSwitch: AfterHook = async (ctx, { site, catalog }, _plan, data: AfterSwitch) => {
  if (!data.restart) return;
  const r = await restartOrGoBack(ctx, site, catalog, data, restartAndCheck);
  ctx.reporter.warn(r.report);
};
