/**
 * After install, activate and rollback: make a running Apache serve the new version, check
 * every app, and go back automatically when the new version does not answer. mod_wsgi keeps
 * old code loaded, and a graceful drops requests under load (DESIGN.md, measured), so each
 * change restarts no more than it needs: touching an app's script restarts only that app's
 * daemon; the python libraries, imported by every app, touch every app's script (Apache's own
 * workers run no python, WSGIRestrictEmbedded); static pages nothing. A graceful is kept for
 * daemons a touch does not restart (script reloading off) and for going back from a wedged one.
 */
import { daemonPids } from '../apache/apps.js';
import { checkApps, errorLogOffset, errorLogTail, liveApps, type HealthReport } from '../apache/check.js';
import { graceful, status } from '../apache/control.js';
import { sleep } from '../apache/process.js';
import { Executor, recordOf } from '../apply/executor.js';
import { pointerPath } from '../catalog/paths.js';
import type { ProductDescriptor } from '../catalog/types.js';
import { errorText, WebtreeError } from '../core/errors.js';
import { planGoBack, recordOp } from '../plan/lifecycle.js';
import { escapeRe } from '../core/regex.js';
import { emptyPlan, type Plan } from '../plan/ops.js';
import type { Site } from '../site/types.js';
import type { HistoryEntry } from '../state/history.js';
import { readProductState } from '../state/tree.js';
import { findProduct } from '../catalog/load.js';
import { restartEveryApp } from '../apache/restart-apps.js';
import {
  executorFor,
  freshPlanContext,
  goBack,
  reportNotes,
  type After,
  type AfterHook,
  type AfterInput,
  type CommandContext,
} from './context.js';

/** touch: the product's own app; touch-all: every app's daemon; graceful: all of Apache. */
export type Refresh = 'touch' | 'touch-all' | 'graceful' | 'none';

/**
 * What a product's activation must restart to be served. Never a graceful: under load it drops
 * the requests on kept-alive connections and those the old workers pass to the daemons' old
 * sockets (bench/switch.mjs, docs/benchmarks.md), a touch drops none.
 */
export function refreshFor(d: ProductDescriptor): Refresh {
  if (d.base === 'webpylib') return 'touch-all';
  if (d.wsgi && d.installable) return 'touch';
  return 'none';
}

/** The activation a plan makes, from its pointer swap and its history entry; undefined when it makes none. */
export function activationIn(site: Site, d: ProductDescriptor, plan: Plan): HistoryEntry | undefined {
  if (!plan.ops.some((o) => o.kind === 'swap-link' && o.path === pointerPath(site, d))) return undefined;
  const rec = recordOf(plan);
  return rec?.entry.to === undefined ? undefined : rec.entry;
}

interface Served {
  ok: boolean;
  /** Why the changed product counts as not served (its app, or any app after a graceful). */
  failures: string[];
  /** Health lines of every app. */
  lines: string[];
  notes: string[];
}

/** v as a word: not inside a longer version (3.4 in 3.4.1 or v13.4) nor a path (HTTP/2.0); a full stop may end it. */
const namesVersion = (body: string, v: string) =>
  new RegExp(`(?<![A-Za-z0-9._/-])${escapeRe(v)}(?![A-Za-z0-9_/-]|\\.[A-Za-z0-9])`).test(body);

/** The answer names the old version as a word and not the new one (many apps print their version). */
export function namesOnly(body: string, oldVersion: string, newVersion: string): boolean {
  return namesVersion(body, oldVersion) && !namesVersion(body, newVersion);
}

async function serve(
  site: Site,
  catalog: ProductDescriptor[],
  d: ProductDescriptor,
  how: Refresh,
  from?: string,
  to?: string,
): Promise<Served> {
  const { configured, unconfigured } = await liveApps(site, catalog);
  const notes: string[] = [];
  const app = how === 'touch' ? configured.find((a) => a.name === d.name) : undefined;
  let pidsBefore: number[] = [];
  if (how === 'touch' && !app && unconfigured.some((a) => a.name === d.name))
    notes.push(`Apache does not serve ${d.name} yet (no conf.d/${d.name}.conf): run \`webtree render\``);
  if (app) {
    pidsBefore = await daemonPids(site, d.name);
    await new Executor({ site }).touch(app.script); // through the web link: the new version's script
  }
  if (how === 'touch-all') {
    const { report, kept, gracefulError } = await restartEveryApp(site, configured);
    if (kept.length)
      notes.push(`the daemons of ${kept.join(', ')} did not restart when their scripts were touched: graceful restart`);
    if (gracefulError !== undefined)
      return { ok: false, failures: [`graceful restart failed: ${gracefulError}`], lines: [], notes };
    // Every app imports the library: each one that does not answer counts against it.
    const failures = report.results.filter((r, i) => !r.ok && i < configured.length).map(failureOf);
    for (const r of report.results.slice(configured.length))
      if (!r.ok) notes.push(`warning: ${r.url} does not answer (${r.status ?? r.error}); not caused by this change`);
    return { ok: failures.length === 0, failures, lines: report.lines, notes };
  }
  if (how === 'graceful') {
    try {
      await graceful(site);
    } catch (err) {
      return { ok: false, failures: [`graceful restart failed: ${errorText(err)}`], lines: [], notes };
    }
  }
  const report = await checkApps(site, configured);
  // Results come in the order of the apps, then robots.txt.
  const blamed = report.results.filter(
    (r, i) => !r.ok && (how === 'graceful' || (app !== undefined && configured[i] === app)),
  );
  const failures = blamed.map(failureOf);
  const answer = app && report.results[configured.indexOf(app)];
  if (
    app &&
    answer &&
    failures.length === 0 &&
    from !== undefined &&
    to !== undefined &&
    namesOnly(answer.body ?? '', from, to)
  ) {
    // The old version's answer from the daemon that ran it: the new code was not loaded. A new
    // daemon pid means it was (mod_wsgi restarted it), whatever the page says.
    await sleep(200);
    const pids = await daemonPids(site, d.name);
    if (pids.length > 0 && pids.every((p) => pidsBefore.includes(p)))
      failures.push(
        `${answer.url} still serves ${d.name} ${from} (${pids.length === 1 ? `daemon pid ${pids[0]} was` : `daemon pids ${pids.join(', ')} were`} not restarted)`,
      );
  }
  for (const r of report.results)
    if (!r.ok && !blamed.includes(r))
      notes.push(`warning: ${r.url} does not answer (${r.status ?? r.error}); not caused by this change`);
  return { ok: failures.length === 0, failures, lines: report.lines, notes };
}

