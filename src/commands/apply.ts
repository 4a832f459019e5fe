/**
 * apply FILE: make the site match a release file, as one change (DESIGN.md, "The release file").
 * Archives are fetched and checked against their sha256 before the lock is taken (a download
 * may take minutes; the tree is not held meanwhile); then, under the lock, one plan installs
 * every missing version and switches every product that differs, and one restart and health
 * check follows, going back for every product together when it fails.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from '../archive/manifest.js';
import { readJournal } from '../apply/journal.js';
import type { ProductDescriptor } from '../catalog/types.js';
import { errorText, isErrno, WebtreeError } from '../core/errors.js';
import { cachedArchive } from '../fetch/cache.js';
import { firstServedApps } from '../apache/first-served.js';
import { checkLicences, licenceMismatches } from '../release/licence.js';
import { renderAndServe } from './render.js';
import { apacheLayout, appConfFile } from '../plan/apache-layout.js';
import { fetchArchive } from '../fetch/fetch.js';
import { planApply, releaseActions, type ProductAction, type Wanted } from '../plan/apply.js';
import type { ReleaseEntry } from '../release/file.js';
import { loadRelease } from '../release/load.js';
import { shownSource } from '../release/source.js';
import type { Site } from '../site/types.js';
import { readTree } from '../state/tree.js';
import { applyAfter } from '../after/apply-serve.js';
import { runChange } from './tx.js';
import type { CommandCode, CommandContext } from './types.js';

const wantedOf = (e: ReleaseEntry): Wanted => ({
  product: e.product,
  version: e.version,
  sha256: e.sha256,
  license: e.license,
  source: shownSource(e.archive),
});

/** One line per product: what would change (--check) or what changed. */
const line = (a: ProductAction, done: boolean) =>
  a.action === 'none'
    ? `  ${a.name} ${a.to}: as the release says`
    : done
      ? `  ${a.name}: ${a.from ?? '(none)'} -> ${a.to} (${a.action === 'install' ? 'installed and activated' : 'activated'})`
      : a.action === 'install'
        ? `  ${a.name}: install ${a.to} and activate it${a.from ? ` (now ${a.from})` : ''}`
        : `  ${a.name}: activate ${a.to} (installed; now ${a.from ?? 'none'})`;

/** The result, in the shape issue 13's Ansible modules read (docs/json.md): exactly these keys. */
function report(ctx: CommandContext, changed: boolean, actions: ProductAction[], head: string, done = false): void {
  ctx.reporter.result(
    { changed, products: actions.map(({ name, from, to, action }) => ({ name, from, to, action })) },
    () => [head, ...actions.map((a) => line(a, done))].join('\n'),
  );
}

/** The local file of one archive to install, its sha256 checked before anything is unpacked. */
export async function localArchive(
  ctx: CommandContext,
  site: Site,
  e: { archive: ReleaseEntry['archive']; sha256: string },
): Promise<string> {
  if (e.archive.kind === 'url') {
    const r = await fetchArchive(
      { url: e.archive.url, name: e.archive.name, sha256: e.sha256 },
      {
        site,
        env: ctx.env,
        signal: ctx.signal,
        progress: (l) => ctx.reporter.progress(l),
        onRetry: (l) => ctx.reporter.warn(l),
      },
    );
    if (r.fetched) ctx.reporter.note(`fetched ${e.archive.name} (${r.bytes} bytes, sha256 ${e.sha256.slice(0, 12)}…)`);
    return r.file;
  }
  let got: string;
  try {
    got = await sha256File(e.archive.path);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'EISDIR'))
      throw new WebtreeError('EBADARCHIVE', `archive ${e.archive.path} does not exist`, {
        hint: 'give an existing file in the release file; nothing was changed',
      });
    throw err;
  }
  if (got !== e.sha256) {
    throw new WebtreeError(
      'EBADARCHIVE',
      `archive ${e.archive.path} does not have the pinned sha256: expected ${e.sha256}, got ${got}`,
      {
        hint: 'the file is not the one the release pins: check which is right; nothing was changed',
      },
    );
  }
  return e.archive.path;
}

