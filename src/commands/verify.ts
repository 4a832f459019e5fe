import { readTree } from '../state/tree.js';
import { verifyTree } from '../verify/checks.js';
import type { CommandCode } from './types.js';

export const verifyCommand: CommandCode = {
  async run(ctx) {
    const site = await ctx.site();
    const catalog = await ctx.catalog();
    // Reads change nothing: a pending change and every damaged state file are findings.
    const findings = await verifyTree(site, catalog, await readTree(site, catalog, 'read', true));
    ctx.reporter.result({ ok: findings.length === 0, findings }, () =>
      findings.length === 0
        ? 'verify: all good'
        : [`verify: ${findings.length} finding(s)`, ...findings.map((f) => `  ${f.what}: ${f.problem}`)].join('\n'),
    );
    return findings.length ? 1 : 0;
  },
};
