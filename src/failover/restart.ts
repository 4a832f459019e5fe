/**
 * After a switch the apps still hold connections to the old server: restarting every app's
 * daemon (restartEveryApp: a touch of each script, a graceful only where that restarts nothing)
 * makes them reconnect, and a health check of every app says whether they came back. switch-web takes
 * this as a function so that tests can make it fail and watch the switch go back.
 *
 * Only a failure the switch introduced counts: an app that already failed before the switch
 * (its health recorded by appsFailing) is named but is no reason to go back, since going back
 * would not mend it and would move every other app too.
 */
import { checkApps, liveApps } from '../apache/check.js';
import { status } from '../apache/control.js';
import { restartEveryApp } from '../apache/restart-apps.js';
import type { ProductDescriptor } from '../catalog/types.js';
import type { Site } from '../site/types.js';

export interface RestartOutcome {
  ok: boolean;
  /** Was Apache restarted at all (false: it was not running, or the restart itself failed)? */
  restarted: boolean;
  /** One or more lines for the operator and the history. */
  report: string;
  /** The URLs that fail now and did not before the switch. */
  failing?: string[];
}

/** `before`: the URLs that failed before the switch (undefined: not known, every failure counts). */
export type RestartAndCheck = (site: Site, catalog: ProductDescriptor[], before?: string[]) => Promise<RestartOutcome>;

/** The URLs failing now, without restarting anything; undefined when Apache is not running. */
export async function appsFailing(site: Site, catalog: ProductDescriptor[]): Promise<string[] | undefined> {
  if (!(await status(site)).running) return undefined;
  const { configured } = await liveApps(site, catalog);
  // No retry for a starting daemon: Apache is up, and a wait here delays the switch.
  return (await checkApps(site, configured, 0)).results.filter((r) => !r.ok).map((r) => r.url);
}

export const restartAndCheck: RestartAndCheck = async (site, catalog, before) => {
  const st = await status(site);
  if (!st.running)
    return {
      ok: true,
      restarted: false,
      report: 'apache not running: no restart needed (it reads the new cfg files when it starts)',
    };
  // Only the apps the live conf.d mounts: one installed since the last render is not served yet, and its 404 is no failure.
  const { configured } = await liveApps(site, catalog);
  // Touching every app's script restarts the daemons alone; a graceful fails requests under load.
  const { report, kept, gracefulError } = await restartEveryApp(site, configured);
  if (gracefulError !== undefined)
    return { ok: false, restarted: false, report: `graceful restart failed: ${gracefulError}` };
  const { results, lines: health } = report;
  const bad = results.filter((r) => !r.ok);
  const old = new Set(before ?? []);
  const fresh = bad.filter((r) => !old.has(r.url));
  const lines = health.map(
    (l, i) => `  ${l}${!results[i].ok && old.has(results[i].url) ? ' (failed before the switch too)' : ''}`,
  );
  const how = kept.length
    ? `graceful restart done (pid ${st.pid}; the daemons of ${kept.join(', ')} did not restart on a touch)`
    : `every app's daemon restarted (Apache pid ${st.pid} kept)`;
  const already = bad.length - fresh.length;
  const head = bad.length
    ? `${how}; ${bad.length} of ${results.length} health checks failed${already ? ` (${already} of them before the switch too, which the switch did not cause)` : ''}:`
    : `${how}; all ${results.length} health checks answered:`;
  return {
    ok: fresh.length === 0,
    restarted: true,
    report: [head, ...lines].join('\n'),
    failing: fresh.map((r) => r.url),
  };
};