async function pendingWarning(ctx: CommandContext, site: Site): Promise<void> {
  if (await readJournal(site.paths.state).catch(() => undefined))
    ctx.reporter.warn(
      'an interrupted change is pending; the next changing command finishes or undoes it, so the answer may change',
    );
}

/**
 * The WSGI apps this release serves for the first time get their conf.d entries BEFORE anything
 * is switched (render: its own lock, httpd -t, a graceful when Apache runs): the one restart and
 * health check after the switch then covers them, and a configuration Apache refuses stops the
 * apply with the site as it was.
 */
async function renderFirst(
  ctx: CommandContext,
  site: Site,
  catalog: ProductDescriptor[],
  actions: ProductAction[],
  archives: Record<string, string>,
): Promise<string> {
  const apps = await firstServedApps(site, catalog, actions, archives);
  if (apps.length === 0) return '';
  const names = apps.map((a) => a.name).join(', ');
  ctx.reporter.note(
    `${names} ${apps.length > 1 ? 'are' : 'is'} served for the first time: rendering the Apache tree first`,
  );
  const quiet = { ...ctx.reporter, result: () => undefined };
  try {
    await renderAndServe({ ...ctx, options: {}, positionals: [], reporter: quiet }, undefined, false, apps);
  } catch (err) {
    if (!(err instanceof WebtreeError)) throw err;
    throw new WebtreeError(
      err.code,
      `rendering the Apache tree for ${names} failed, so nothing of the release was applied: ${err.message}`,
      { details: err.details, hint: err.hint },
    );
  }
  return names;
}

/**
 * After an apply that failed, was refused, rolled back or interrupted once renderFirst had run:
 * render the Apache tree again to what is live, so that the new apps' conf.d files (whose mounts
 * answer 404 while their product is not live) go again and the tree is as before the apply. An
 * apply interrupted after its commit finished the change: its apps are live and their files stay.
 * The render runs to its end even after a signal (a second or two: httpd -t, a graceful), and a
 * failure of it is said, not put in place of the apply's own error.
 */
async function renderBack(ctx: CommandContext, names: string): Promise<void> {
  const quiet = { ...ctx.reporter, result: () => undefined };
  try {
    await renderAndServe(
      { ...ctx, options: {}, positionals: [], reporter: quiet, signal: undefined },
      undefined,
      false,
    );
    ctx.reporter.note(`the Apache tree was rendered again to what is live (it had been rendered first for ${names})`);
  } catch (err) {
    ctx.reporter.warn(
      `the Apache tree was rendered first for ${names} and could not be rendered back after the failed apply: ${errorText(err)}; run \`webtree render\``,
    );
  }
}

/** Products the release serves for the first time (no conf.d entry yet): --dry-run names them. */
async function unconfigured(site: Site, catalog: ProductDescriptor[], actions: ProductAction[]): Promise<string[]> {
  const out: string[] = [];
  for (const a of actions) {
    const d = catalog.find((p) => p.name === a.name)!;
    if (a.action === 'none' || !d.wsgi) continue;
    if (
      !(await fs.access(appConfFile(apacheLayout(site), d.name)).then(
        () => true,
        () => false,
      ))
    )
      out.push(d.name);
  }
  return out;
}

/**
 * --dry-run's document (docs/commands/apply.md): --json's answer, what would be fetched and
 * rendered first, then the plan as every changing command prints it. Every key always there.
 */
