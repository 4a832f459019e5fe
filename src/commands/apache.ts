/**
 * apache start|stop|restart|graceful|status|configtest: Apache for this web tree, run as the
 * service account (root goes through runuser; anyone else is refused by control.ts). The verbs
 * that change what runs take webtree's lock, so that they cannot cut into a render's or an
 * activation's health check.
 */
import { checkApps, errorLogOffset, errorLogTail, liveApps } from '../apache/check.js';
import type { HealthResult } from '../apache/health.js';
import { configtest, graceful, restart, start, status, stop, asAccount } from '../apache/control.js';
import { apacheLayout } from '../plan/apache-layout.js';
import { reportPending } from './read-recovery.js';
import { lockAndRecover } from './tx.js';
import { usageError, WebtreeError } from '../core/errors.js';
import type { Site } from '../site/types.js';
import { APACHE_VERBS as VERBS, type ApacheVerb as Verb } from './words.js';
import type { CommandCode, CommandContext } from './types.js';
import type { LogMark } from '../apache/error-log.js';

/** The apps' answers as --json gives them. */
const appsJson = (results: HealthResult[]) => results.map(({ url, ok, status: s }) => ({ url, ok, status: s ?? null }));

/** Every app after a start, restart or graceful: the server runs on when one fails, but the exit says so. */
async function healthAfter(
  ctx: CommandContext,
  site: Site,
  verb: Verb,
  pid: number,
  offset: LogMark,
  head: string,
): Promise<number> {
  const { configured, unconfigured } = await liveApps(site, await ctx.catalog());
  const report = await checkApps(site, configured);
  for (const a of unconfigured)
    ctx.reporter.warn(`${a.name} is installed but not in the configuration: run \`webtree render\``);
  if (!report.ok) {
    throw new WebtreeError(
      'EHEALTH',
      `${head}, but ${report.results
        .filter((r) => !r.ok)
        .map((r) => r.url)
        .join(', ')} did not answer`,
      {
        details: [...report.lines.map((l) => `  ${l}`), await errorLogTail(site, offset)].join('\n'),
        hint: `fix what the error log names; Apache runs on (webtree apache status, webtree apache ${verb === 'start' ? 'restart' : verb} after the fix)`,
      },
    );
  }
  ctx.reporter.result({ verb, running: true, pid, apps: appsJson(report.results) }, () =>
    [head, ...report.lines.map((l) => `  ${l}`)].join('\n'),
  );
  return 0;
}

async function statusOf(ctx: CommandContext, site: Site): Promise<number> {
  const st = await status(site);
  const report = st.running
    ? await checkApps(site, (await liveApps(site, await ctx.catalog())).configured, 0)
    : undefined;
  const healthy = st.running && (report?.ok ?? false);
  ctx.reporter.result(
    {
      running: st.running,
      pid: st.pid ?? null,
      uptimeSec: st.uptimeSec ?? null,
      apps: appsJson(report?.results ?? []),
    },
    () =>
      st.running
        ? [
            `apache running, pid ${st.pid}, up ${st.uptimeSec ?? '?'} s, listening on ${site.apache.listen.host}:${site.apache.listen.port}`,
            ...(report?.lines ?? []).map((l) => `  ${l}`),
          ].join('\n')
        : `apache stopped${st.stalePidFile ? ` (stale pid file ${apacheLayout(site).pidFile})` : ''}`,
  );
  // Like verify: 0 only when all is well, so that a monitor can run it.
  return healthy ? 0 : 1;
}

async function run(ctx: CommandContext, verb: Verb): Promise<number> {
  if (verb === 'install-service' || verb === 'uninstall-service')
    return (await import('./service.js')).serviceVerb(ctx, verb);
  if (ctx.options.systemd === true || ctx.options.sysv === true)
    throw usageError(
      `apache ${verb} takes neither --systemd nor --sysv`,
      'they choose the service kind of apache install-service|uninstall-service',
    );
  const site = await ctx.site();
  if (verb === 'status' || verb === 'configtest') await reportPending(ctx, site); // reads change nothing
  if (verb === 'status') return statusOf(ctx, site);
  if (verb === 'configtest') {
    const out = await configtest(site);
    ctx.reporter.result({ ok: true, output: out }, () => out);
    return 0;
  }
  return control(ctx, site, verb);
}

async function control(
  ctx: CommandContext,
  site: Site,
  verb: Exclude<Verb, 'status' | 'configtest' | 'install-service' | 'uninstall-service'>,
): Promise<number> {
  asAccount(site, verb, []); // refuse anyone else before touching the lock
  // A change cut short (a half-finished render, an unchecked activation) is settled before Apache loads anything.
  const { lock } = await lockAndRecover(ctx, site, `apache ${verb}`);
  try {
    const offset = await errorLogOffset(site);
    switch (verb) {
      case 'start': {
        const r = await start(site);
        return healthAfter(
          ctx,
          site,
          verb,
          r.pid,
          offset,
          r.alreadyRunning ? `apache is already running (pid ${r.pid})` : `apache started (pid ${r.pid})`,
        );
      }
      case 'restart': {
        const r = await restart(site);
        return healthAfter(ctx, site, verb, r.pid, offset, `apache restarted (pid ${r.pid})`);
      }
      case 'graceful': {
        const r = await graceful(site);
        return healthAfter(
          ctx,
          site,
          verb,
          r.pid,
          offset,
          `apache reloaded its configuration (graceful, pid ${r.pid})`,
        );
      }
      case 'stop': {
        const r = await stop(site);
        const text =
          !r.wasRunning && r.killed.length === 0
            ? 'apache was not running'
            : `apache stopped${r.killed.length ? ` (killed what was left: ${r.killed.join(' ')})` : ''}`;
        ctx.reporter.result({ verb, running: false, wasRunning: r.wasRunning, killed: r.killed }, () => text);
        return 0;
      }
    }
  } finally {
    await lock.release();
  }
}

export const apacheCommand: CommandCode = {
  async run(ctx) {
    const verb = ctx.positionals[0] as Verb;
    if (!VERBS.includes(verb)) throw usageError(`unknown apache verb "${verb}"`, `webtree apache ${VERBS.join('|')}`);
    return run(ctx, verb);
  },
};
