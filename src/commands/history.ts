import { findVersionedProduct } from '../catalog/load.js';
import { historyLineError, readHistoryLines } from '../state/history.js';
import { historyFile } from '../state/tree.js';
import { reportPending } from './read-recovery.js';
import type { CommandCode } from './types.js';

export const historyCommand: CommandCode = {
  async run(ctx) {
    const site = await ctx.site();
    await reportPending(ctx, site); // reads change nothing: an interrupted change is reported, not settled
    const product = ctx.positionals[0] ? findVersionedProduct(await ctx.catalog(), ctx.positionals[0]).name : undefined;
    const file = historyFile(site);
    // What can be read is shown; a damaged line (or file) is named with its fix, and the exit says so.
    // A damaged file (a directory, binary) shows nothing: its error names it and the fix.
    const read = await readHistoryLines(file);
    if (read.problems.length) {
      const e = historyLineError(file, read.problems);
      ctx.reporter.warn(`${e.message}: ${read.problems.length} line(s) left out; ${e.hint}`);
    }
    const entries = read.entries.filter((e) => product === undefined || e.product === product);
    ctx.reporter.result({ entries }, () =>
      entries.length === 0
        ? product
          ? `no history of ${product} yet`
          : 'no history yet'
        : entries
            .map((e) => {
              const who = e.sudoUser ? `${e.user} (sudo by ${e.sudoUser})` : e.user;
              const what = [e.action, e.product, e.version].filter(Boolean).join(' ');
              const move = e.to !== undefined ? ` ${e.from ?? '(none)'} -> ${e.to}` : '';
              return `${e.time}  ${who.padEnd(12)} ${what}${move}  [${e.outcome}]${e.message ? `  ${e.message}` : ''}`;
            })
            .join('\n'),
    );
    return read.problems.length ? 1 : 0;
  },
};
