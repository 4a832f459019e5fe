/**
 * break-lock: the one way to remove a lock webtree will not take over by itself — one held on
 * another host sharing the disk (its process cannot be looked at from here). Shows the holder,
 * asks (or takes --yes), and removes the lock only if it is still that holder's. A live holder
 * on this host is refused: stop that command instead.
 */
import os from 'node:os';
import readline from 'node:readline/promises';
import { randomBytes } from 'node:crypto';
import { breakLock, describeHolder, heldElsewhere, holderAlive, readLockHolder } from '../apply/lock.js';
import { WebtreeError } from '../core/errors.js';
import { appendHistory, whoAmI } from '../state/history.js';
import { historyFile } from '../state/tree.js';
import type { CommandCode } from './types.js';

async function ask(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export const breakLockCommand: CommandCode = {
  async run(ctx) {
    const site = await ctx.site();
    const holder = await readLockHolder(site.paths.state);
    if (holder === null) {
      ctx.reporter.result({ broken: false, holder: null }, () => 'the tree is not locked; nothing to break');
      return 0;
    }
    const who = describeHolder(holder);
    if (!heldElsewhere(holder) && (await holderAlive(holder))) {
      throw new WebtreeError('ELOCKED', `the lock is held by a live process on this host: ${who}`, {
        hint: `wait for it, or stop it (kill ${holder.pid}): a stopped command puts the tree back and releases the lock`,
      });
    }
    if (ctx.options.yes !== true) {
      if (!process.stdin.isTTY || ctx.options.json === true) {
        throw new WebtreeError('EUSAGE', `the lock is held by ${who}; break-lock asks before breaking it`, {
          hint: 'run it on a terminal to be asked, or add --yes once you know that command is gone',
        });
      }
      const where = heldElsewhere(holder)
        ? `host ${holder.host} is down or that command is gone`
        : 'that command is gone';
      if (!(await ask(`the tree is locked by ${who}.\nbreak the lock? only if ${where}. [y/N] `))) {
        throw new WebtreeError('ELOCKED', 'the lock was left as it is', { hint: 'nothing was changed' });
      }
    }
    if (!(await breakLock(site.paths.state, holder))) {
      throw new WebtreeError('ELOCKED', 'the lock changed hands while you were asked; nothing was broken', {
        hint: 'run webtree break-lock again to see its new holder',
      });
    }
    const me = whoAmI(ctx.env);
    await appendHistory(historyFile(site), {
      id: randomBytes(8).toString('hex'),
      time: new Date().toISOString(),
      ...me,
      action: 'break-lock',
      outcome: 'ok',
      message: `broke the lock of ${who}, from host ${os.hostname()}`,
    });
    ctx.reporter.result(
      { broken: true, holder },
      () => `broke the lock of ${who}\nthe next command finishes or undoes whatever that command left (its journal)`,
    );
    return 0;
  },
};