function dryRunReporter(
  ctx: CommandContext,
  actions: () => ProductAction[],
  archives: DryArchive[],
  render: string[],
): CommandContext {
  const result = (v: unknown, text: () => string) => {
    const plan = v as { command: string; summary: string; operations: unknown[]; notes: string[] };
    const acts = actions();
    ctx.reporter.result(
      {
        dryRun: true,
        changed: acts.some((a) => a.action !== 'none'),
        products: acts.map(({ name, from, to, action }) => ({ name, from, to, action })),
        archives,
        render,
        command: plan.command,
        summary: plan.summary,
        operations: plan.operations,
        notes: plan.notes,
      },
      () =>
        [
          ...archives.map(
            (a) =>
              `${a.download ? 'would fetch' : 'would use'} ${a.source} for ${a.name} (sha256 ${a.sha256.slice(0, 12)}…)`,
          ),
          ...(render.length
            ? [`would render the Apache tree first for ${render.join(', ')} (served for the first time)`]
            : []),
          text(),
        ].join('\n'),
    );
  };
  return { ...ctx, reporter: { ...ctx.reporter, result } };
}

interface DryArchive {
  name: string;
  source: string;
  sha256: string;
  /** A URL not in the cache yet: apply would download it. */
  download: boolean;
}

export const applyCommand: CommandCode = {
  async run(ctx) {
    const file = path.resolve(ctx.positionals[0]);
    const catalog: ProductDescriptor[] = await ctx.catalog();
    const entries = await loadRelease(file, catalog);
    const site = await ctx.site();
    await checkLicences(file, entries);
    const wanted = entries.map(wantedOf);
    const name = path.basename(file);
    if (ctx.options.check) {
      if (ctx.dryRun)
        throw new WebtreeError('EUSAGE', '--check changes nothing already; give --check or --dry-run, not both');
      await pendingWarning(ctx, site);
      const actions = releaseActions(site, catalog, await readTree(site, catalog), wanted);
      for (const w of await licenceMismatches(site, catalog, entries, actions)) ctx.reporter.warn(w);
      const pending = actions.some((a) => a.action !== 'none');
      report(ctx, pending, actions, pending ? `the site differs from ${name}:` : `the site matches ${name}`);
      return pending ? 3 : 0;
    }
    // What is missing now; fetched (or hashed) before the lock. Re-planned under the lock.
    const before = releaseActions(site, catalog, await readTree(site, catalog), wanted);
    const archives: Record<string, string> = {};
    const dry: DryArchive[] = [];
    for (const a of before.filter((x) => x.action === 'install')) {
      const e = entries.find((x) => x.product === a.name)!;
      if (ctx.dryRun) {
        archives[a.name] = e.archive.kind === 'url' ? e.archive.url : e.archive.path;
        const download = e.archive.kind === 'url' && !(await cachedArchive(site, e.sha256, e.archive.name));
        dry.push({ name: a.name, source: shownSource(e.archive), sha256: e.sha256, download });
      } else {
        archives[a.name] = await localArchive(ctx, site, e);
      }
    }
    let actions = before;
    let live: string | undefined;
    for (const w of await licenceMismatches(site, catalog, entries, before)) ctx.reporter.warn(w);
    const rendered = ctx.dryRun ? '' : await renderFirst(ctx, site, catalog, before, archives);
    const runCtx = ctx.dryRun
      ? dryRunReporter(ctx, () => actions, dry, await unconfigured(site, catalog, before))
      : ctx;
    const plan = await runChange(
      runCtx,
      `apply ${name}`,
      ({ site, catalog, tree, pctx }) => {
        const r = planApply(site, catalog, tree, wanted, archives, pctx, name);
        actions = r.actions;
        return r.plan;
      },
      applyAfter(
        ctx,
        () => ({
          release: name,
          changes: actions.filter((a) => a.action !== 'none').map((a) => ({ product: a.name, from: a.from, to: a.to })),
          ...(rendered ? { graceful: true } : {}),
        }),
        (s) => {
          live = s;
        },
      ),
    ).catch(async (err: unknown) => {
      if (rendered) await renderBack(ctx, rendered);
      throw err;
    });
    if (ctx.dryRun) return 0;
    const changed = plan.ops.length > 0;
    if (live) ctx.reporter.note(live);
    report(ctx, changed, actions, changed ? `applied ${name}:` : `the site matches ${name}; nothing to do`, true);
    return 0;
  },
};
