import { findVersionedProduct } from '../catalog/load.js';
import { productRows } from '../state/rows.js';
import { readTree } from '../state/tree.js';
import { readWithRecovery } from './tx.js';
import type { Command } from './types.js';

export const listCommand: Command = {
  name: 'list',
  summary: 'installed versions of every product (or one), the active one marked',
  args: '[PRODUCT]',
  positionals: { min: 0, max: 1 },
  changes: false,
  json: true,
  options: {},
  async run(ctx) {
    const site = await ctx.site();
    let catalog = (await ctx.catalog()).filter((d) => d.installable);
    if (ctx.positionals[0]) catalog = [findVersionedProduct(await ctx.catalog(), ctx.positionals[0])];
    await readWithRecovery(ctx, site);
    const tree = await readTree(site, catalog);
    const rows = productRows(catalog, tree);
    ctx.reporter.result({ products: rows }, () =>
      rows.map((r) => `${r.name.padEnd(14)} ${r.versions.length ? r.versions.map((v) => (v === r.current ? `*${v}` : v)).join('  ') : '-'}`).join('\n'));
  },
};
