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

const wantedOf = (e: ReleaseEntry): Wanted => ({ product: e.product, version: e.version, sha256: e.sha256, license: e.license, source: shownSource(e.archive) });

/** One line per product: what would change (--check) or what changed. */
const line = (a: ProductAction, done: boolean) =>
  a.action === 'none' ? `  ${a.name} ${a.to}: as the release says`
    : done ? `  ${a.name}: ${a.from ?? '(none)'} -> ${a.to} (${a.action === 'install' ? 'installed and activated' : 'activated'})`
      : a.action === 'install' ? `  ${a.name}: install ${a.to} and activate it${a.from ? ` (now ${a.from})` : ''}`
        : `  ${a.name}: activate ${a.to} (installed; now ${a.from ?? 'none'})`;

/** The result, in the shape issue 13's Ansible modules read (docs/json.md): exactly these keys. */
function report(ctx: CommandContext, changed: boolean, actions: ProductAction[], head: string, done = false): void {
  ctx.reporter.result({ changed, products: actions.map(({ name, from, to, action }) => ({ name, from, to, action })) }, () => [head, ...actions.map((a) => line(a, done))].join('\n'));
}

/** The local file of one archive to install, its sha256 checked before anything is unpacked. */
export async function localArchive(ctx: CommandContext, site: Site, e: { archive: ReleaseEntry['archive']; sha256: string }): Promise<string> {
  if (e.archive.kind === 'url') {
    const r = await fetchArchive({ url: e.archive.url, name: e.archive.name, sha256: e.sha256 }, {
      site, env: ctx.env, signal: ctx.signal, progress: (l) => ctx.reporter.progress(l), onRetry: (l) => ctx.reporter.warn(l),
    });
    if (r.fetched) ctx.reporter.note(`fetched ${e.archive.name} (${r.bytes} bytes, sha256 ${e.sha256.slice(0, 12)}…)`);
    return r.file;
  }
  let got: string;
  try {
    got = await sha256File(e.archive.path);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'EISDIR')) throw new WebtreeError('EBADARCHIVE', `archive ${e.archive.path} does not exist`, { hint: 'give an existing file in the release file; nothing was changed' });
    throw err;
  }
  if (got !== e.sha256) {
    throw new WebtreeError('EBADARCHIVE', `archive ${e.archive.path} does not have the pinned sha256: expected ${e.sha256}, got ${got}`, {
      hint: 'the file is not the one the release pins: check which is right; nothing was changed',
    });
  }
  return e.archive.path;
}

async function pendingWarning(ctx: CommandContext, site: Site): Promise<void> {
  if (await readJournal(site.paths.state).catch(() => undefined)) ctx.reporter.warn('an interrupted change is pending; the next changing command finishes or undoes it, so the answer may change');
}

/**
 * A WSGI product served for the first time has no conf.d entry yet: render the Apache tree (its
 * own lock, httpd -t, graceful and check when Apache runs), as `webtree render` would. A render
 * that fails leaves the release installed and says what to run.
 */
async function renderNewApps(ctx: CommandContext, site: Site, catalog: ProductDescriptor[], actions: ProductAction[]): Promise<void> {
  const fresh: string[] = [];
  for (const a of actions) {
    const d = catalog.find((p) => p.name === a.name)!;
    if (a.action === 'none' || !d.wsgi) continue;
    if (!(await fs.access(appConfFile(apacheLayout(site), d.name)).then(() => true, () => false))) fresh.push(d.name);
  }
  if (fresh.length === 0) return;
  ctx.reporter.note(`${fresh.join(', ')} ${fresh.length > 1 ? 'are' : 'is'} served for the first time: rendering the Apache tree`);
  const { renderCommand } = await import('./render.js');
  const quiet = { ...ctx.reporter, result: () => undefined };
  try {
    await renderCommand.run({ ...ctx, options: {}, positionals: [], reporter: quiet });
  } catch (err) {
    ctx.reporter.warn(`the release is in place, but rendering the Apache tree failed: ${errorText(err)}; run \`webtree render\``);
  }
}

export const applyCommand: CommandCode = {
  async run(ctx) {
    const file = path.resolve(ctx.positionals[0]);
    const catalog: ProductDescriptor[] = await ctx.catalog();
    const entries = await loadRelease(file, catalog);
    const site = await ctx.site();
    const wanted = entries.map(wantedOf);
    const name = path.basename(file);
    if (ctx.options.check) {
      if (ctx.dryRun) throw new WebtreeError('EUSAGE', '--check changes nothing already; give --check or --dry-run, not both');
      await pendingWarning(ctx, site);
      const actions = releaseActions(site, catalog, await readTree(site, catalog), wanted);
      const pending = actions.some((a) => a.action !== 'none');
      report(ctx, pending, actions, pending ? `the site differs from ${name}:` : `the site matches ${name}`);
      return pending ? 3 : 0;
    }
    // What is missing now; fetched (or hashed) before the lock. Re-planned under the lock.
    const before = releaseActions(site, catalog, await readTree(site, catalog), wanted);
    const archives: Record<string, string> = {};
    for (const a of before.filter((x) => x.action === 'install')) {
      const e = entries.find((x) => x.product === a.name)!;
      archives[a.name] = ctx.dryRun ? (e.archive.kind === 'url' ? e.archive.url : e.archive.path) : await localArchive(ctx, site, e);
    }
    let actions = before;
    let live: string | undefined;
    const plan = await runChange(ctx, `apply ${name}`, ({ site, catalog, tree, pctx }) => {
      const r = planApply(site, catalog, tree, wanted, archives, pctx, name);
      actions = r.actions;
      return r.plan;
    }, applyAfter(ctx, () => ({ release: name, changes: actions.filter((a) => a.action !== 'none').map((a) => ({ product: a.name, from: a.from, to: a.to })) }), (s) => { live = s; }));
    if (ctx.dryRun) return 0;
    const changed = plan.ops.length > 0;
    if (live) ctx.reporter.note(live);
    if (changed) await renderNewApps(ctx, site, catalog, actions);
    report(ctx, changed, actions, changed ? `applied ${name}:` : `the site matches ${name}; nothing to do`, true);
    return 0;
  },
};

