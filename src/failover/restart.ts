/**
 * After a switch the apps still hold connections to the old server: restarting every app's
 * daemon (restartEveryApp: a touch of each script, a graceful only where that restarts nothing)
 * makes them reconnect, and a health check of every app says whether they came back. switch-web takes
 * this as a function so that tests can make it fail and watch the switch go back.
 */
import { liveApps } from '../apache/check.js';
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
}

export type RestartAndCheck = (site: Site, catalog: ProductDescriptor[]) => Promise<RestartOutcome>;

export const restartAndCheck: RestartAndCheck = async (site, catalog) => {
  const st = await status(site);
  if (!st.running) return { ok: true, restarted: false, report: 'apache not running: no restart needed (it reads the new cfg files when it starts)' };
  // Only the apps the live conf.d mounts: one installed since the last render is not served yet, and its 404 is no failure.
  const { configured } = await liveApps(site, catalog);
  // Touching every app's script restarts the daemons alone; a graceful fails requests under load.
  const { report, kept, gracefulError } = await restartEveryApp(site, configured);
  if (gracefulError !== undefined) return { ok: false, restarted: false, report: `graceful restart failed: ${gracefulError}` };
  const { results, lines: health } = report;
  const bad = results.filter((r) => !r.ok);
  const lines = health.map((l) => `  ${l}`);
  const how = kept.length ? `graceful restart done (pid ${st.pid}; the daemons of ${kept.join(', ')} did not restart on a touch)` : `every app's daemon restarted (Apache pid ${st.pid} kept)`;
  const head = bad.length ? `${how}; ${bad.length} of ${results.length} health checks failed:` : `${how}; all ${results.length} health checks answered:`;
  return { ok: bad.length === 0, restarted: true, report: [head, ...lines].join('\n') };
};
