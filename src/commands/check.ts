/**
 * webtree check: one read-only pass over everything that can be wrong, then the metrics, the
 * status page and (on a transition) one mail. Exit 0 healthy, 1 a finding. It takes no lock and
 * recovers nothing: a check every minute must never change the site it watches.
 */
import { publishCheck } from '../watch/publish.js';
import { runCheck } from '../watch/gather.js';
import type { CommandCode } from './types.js';

export const checkCommand: CommandCode = {
  async run(ctx) {
    const site = await ctx.site();
    const report = await runCheck(site, await ctx.catalog());
    const published = await publishCheck(site, report);
    if (published.mailError) ctx.reporter.warn(published.mailError);
    const { findings } = report;
    ctx.reporter.result(
      {
        ok: report.ok,
        checkedAt: report.checkedAt,
        findings,
        apache: report.apache,
        apps: report.apps,
        active: report.active,
        servers: report.servers,
        disks: report.disks,
        mailed: published.mailed,
      },
      () =>
        [
          report.ok ? 'check: healthy' : `check: ${findings.length} finding${findings.length === 1 ? '' : 's'}`,
          ...findings.flatMap((f) => [`  ${f.thing}: ${f.problem}`, `    fix: ${f.fix}`]),
          `apache   ${report.apache.up ? `running, pid ${report.apache.pid}` : 'stopped'}`,
          ...report.apps.map(
            (a) =>
              `  ${a.up ? 'ok  ' : 'FAIL'} ${a.app.padEnd(12)} ${a.url} ${a.status ?? ''} ${(a.seconds * 1000).toFixed(0)} ms${a.error ? ` ${a.error}` : ''}`,
          ),
          `server   ${report.active ?? '(none)'}`,
          ...report.servers.map(
            (s) =>
              `  ${s.name.padEnd(10)} ${s.up ? (s.primary ? 'primary' : 'standby') : 'unreachable'}${s.name === report.active ? ' (active)' : ''}`,
          ),
          ...(published.mailed.length ? [`mailed ${site.watch.mail.to}: ${published.mailed.join('; ')}`] : []),
        ].join('\n'),
    );
    return report.ok ? 0 : 1;
  },
};
