import { readTree } from '../state/tree.js';
import { verifyTree } from '../verify/checks.js';
import { readWithRecovery } from './tx.js';
import type { Command } from './types.js';

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'check links, manifests, the active server and licences; exit 1 on any finding',
  args: '',
  positionals: { min: 0, max: 0 },
  changes: false,
  json: true,
  options: {},
  async run(ctx) {
    const site = await ctx.site();
    const catalog = await ctx.catalog();
    await readWithRecovery(ctx, site);
    const findings = await verifyTree(site, catalog, await readTree(site, catalog));
    ctx.reporter.result({ ok: findings.length === 0, findings }, () =>
      findings.length === 0 ? 'verify: all good' : [`verify: ${findings.length} finding(s)`, ...findings.map((f) => `  ${f.what}: ${f.problem}`)].join('\n'));
    return findings.length ? 1 : 0;
  },
};
