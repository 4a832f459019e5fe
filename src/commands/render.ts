/**
 * render: generate the Apache tree from the templates and the site file. A new configuration
 * goes live only after the real httpd accepts the whole staged tree; once written, a running
 * Apache is reloaded and every app checked, and a failure puts the previous files back and
 * brings Apache up on them. Files edited by hand are never overwritten silently.
 */
import path from 'node:path';
import { goLive } from '../after/render.js';
import { readRenderInputs, testStaged } from '../apache/render-io.js';
import type { WsgiApp } from '../apache/render.js';
import { ownerForThisProcess } from '../apply/owner.js';
import { usageError, WebtreeError } from '../core/errors.js';
import { planRender, type FileChange, type RenderPlan } from '../plan/render.js';
import type { Site } from '../site/types.js';
import { preflight } from '../apply/preflight.js';
import { planContext, runChange } from './tx.js';
import { reportPending } from './read-recovery.js';
import type { CommandCode, CommandContext } from './types.js';

const rel = (site: Site, p: string) => path.relative(site.paths.www, p) || p;

function changeText(site: Site, c: FileChange): string {
  const head = `${c.kind} ${rel(site, c.path)}${c.handEdited ? '  (edited by hand since webtree wrote it)' : ''}`;
  return c.kind === 'mode' ? `${head}: mode becomes ${c.mode.toString(8)}` : `${head}\n${c.diff}`.trimEnd();
}

function handEditedError(site: Site, conflicts: FileChange[]): WebtreeError {
  return new WebtreeError(
    'ERENDER',
    `${conflicts.length} generated file(s) were edited by hand since webtree wrote them: ${conflicts.map((c) => rel(site, c.path)).join(', ')}`,
    {
      details: conflicts.map((c) => changeText(site, c)).join('\n'),
      hint: 'carry the change into the templates (render --templates DIR) or the site file; or `webtree render --force` writes the new files and keeps each hand-edited one beside it as FILE.hand-edited-<time>',
    },
  );
}

/** render --diff: what would change, exit 3 when anything would (0 when nothing). Reads only. */
async function showDiff(ctx: CommandContext, templatesDir?: string): Promise<number> {
  const site = await ctx.site();
  await reportPending(ctx, site); // reads change nothing: the diff is against the files as they are
  const read = await readRenderInputs(site, await ctx.catalog(), templatesDir, true);
  // A damaged record: the diff is still shown, compared as if render never ran, and the fix named.
  if (read.damage) ctx.reporter.warn(`${read.damage.message} (compared without it: ${read.damage.hint})`);
  const pctx = planContext(ctx, []); // --diff applies nothing: the history plays no part
  const rp = planRender(site, { ...read, force: false }, pctx);
  ctx.reporter.result(
    {
      pending: rp.changes.length > 0,
      changes: rp.changes.map(({ path: p, kind, handEdited, diff }) => ({ path: p, kind, handEdited, diff })),
    },
    () => (rp.changes.length ? rp.changes.map((c) => changeText(site, c)).join('\n') : rp.plan.summary),
  );
  return rp.changes.length ? 3 : 0;
}

export const renderCommand: CommandCode = {
  async run(ctx) {
    const templatesDir =
      ctx.options.templates === undefined ? undefined : path.resolve(ctx.options.templates as string);
    if (ctx.options.diff) {
      if (ctx.options.force) throw usageError('--diff changes nothing; it does not take --force');
      return showDiff(ctx, templatesDir);
    }
    return renderAndServe(ctx, templatesDir, ctx.options.force === true);
  },
};

/**
 * render itself: `also` adds apps whose web links do not resolve yet (apply renders the apps a
 * release serves for the first time before it switches them in).
 */
export async function renderAndServe(
  ctx: CommandContext,
  templatesDir: string | undefined,
  force: boolean,
  also: WsgiApp[] = [],
): Promise<number> {
  let rp: RenderPlan | undefined;
  let recordedBefore: Record<string, string> | null = null;
  let live = '';
  const plan = await runChange(
    ctx,
    'render',
    async ({ site, catalog, pctx }) => {
      const read = await readRenderInputs(site, catalog, templatesDir, false, also);
      rp = planRender(site, { ...read, force }, pctx);
      recordedBefore = read.recorded;
      if (rp.conflicts.length && !force) throw handEditedError(site, rp.conflicts);
      if (rp.confChanged && !ctx.dryRun) {
        // Before staging and httpd -t: a conf.d this account may not write is said at once.
        await preflight(rp.plan, site);
        const removed = rp.changes.filter((c) => c.kind === 'remove').map((c) => c.path);
        await testStaged(site, read.files, removed, await ownerForThisProcess(site.apache.user, site.apache.group));
      }
      return rp.plan;
    },
    {
      kind: 'render',
      data: () => ({ changes: rp!.changes, recordedBefore, confChanged: rp!.confChanged }),
      run: async ({ site, catalog }) => {
        if (rp && rp.confChanged) live = await goLive(ctx, site, catalog, rp.changes, recordedBefore);
      },
    },
  );
  if (ctx.dryRun || !rp) return 0;
  const site = await ctx.site();
  const done = rp.changes;
  ctx.reporter.result(
    {
      changed: done.length > 0,
      summary: plan.summary,
      files: done.map((c) => ({ path: c.path, kind: c.kind, handEdited: c.handEdited })),
      apache: live || null,
    },
    () =>
      [done.length ? `rendered: ${done.map((c) => `${c.kind} ${rel(site, c.path)}`).join(', ')}` : plan.summary, live]
        .filter(Boolean)
        .join('\n'),
  );
  return 0;
}