const failureOf = (r: HealthReport['results'][number]) => `${r.url} answered ${r.status ?? r.error}`;

/** runChange's `after` for install, activate and rollback. */
export async function serveActivation(
  ctx: CommandContext,
  { site, catalog }: AfterInput,
  plan: Plan,
  d: ProductDescriptor,
): Promise<void> {
  const change = activationIn(site, d, plan);
  if (!change || !(await status(site)).running) return; // stopped: `status` says so, and a start loads the new version
  const how = refreshFor(d);
  const offset = await errorLogOffset(site);
  const first = await serve(site, catalog, d, how, change.from, change.to);
  reportNotes(ctx.reporter, first.notes);
  if (first.ok) {
    const what = {
      touch: `${d.name}'s daemon restarted`,
      'touch-all': "every app's daemon restarted",
      graceful: 'graceful restart',
      none: 'nothing to restart',
    }[how];
    ctx.reporter.note(
      `apache: ${d.name} ${change.to} is served (${what}); ${first.lines.filter((l) => l.startsWith('ok')).length} of ${first.lines.length} URLs answer`,
    );
    return;
  }
  const bad = change.to!;
  const tail = await errorLogTail(site, offset);
  const why = `${d.name} ${bad} is bad: ${first.failures[0]}`;
  if (change.from === undefined) {
    const executor = await executorFor(ctx, site);
    const pctx = await freshPlanContext(ctx, site);
    const record = recordOp(pctx, {
      action: 'health-check',
      product: d.name,
      version: bad,
      outcome: 'failed',
      message: `${why}; no earlier version to go back to`,
    });
    await executor.apply({ ...emptyPlan(`health-check ${d.name}`, why), ops: [record] }, pctx.id);
    throw new WebtreeError(
      'EHEALTH',
      `${d.name} ${bad} does not answer, and there is no earlier version to go back to`,
      {
        details: [...first.failures, ...first.lines.map((l) => `  ${l}`), tail].join('\n'),
        hint: `fix what the error log names and install a corrected version of ${d.name}`,
      },
    );
  }
  // The same activation back, recorded rolled-back; its restart is redone by the next command if this one dies.
  const restore: RestoreData = { product: d.name, how, bad, good: change.from };
  const from = change.from;
  const again = await goBack(
    ctx,
    site,
    async (p) => planGoBack(site, d, await readProductState(site, d), from, p, !change.undo, why),
    { kind: 'serve-restore', data: restore },
    () => reserve(site, catalog, d, restore),
  );
  throw new WebtreeError(
    'EHEALTH',
    `${d.name} ${bad} does not answer (${first.failures[0]}); rolled back to ${change.from} and marked ${bad} bad in the history`,
    {
      details: [
        ...first.lines.map((l) => `  ${l}`),
        tail,
        `after going back to ${change.from}:`,
        ...(again.lines.length ? again.lines : again.failures).map((l) => `  ${l}`),
      ].join('\n'),
      hint: `the error log names the cause; fix it in a new version of ${d.name} (webtree history ${d.name} shows the entry)`,
    },
  );
}

interface RestoreData {
  product: string;
  how: Refresh;
  bad: string;
  good: string;
}

/** Serve the good version again after going back. */
async function reserve(
  site: Site,
  catalog: ProductDescriptor[],
  d: ProductDescriptor,
  r: RestoreData,
): Promise<Served> {
  const again = await serve(site, catalog, d, r.how, r.bad, r.good);
  // A daemon wedged by the bad version (a hung import) can outlive a touch of the script, and even
  // cache the bad module under the same path: restart every daemon so the good version is served.
  return !again.ok && (r.how === 'touch' || r.how === 'touch-all')
    ? serve(site, catalog, d, 'graceful', r.bad, r.good)
    : again;
}

/** The `after` of install, activate and rollback; the next command runs it again if this process dies during it. */
export const serveAfter = (ctx: CommandContext, d: ProductDescriptor): After => ({
  kind: 'serve-activation',
  data: () => ({ product: d.name }),
  run: (input, plan) => serveActivation(ctx, input, plan, d),
});

/** An install, activate or rollback killed before its apps were checked: the next command checks them. */
export const resumeServeActivation: AfterHook = (ctx, input, plan, data: { product: string }) =>
  serveActivation(ctx, input, plan, findProduct(input.catalog, data.product));

/** An auto-rollback whose process died before the good version was served again. */
export const resumeServeRestore: AfterHook = async (ctx, { site, catalog }, _plan, data: RestoreData) => {
  const again = await reserve(site, catalog, findProduct(catalog, data.product), data);
  ctx.reporter.warn(
    [
      `after going back to ${data.product} ${data.good}:`,
      ...(again.lines.length ? again.lines : again.failures).map((l) => `  ${l}`),
    ].join('\n'),
  );
};
