import { findVersionedProduct } from '../catalog/load.js';
import { readHistory } from '../state/history.js';
import { historyFile } from '../state/tree.js';
import { readWithRecovery } from './read-recovery.js';
import type { CommandCode } from './types.js';

export const historyCommand: CommandCode = {
  async run(ctx) {
    const site = await ctx.site();
    await readWithRecovery(ctx, site); // like every read: an interrupted change is settled first
    const product = ctx.positionals[0] ? findVersionedProduct(await ctx.catalog(), ctx.positionals[0]).name : undefined;
    const entries = (await readHistory(historyFile(site))).filter((e) => product === undefined || e.product === product);
    ctx.reporter.result({ entries }, () =>
      entries.length === 0 ? (product ? `no history of ${product} yet` : 'no history yet') : entries.map((e) => {
        const who = e.sudoUser ? `${e.user} (sudo by ${e.sudoUser})` : e.user;
        const what = [e.action, e.product, e.version].filter(Boolean).join(' ');
        const move = e.to !== undefined ? ` ${e.from ?? '(none)'} -> ${e.to}` : '';
        return `${e.time}  ${who.padEnd(12)} ${what}${move}  [${e.outcome}]${e.message ? `  ${e.message}` : ''}`;
      }).join('\n'));
  },
};
