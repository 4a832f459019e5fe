/**
 * The health check as the commands use it after a change: every app Apache mounts plus
 * robots.txt, one line per URL for the operator, and the error log's fresh lines when
 * something failed. render, the lifecycle commands, `apache` and switch-web all go through here.
 */
import type { ProductDescriptor } from '../catalog/types.js';
import type { Site } from '../site/types.js';
import { servedApps, splitConfigured } from './apps.js';
import { graceful, start, status } from './control.js';
import { checkHealth, type HealthResult } from './health.js';
import type { WsgiApp } from './render.js';

export interface HealthReport {
  ok: boolean;
  results: HealthResult[];
  /** "ok   http://127.0.0.1:8080/TV 200", "FAIL http://…/AV 500". */
  lines: string[];
}

export const healthLine = (r: HealthResult) =>
  `${r.ok ? 'ok  ' : 'FAIL'} ${r.url} ${r.status ?? ''}${r.error ? ` ${r.error}` : ''}`.trimEnd();

export async function checkApps(site: Site, apps: WsgiApp[], retryForMs = 5000): Promise<HealthReport> {
  const results = await checkHealth(site, apps, { retryForMs });
  return { ok: results.every((r) => r.ok), results, lines: results.map(healthLine) };
}

/** The apps the live configuration mounts (conf.d/<app>.conf exists), and those it does not yet. */
export async function liveApps(
  site: Site,
  catalog: ProductDescriptor[],
): Promise<{ configured: WsgiApp[]; unconfigured: WsgiApp[] }> {
  return splitConfigured(site, await servedApps(site, catalog));
}

export { errorLogOffset, errorLogTail } from './control.js';

/** After putting files back: a graceful when the master survived, else a fresh start. Says what it did. */
export async function bringUp(site: Site): Promise<string> {
  try {
    if ((await status(site)).running) {
      await graceful(site);
      return 'Apache reloaded the previous configuration (graceful)';
    }
    const r = await start(site);
    return `Apache started again on the previous configuration (pid ${r.pid})`;
  } catch (err) {
    return `Apache could not be brought up on the previous configuration either: ${(err as Error).message}`;
  }
}
