/**
 * render's check once the new files are live: reload a running Apache, check every app, and put
 * the previous files back when an app does not answer. The next command runs it again (from the
 * journal) when render died before it finished.
 */
import { bringUp, checkApps, errorLogOffset, errorLogTail, liveApps } from '../apache/check.js';
import { graceful, status } from '../apache/control.js';
import type { ProductDescriptor } from '../catalog/types.js';
import { errorText, WebtreeError } from '../core/errors.js';
import { planRevert, type FileChange } from '../plan/render.js';
import type { Site } from '../site/types.js';
import { goBack, type AfterHook, type CommandContext } from './context.js';

/**
 * The files are written: reload a running Apache and check every app. On failure the previous
 * files go back through the executor, Apache comes up on them, and the error says what failed.
 */
export async function goLive(
  ctx: CommandContext,
  site: Site,
  catalog: ProductDescriptor[],
  changes: FileChange[],
  recordedBefore: Record<string, string> | null,
): Promise<string> {
  const before = await status(site);
  if (!before.running) return 'Apache is not running: `webtree apache start` serves the new configuration';
  const offset = await errorLogOffset(site);
  let failure: string | undefined;
  let lines: string[] = [];
  try {
    await graceful(site);
    const report = await checkApps(site, (await liveApps(site, catalog)).configured);
    lines = report.lines;
    if (!report.ok)
      failure = `${report.results
        .filter((r) => !r.ok)
        .map((r) => r.url)
        .join(', ')} did not answer`;
  } catch (err) {
    failure = errorText(err);
  }
  if (failure === undefined)
    return `Apache reloaded the new configuration (graceful, pid ${before.pid}); every app answers:\n${lines.map((l) => `  ${l}`).join('\n')}`;
  const tail = await errorLogTail(site, offset);
  // The revert is finished, never undone, if this process dies; the next command then brings Apache up on it.
  const { up, again } = await goBack(
    ctx,
    site,
    (pctx) =>
      planRevert(
        site,
        changes,
        recordedBefore,
        `the new configuration failed after a graceful restart: ${failure.split('\n')[0]}`,
        pctx,
      ),
    { kind: 'render-restore', data: null },
    async () => ({ up: await bringUp(site), again: await checkApps(site, (await liveApps(site, catalog)).configured) }),
  );
  throw new WebtreeError(
    'EAPACHE',
    `the new configuration failed after a graceful restart (${failure.split('\n')[0]}); the previous files are back`,
    {
      details: [...lines.map((l) => `  ${l}`), tail, up, ...again.lines.map((l) => `  ${l}`)].join('\n'),
      hint: 'fix what the error log names (in the templates or the site file), check with `webtree render --diff`, then render again',
    },
  );
}

/** A render killed after its files were written: reload and check again, or put the old files back. */
export const resumeRender: AfterHook = async (
  ctx,
  { site, catalog },
  _plan,
  data: { changes: FileChange[]; recordedBefore: Record<string, string> | null; confChanged: boolean },
) => {
  if (data.confChanged) ctx.reporter.warn(await goLive(ctx, site, catalog, data.changes, data.recordedBefore));
};

/** A revert whose process died before Apache was brought up on the previous files. */
export const resumeRenderRestore: AfterHook = async (ctx, { site }) => {
  ctx.reporter.warn(await bringUp(site));
};
