/**
 * Restarting every WSGI app without restarting Apache: touching each app's script makes its
 * mod_wsgi daemon restart on its next request, and no request is dropped (a graceful restart
 * drops kept-alive connections and in-flight daemon requests under load; bench/switch.mjs).
 */
import { daemonPids, daemonsNotRestarted } from './apps.js';
import { checkApps, type HealthReport } from './check.js';
import type { WsgiApp } from './render.js';
import { Executor } from '../apply/executor.js';
import { errorText } from '../core/errors.js';
import { graceful } from './control.js';
import type { Site } from '../site/types.js';

/**
 * Restart every app's daemon without a graceful: touch each app's script, then check every app
 * (mod_wsgi restarts a daemon at its next request, here the check's). `kept`: the apps whose
 * daemon pids did not change while script reloading is off, so the touch restarted nothing: for
 * those, and only then, a graceful restart follows and every app is checked again. For a change
 * every app sees: a library, or the database server.
 */
export async function restartEveryApp(
  site: Site,
  configured: WsgiApp[],
): Promise<{ report: HealthReport; kept: string[]; gracefulError?: string }> {
  const before = new Map<string, number[]>();
  for (const a of configured) before.set(a.name, await daemonPids(site, a.name));
  for (const a of configured) await new Executor({ site }).touch(a.script);
  let report = await checkApps(site, configured);
  const kept = await daemonsNotRestarted(site, before);
  if (kept.length > 0) {
    try {
      await graceful(site);
    } catch (err) {
      return { report, kept, gracefulError: errorText(err) };
    }
    report = await checkApps(site, configured);
  }
  return { report, kept };
}
