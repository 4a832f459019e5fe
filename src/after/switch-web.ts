/**
 * switch-web's check once the switch is live: restart the apps and check them on the new server,
 * and switch back when they do not answer. The next command runs it again (from the journal)
 * when switch-web died before it finished.
 */
import type { ProductDescriptor } from '../catalog/types.js';
import { WebtreeError } from '../core/errors.js';
import { restartAndCheck, type RestartAndCheck, type RestartOutcome } from '../failover/restart.js';
import { readSwitchFacts } from '../failover/switch-facts.js';
import { planSwitch } from '../plan/switch.js';
import type { Site } from '../site/types.js';
import { goBack, type AfterHook, type CommandContext } from './context.js';

/** Back to `to` after a failed health check, under the lock the switch still holds. */
async function switchBack(ctx: CommandContext, site: Site, catalog: ProductDescriptor[], to: string, failed: string, restart: RestartAndCheck): Promise<RestartOutcome> {
  const facts = await readSwitchFacts(site, catalog, to);
  // The apps reconnect to the server they came from; the next command redoes that if this one dies.
  return goBack(ctx, site, (pctx) => planSwitch(site, catalog, facts, { server: to, checks: [`was ${to} before`], undo: { reason: failed } }, pctx),
    { kind: 'switch-restore', data: { server: to } }, () => restart(site, catalog));
}

/** A switch back whose process died before the apps were restarted on the server they came from. */
export const resumeSwitchRestore: AfterHook = async (ctx, { site, catalog }, _plan, data: { server: string }) => {
  ctx.reporter.warn(`after switching back to ${data.server}: ${(await restartAndCheck(site, catalog)).report}`);
};

/** Restart and check the apps on the new server; on failure switch back to `from` and say so. */
export async function restartOrGoBack(ctx: CommandContext, site: Site, catalog: ProductDescriptor[], server: string, from: string | null, restart: RestartAndCheck): Promise<RestartOutcome> {
  const restarted = await restart(site, catalog);
  if (restarted.ok) return restarted;
  if (from === null) {
    throw new WebtreeError('ESWITCH', `switched to ${server}, but the health check failed and there is no earlier server to go back to`, { details: restarted.report, hint: 'fix what the report names, then webtree apache graceful' });
  }
  const reason = `the health check after switching to ${server} failed`;
  const again = await switchBack(ctx, site, catalog, from, reason, restart);
  throw new WebtreeError('ESWITCH', `${reason}; switched back to ${from}`, {
    details: [restarted.report, `after switching back to ${from}: ${again.report}`].join('\n'),
    hint: `fix what the report names (webtree apache status, the error log), then run switch-web ${server} again`,
  });
}

/** A switch killed before its restart and health check finished: the next command does them. */
export const resumeSwitch: AfterHook = async (ctx, { site, catalog }, _plan, data: { server: string; from: string | null; restart: boolean }) => {
  if (!data.restart) return;
  const r = await restartOrGoBack(ctx, site, catalog, data.server, data.from, restartAndCheck);
  ctx.reporter.warn(r.report);
};
