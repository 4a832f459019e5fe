/**
 * After a switch the apps still hold connections to the old server: a graceful restart makes
 * them reconnect, and a health check of every app says whether they came back. switch-web takes
 * this as a function so that tests can make it fail and watch the switch go back.
 */
import { checkApps, liveApps } from '../apache/check.js';
import { graceful, status } from '../apache/control.js';
import type { ProductDescriptor } from '../catalog/types.js';
import { errorText } from '../core/errors.js';
import type { Site } from '../site/types.js';

export interface RestartOutcome {
  ok: boolean;
  /** Was Apache restarted at all (false: it was not running, or the restart itself failed)? */
  restarted: boolean;
  /** One or more lines for the operator and the history. */
  report: string;
}

export type RestartAndCheck = (site: Site, catalog: ProductDescriptor[]) => Promise<RestartOutcome>;

/** The apps Apache serves: one list for render, activation and failover (src/apache/apps.ts). */
export { servedApps } from '../apache/apps.js';

export const restartAndCheck: RestartAndCheck = async (site, catalog) => {
  const st = await status(site);
  if (!st.running) return { ok: true, restarted: false, report: 'apache not running: no restart needed (it reads the new cfg files when it starts)' };
  try {
    await graceful(site);
  } catch (err) {
    return { ok: false, restarted: false, report: `graceful restart failed: ${errorText(err)}` };
  }
  // Only the apps the live conf.d mounts: one installed since the last render is not served yet, and its 404 is no failure.
  const { results, lines: health } = await checkApps(site, (await liveApps(site, catalog)).configured);
  const bad = results.filter((r) => !r.ok);
  const lines = health.map((l) => `  ${l}`);
  const head = bad.length ? `graceful restart done (pid ${st.pid}); ${bad.length} of ${results.length} health checks failed:` : `graceful restart done (pid ${st.pid}); all ${results.length} health checks answered:`;
  return { ok: bad.length === 0, restarted: true, report: [head, ...lines].join('\n') };
};
