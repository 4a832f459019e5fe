/**
 * After `apply`: ONE restart and health check for every product of the release, and on failure
 * every product back together (DESIGN.md: a release is one change). What is restarted follows
 * serve-activation's rule per product: an app's own daemon (touch its script), every daemon for
 * a python library, nothing for static pages; never a graceful unless a touch restarts nothing.
 */
import { daemonPids, daemonsNotRestarted } from '../apache/apps.js';
import { checkApps, errorLogOffset, errorLogTail, liveApps, type HealthReport } from '../apache/check.js';
import { graceful, status } from '../apache/control.js';
import { restartEveryApp } from '../apache/restart-apps.js';
import type { WsgiApp } from '../apache/render.js';
import { Executor } from '../apply/executor.js';
import { findProduct } from '../catalog/load.js';
import type { ProductDescriptor } from '../catalog/types.js';
import { errorText, WebtreeError } from '../core/errors.js';
import { planApplyBack, type Change } from '../plan/apply.js';
import type { Site } from '../site/types.js';
import { goBack, reportNotes, type After, type AfterHook, type CommandContext } from './context.js';
import { refreshFor } from './serve-activation.js';

interface Served {
  ok: boolean;
  failures: string[];
  lines: string[];
  notes: string[];
}

const failureOf = (r: HealthReport['results'][number]) => `${r.url} answered ${r.status ?? r.error}`;

/** Restart what the changed products need, then check every app once. */
async function serveAll(
  site: Site,
  catalog: ProductDescriptor[],
  products: string[],
  forceGraceful = false,
): Promise<Served> {
  const ds = products.map((p) => findProduct(catalog, p));
  const { configured, unconfigured } = await liveApps(site, catalog);
  const notes: string[] = [];
  for (const d of ds)
    if (d.wsgi && unconfigured.some((a) => a.name === d.name))
      notes.push(`Apache does not serve ${d.name} yet (no conf.d/${d.name}.conf): run \`webtree render\``);
  const everyApp = ds.some((d) => refreshFor(d) === 'touch-all');
  // The apps the change is blamed for: all of them after a library or a graceful, else the changed ones.
  const own = (a: WsgiApp) =>
    everyApp || forceGraceful || ds.some((d) => d.name === a.name && refreshFor(d) === 'touch');
  let report: HealthReport;
  if (forceGraceful) {
    try {
      await graceful(site);
    } catch (err) {
      return { ok: false, failures: [`graceful restart failed: ${errorText(err)}`], lines: [], notes };
    }
    report = await checkApps(site, configured);
  } else if (everyApp) {
    const r = await restartEveryApp(site, configured);
    if (r.kept.length)
      notes.push(
        `the daemons of ${r.kept.join(', ')} did not restart when their scripts were touched: graceful restart`,
      );
    if (r.gracefulError !== undefined)
      return { ok: false, failures: [`graceful restart failed: ${r.gracefulError}`], lines: [], notes };
    report = r.report;
  } else {
    const touched = configured.filter(own);
    const before = new Map<string, number[]>();
    for (const a of touched) before.set(a.name, await daemonPids(site, a.name));
    for (const a of touched) await new Executor({ site }).touch(a.script);
    report = await checkApps(site, configured);
    const kept = await daemonsNotRestarted(site, before);
    if (kept.length) {
      notes.push(`the daemons of ${kept.join(', ')} did not restart when their scripts were touched: graceful restart`);
      return serveAll(site, catalog, products, true);
    }
  }
  const failures: string[] = [];
  report.results.forEach((r, i) => {
    if (r.ok) return;
    if (i < configured.length && own(configured[i])) failures.push(failureOf(r));
    else notes.push(`warning: ${r.url} does not answer (${r.status ?? r.error}); not caused by this change`);
  });
  return { ok: failures.length === 0, failures, lines: report.lines, notes };
}

export interface ApplyAfterData {
  release: string;
  changes: Change[];
  /**
   * Apps the apply rendered first (served for the first time) while Apache ran: their daemons
   * were configured before their web links existed and could not start (mod_wsgi cannot enter
   * their home= directory, then waits before it tries again), so touching a script restarts
   * nothing and a request waits; a graceful starts them now that the links resolve.
   */
  graceful?: boolean;
}

/** runChange's `after` for apply: serve the release, or put every product back. */
export async function serveRelease(
  ctx: CommandContext,
  site: Site,
  catalog: ProductDescriptor[],
  data: ApplyAfterData,
): Promise<string | undefined> {
  if (data.changes.length === 0 || !(await status(site)).running) return undefined;
  const offset = await errorLogOffset(site);
  const products = data.changes.map((c) => c.product);
  const first = await serveAll(site, catalog, products, data.graceful === true);
  reportNotes(ctx.reporter, first.notes);
  if (first.ok)
    return `apache: ${products.join(', ')} served; ${first.lines.filter((l) => l.startsWith('ok')).length} of ${first.lines.length} URLs answer`;
  const tail = await errorLogTail(site, offset);
  const why = `the release ${data.release} failed its health check: ${first.failures[0]}`;
  const again = await goBack(
    ctx,
    site,
    (pctx) => planApplyBack(site, catalog, data.changes, pctx, why),
    { kind: 'apply-restore', data },
    () => reserve(site, catalog, products),
  );
  const back = data.changes.map((c) => `${c.product} ${c.from ?? '(none)'}`).join(', ');
  throw new WebtreeError(
    'EHEALTH',
    `the release does not answer (${first.failures[0]}); every product went back: ${back}`,
    {
      details: [
        ...first.failures.slice(1),
        ...first.lines.map((l) => `  ${l}`),
        tail,
        'after going back:',
        ...(again.lines.length ? again.lines : again.failures).map((l) => `  ${l}`),
      ]
        .filter(Boolean)
        .join('\n'),
      hint: 'the error log names the cause; fix it in new versions and a new release file (webtree history shows the entries)',
    },
  );
}

/** Serve the old versions again; a daemon wedged by the bad code may need a graceful. */
async function reserve(site: Site, catalog: ProductDescriptor[], products: string[]): Promise<Served> {
  const again = await serveAll(site, catalog, products);
  return again.ok ? again : serveAll(site, catalog, products, true);
}

export const applyAfter = (
  ctx: CommandContext,
  data: () => ApplyAfterData,
  said: (s: string | undefined) => void,
): After => ({
  kind: 'apply-serve',
  data,
  run: async ({ site, catalog }) => said(await serveRelease(ctx, site, catalog, data())),
});

/** An apply killed before its release was served and checked: the next command does it. */
export const resumeApplyServe: AfterHook = async (ctx, { site, catalog }, _plan, data: ApplyAfterData) => {
  const said = await serveRelease(ctx, site, catalog, data);
  if (said) ctx.reporter.warn(said);
};

/** A going back whose process died before the old versions were served again. */
export const resumeApplyRestore: AfterHook = async (ctx, { site, catalog }, _plan, data: ApplyAfterData) => {
  const again = await reserve(
    site,
    catalog,
    data.changes.map((c) => c.product),
  );
  ctx.reporter.warn(
    [
      'after going back from the release:',
      ...(again.lines.length ? again.lines : again.failures).map((l) => `  ${l}`),
    ].join('\n'),
  );
};
