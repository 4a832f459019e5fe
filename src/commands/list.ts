import { findVersionedProduct } from '../catalog/load.js';
import { productRows } from '../state/rows.js';
import { readTree } from '../state/tree.js';
import { reportPending } from './read-recovery.js';
import type { CommandCode } from './types.js';

export const listCommand: CommandCode = {
  async run(ctx) {
    const site = await ctx.site();
    let catalog = (await ctx.catalog()).filter((d) => d.installable);
    if (ctx.positionals[0]) catalog = [findVersionedProduct(await ctx.catalog(), ctx.positionals[0])];
    await reportPending(ctx, site);
    const tree = await readTree(site, catalog, 'list', true, 'pointer');
    for (const d of tree.damage ?? []) ctx.reporter.warn(`${d.message} (shown without it: ${d.hint})`);
    const rows = productRows(catalog, tree);
    ctx.reporter.result({ products: rows }, () =>
      rows
        .map(
          (r) =>
            `${r.name.padEnd(14)} ${r.versions.length ? r.versions.map((v) => (v === r.current ? `*${v}` : v)).join('  ') : '-'}`,
        )
        .join('\n'),
    );
  },
};
