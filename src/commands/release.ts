/** release [--output FILE]: the release file of the site as it runs, to capture one host and apply it on another. */
import os from 'node:os';
import path from 'node:path';
import { renameSync, writeFileSync } from 'node:fs';
import { withRoot } from '../core/privilege.js';
import { releaseText, runningRelease } from '../release/write.js';
import { readTree } from '../state/tree.js';
import type { CommandCode } from './types.js';

export const releaseCommand: CommandCode = {
  async run(ctx) {
    const site = await ctx.site();
    const catalog = await ctx.catalog();
    const products = runningRelease(catalog, await readTree(site, catalog));
    const text = releaseText(products, [
      `The release of ${os.hostname()} as it ran at ${new Date().toISOString()} (webtree release).`,
      'Apply it on another host with: webtree apply FILE',
    ]);
    const output = ctx.options.output === undefined ? undefined : path.resolve(ctx.options.output as string);
    // The operator's file, written with the ids of who ran webtree (root works in the tree as the account).
    if (output !== undefined) {
      const tmp = `${output}.webtree-${process.pid}`;
      withRoot(() => {
        writeFileSync(tmp, text, { mode: 0o644 });
        renameSync(tmp, output);
      });
    }
    const unknown = products.filter((p) => p.archive === undefined || p.sha256 === undefined).map((p) => p.name);
    if (unknown.length)
      ctx.reporter.warn(
        `no archive source or sha256 recorded for ${unknown.join(', ')}: fill them in before applying the file elsewhere`,
      );
    ctx.reporter.result({ products, ...(output ? { output } : {}) }, () =>
      output ? `wrote ${output} (${products.length} products)` : text.trimEnd(),
    );
    return 0;
  },
};
