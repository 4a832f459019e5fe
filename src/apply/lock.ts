/**
 * One lock serialises every command that changes the tree. The lock file is written complete
 * under a temporary name and hard-linked into place (link(2) fails if it exists), so a holder's
 * details are never half-written. A lock whose process is gone (or whose pid now belongs to
 * another process, told apart by its start time) is recovered without a human.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { explainErrno } from '../core/errno.js';
import { isErrno, WebtreeError } from '../core/errors.js';
import { interruptedNothingChanged } from '../core/interrupt.js';
import { whoAmI } from '../state/history.js';

export interface LockHolder {
  /** The host the holder runs on: on a shared disk a pid means nothing elsewhere. Older locks lack it. */
  host?: string;
  pid: number;
  start: string | null;
  user: string;
  command: string;
  since: string;
  token: string;
}

export async function processStart(pid: number): Promise<string | null> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime) comes after the command name, which may itself hold spaces or ")".
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Held on another host: its pid cannot be looked at here, so it is never taken over as dead. */
export const heldElsewhere = (h: LockHolder) => typeof h.host === 'string' && h.host !== os.hostname();

export async function holderAlive(h: LockHolder): Promise<boolean> {
  if (heldElsewhere(h)) return true;
  if (!Number.isInteger(h.pid) || h.pid <= 0) return false; // kill(-1, 0) would ask about every process
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    if (isErrno(err, 'ESRCH')) return false;
  }
  const start = await processStart(h.pid);
  return h.start === null || start === null || start === h.start;
}

async function readHolder(file: string): Promise<LockHolder | null> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as LockHolder;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null;
    // Unreadable or torn: cannot come from link(2) of a complete file, so it is not ours to trust.
    return { pid: -1, start: null, user: '?', command: '?', since: '?', token: 'corrupt' };
  }
}

export interface Lock {
  release(): Promise<void>;
  holder: LockHolder;
  /** Set when a dead holder's lock was taken over. */
  recoveredFrom?: LockHolder;
}

export async function acquireLock(stateDir: string, command: string, waitMs: number, signal?: AbortSignal): Promise<Lock> {
  const file = path.join(stateDir, 'lock');
  const me: LockHolder = {
    host: os.hostname(), pid: process.pid, start: await processStart(process.pid), user: whoAmI().user,
    command, since: new Date().toISOString(), token: randomBytes(8).toString('hex'),
  };
  const tmp = `${file}.${me.token}`;
  await writeHolder(tmp, me, stateDir);
  const deadline = Date.now() + waitMs;
  let recoveredFrom: LockHolder | undefined;
  try {
    for (;;) {
      try {
        await fs.link(tmp, file);
        return { holder: me, recoveredFrom, release: () => releaseLock(file, me.token) };
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err;
      }
      const holder = await readHolder(file);
      if (holder === null) continue; // released between our link and our read: try again at once
      if (!(await holderAlive(holder)) && (await breakStale(file, holder, tmp))) {
        recoveredFrom = holder;
        continue;
      }
      // Not broken (another process is breaking it, or the holder lives): wait, and keep to the deadline.
      if (signal?.aborted) throw interruptedNothingChanged(signal, `while waiting for the lock held by pid ${holder.pid}`);
      if (Date.now() >= deadline) {
        throw lockedError(holder);
      }
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    }
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** "3 min", "2 h 5 min": how long a lock has been held, from its `since`. */
export function lockAge(since: string, now = Date.now()): string {
  const t = Date.parse(since);
  if (Number.isNaN(t)) return 'for an unknown time';
  const min = Math.max(0, Math.round((now - t) / 60_000));
  return min < 60 ? `${min} min` : `${Math.floor(min / 60)} h ${min % 60} min`;
}

export const describeHolder = (h: LockHolder) =>
  `pid ${h.pid} (user ${h.user}, \`${h.command}\`, since ${h.since}, held ${lockAge(h.since)})${h.host ? ` on host ${h.host}` : ''}`;

function lockedError(h: LockHolder): WebtreeError {
  return new WebtreeError('ELOCKED', `the tree is locked by ${describeHolder(h)}`, {
    hint: heldElsewhere(h)
      ? `the lock was taken on another host sharing this disk and is never taken over from here: wait for that command; only if ${h.host} is down or its command is gone, \`webtree break-lock\``
      : 'wait for that command to finish and run yours again; a lock left by a dead process is recovered by itself',
  });
}

/**
 * break-lock: remove the lock whatever its holder, under the same guard as a stale lock, only
 * if it is still the holder the operator was shown (its token).
 */
export async function breakLock(stateDir: string, shown: LockHolder): Promise<boolean> {
  const file = path.join(stateDir, 'lock');
  const tmp = `${file}.${randomBytes(8).toString('hex')}`;
  const me = { ...shown, host: os.hostname(), pid: process.pid, token: path.basename(tmp) };
  await writeHolder(tmp, me, stateDir);
  try {
    return await breakStale(file, shown, tmp);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** The lock's holder now, or null when the tree is not locked. */
export const readLockHolder = (stateDir: string) => readHolder(path.join(stateDir, 'lock'));

/**
 * Remove a dead holder's lock, under a second lock (`lock.break`) so that two processes that saw
 * the same dead holder cannot both break it: the second would remove the first one's live lock.
 * Under the guard the lock is read again and removed only if it still is the dead holder's.
 */
async function breakStale(file: string, stale: LockHolder, tmp: string): Promise<boolean> {
  const guard = `${file}.break`;
  try {
    await fs.link(tmp, guard);
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
    const breaker = await readHolder(guard);
    // A breaker that died while holding the guard (a window of two syscalls) is cleared here: moved
    // aside under a name of our own, and put back if it turns out to be a live breaker's by now.
    if (breaker && !(await holderAlive(breaker))) {
      const aside = `${guard}.${randomBytes(4).toString('hex')}`;
      if (await fs.rename(guard, aside).then(() => true, () => false)) {
        const moved = await readHolder(aside);
        if (moved && moved.token !== breaker.token) await fs.link(aside, guard).catch(() => undefined);
        await fs.rm(aside, { force: true });
      }
    }
    return false;
  }
  try {
    const now = await readHolder(file);
    if (now === null || now.token !== stale.token) return false;
    await fs.rm(file, { force: true });
    return true;
  } finally {
    await fs.rm(guard, { force: true });
  }
}

/**
 * Durable before it is linked into place: a power cut must not leave an empty lock behind. A
 * state directory the account may not write, or a full disk, is the first thing a command meets:
 * said in those words, and the half-written file removed.
 */
async function writeHolder(tmp: string, me: LockHolder, stateDir: string): Promise<void> {
  try {
    const fh = await fs.open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(JSON.stringify(me));
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    // A write on a file handle carries no path: name the file.
    if (isErrno(err) && err.path === undefined) err.path = tmp;
    throw await explainErrno(err, `take webtree's lock in ${stateDir}`);
  }
}

async function releaseLock(file: string, token: string): Promise<void> {
  const holder = await readHolder(file);
  if (holder?.token === token) await fs.rm(file, { force: true });
}
