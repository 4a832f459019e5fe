/**
 * apache install-service|uninstall-service [--systemd|--sysv]: the rendered unit or init script
 * under /etc, enabled, so that Apache starts at boot as the service account (the plan:
 * src/plan/service.ts). Root only, and root throughout (the registry's rootVerbs): /etc is
 * root's. The lock, the journal and the history are the tree's as for every change; what goes
 * under /etc stays root's (an executor that gives nothing to the account).
 */
import { runProcess } from '../core/exec.js';
import { usageError, WebtreeError } from '../core/errors.js';
import { defaultKind, readServiceFacts, serviceRoot } from '../apache/service-facts.js';
import { planInstallService, planUninstallService } from '../plan/service.js';
import { lstatOrNull } from '../state/fs-read.js';
import { executorFor, freshPlanContext, lockAndRecover, printPlan, reportNotes } from './tx.js';
import type { CommandContext } from './types.js';

export async function serviceVerb(ctx: CommandContext, verb: 'install-service' | 'uninstall-service'): Promise<number> {
  const { systemd, sysv } = ctx.options;
  if (systemd === true && sysv === true)
    throw usageError(
      `apache ${verb}: --systemd and --sysv exclude each other`,
      `webtree apache ${verb} [--systemd|--sysv]`,
    );
  if (!ctx.dryRun && process.geteuid?.() !== 0) {
    throw new WebtreeError('EPERM', `apache ${verb} writes under /etc: only root may run it`, {
      hint: `sudo webtree apache ${verb}${systemd ? ' --systemd' : sysv ? ' --sysv' : ''} (--dry-run shows the plan as anyone)`,
    });
  }
  const site = await ctx.site();
  const kind = systemd === true ? 'systemd' : sysv === true ? 'sysv' : await defaultKind();
  const root = serviceRoot(ctx.env);
  const plan = async () => {
    const facts = await readServiceFacts(site, kind, root);
    const pctx = await freshPlanContext(ctx, site);
    return {
      p: verb === 'install-service' ? planInstallService(facts, root, pctx) : planUninstallService(facts, pctx),
      id: pctx.id,
    };
  };
  if (ctx.dryRun) {
    printPlan(ctx.reporter, (await plan()).p);
    return 0;
  }
  const { lock } = await lockAndRecover(ctx, site, `apache ${verb}`);
  let done;
  try {
    const { p, id } = await plan();
    reportNotes(ctx.reporter, p.notes);
    await (await executorFor(ctx, site, true, false)).apply(p, id);
    done = p;
  } finally {
    await lock.release();
  }
  // systemd reads units at its reload: done here only on the host itself, never for a test's root.
  let reload: string | undefined;
  if (kind === 'systemd' && root === '/' && done.ops.length && (await lstatOrNull('/run/systemd/system'))) {
    const r = await runProcess('systemctl', ['daemon-reload']);
    reload =
      r.exitCode === 0
        ? 'systemctl daemon-reload: done'
        : `systemctl daemon-reload failed (${r.stderr.trim()}): run it by hand`;
  }
  const next =
    verb === 'uninstall-service'
      ? []
      : kind === 'systemd'
        ? ['start it now: systemctl start webtree-httpd (it starts at boot from now on)']
        : ['start it now: /etc/init.d/webtree-httpd start (it starts at boot from now on)'];
  ctx.reporter.result(
    { kind, changed: done.ops.length > 0, summary: done.summary, notes: done.notes, reload: reload ?? null },
    () =>
      [
        done.ops.length ? `${done.summary}: done` : done.summary,
        ...(reload ? [`  ${reload}`] : []),
        ...(done.ops.length ? next.map((l) => `  ${l}`) : []),
      ].join('\n'),
  );
  return 0;
}
