import { status as apacheStatus } from '../apache/control.js';
import { productRows } from '../state/rows.js';
import { activeNotALink, activeServer } from '../state/server.js';
import { readTree } from '../state/tree.js';
import { reportPending } from './read-recovery.js';
import type { CommandCode } from './types.js';

export const statusCommand: CommandCode = {
  async run(ctx) {
    const site = await ctx.site();
    const catalog = (await ctx.catalog()).filter((d) => d.installable);
    // Reads change nothing: a pending change is reported (and in --json), the tree shown as it is.
    const pending = await reportPending(ctx, site);
    const tree = await readTree(site, catalog, 'list', true, 'pointer');
    for (const d of tree.damage ?? []) ctx.reporter.warn(`${d.message} (shown without it: ${d.hint})`);
    const products = productRows(catalog, tree);
    const server = await activeServer(site);
    const notALink = server === null ? await activeNotALink(site) : undefined;
    // The pid file is trusted only when it names a live httpd of this tree (control.status).
    const st = await apacheStatus(site);
    const apache = { running: st.running, pid: st.pid ?? null };
    const damaged = (tree.damage ?? []).map((d) => d.file);
    ctx.reporter.result({ site: site.file, products, server, apache, pending: pending ?? null, damaged }, () =>
      [
        `site     ${site.file}`,
        `server   ${server ?? (notALink ? `(unknown: ${notALink})` : '(none)')}`,
        `apache   ${apache.running ? `running, pid ${apache.pid}` : 'stopped'}`,
        ...(pending
          ? [
              `pending  ${pending.state === 'running' ? 'a change is under way' : pending.state === 'damaged' ? 'the journal is damaged (see above)' : `\`${pending.command}\` was interrupted: run \`webtree recover\``}`,
            ]
          : []),
        '',
        `${'product'.padEnd(14)} ${'current'.padEnd(10)} ${'previous'.padEnd(10)} installed`,
        ...products.map(
          (p) =>
            `${p.name.padEnd(14)} ${(p.current ?? '-').padEnd(10)} ${(p.previous ?? '-').padEnd(10)} ${p.versions.join(' ') || '-'}`,
        ),
      ].join('\n'),
    );
  },
};
