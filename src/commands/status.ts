import fs from 'node:fs/promises';
import path from 'node:path';
import { previousVersion } from '../state/previous.js';
import { activeServer } from '../state/server.js';
import { readTree } from '../state/tree.js';
import type { Site } from '../site/types.js';
import { readWithRecovery } from './tx.js';
import type { Command } from './types.js';

/** Apache as the pid file says, trusted only when that pid is alive. */
async function apacheState(site: Site): Promise<{ running: boolean; pid: number | null }> {
  const text = await fs.readFile(path.join(site.paths.www, 'run', 'httpd.pid'), 'utf8').catch(() => '');
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return { running: false, pid: null };
  try {
    process.kill(pid, 0);
    return { running: true, pid };
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? { running: true, pid } : { running: false, pid: null };
  }
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'what is active: each product, the database server, Apache',
  args: '',
  positionals: { min: 0, max: 0 },
  changes: false,
  json: true,
  options: {},
  async run(ctx) {
    const site = await ctx.site();
    const catalog = (await ctx.catalog()).filter((d) => d.installable);
    await readWithRecovery(ctx, site);
    const tree = await readTree(site, catalog);
    const products = catalog.map((d) => {
      const st = tree.products[d.name];
      return { name: d.name, current: st.current ?? null, previous: previousVersion(tree.history, d.name, st.current, st.versions) ?? null, versions: st.versions };
    });
    const server = await activeServer(site);
    const apache = await apacheState(site);
    ctx.reporter.result({ site: site.file, products, server, apache }, () => [
      `site     ${site.file}`,
      `server   ${server ?? '(none)'}`,
      `apache   ${apache.running ? `running, pid ${apache.pid}` : 'stopped'}`,
      '',
      `${'product'.padEnd(14)} ${'current'.padEnd(10)} ${'previous'.padEnd(10)} installed`,
      ...products.map((p) => `${p.name.padEnd(14)} ${(p.current ?? '-').padEnd(10)} ${(p.previous ?? '-').padEnd(10)} ${p.versions.join(' ') || '-'}`),
    ].join('\n'));
  },
};
