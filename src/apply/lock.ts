/**
 * One lock serialises every command that changes the tree. The lock file is written complete
 * under a temporary name and hard-linked into place (link(2) fails if it exists), so a holder's
 * details are never half-written. A lock whose process is gone (or whose pid now belongs to
 * another process, told apart by its start time) is recovered without a human.
 */
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { explainErrno } from '../core/errno.js';
import { isErrno, WebtreeError } from '../core/errors.js';
import { interruptedNothingChanged } from '../core/interrupt.js';
import { whoAmI } from '../state/history.js';
import { ensureReserve, withReserve } from './reserve.js';
import {
  isDamaged,
  isNonEmptyStr,
  isPosInt,
  isStr,
  nullable,
  optional,
  readStateJson,
  type DamagedFileError,
  type FieldCheck,
  type StateFileSpec,
} from '../core/state-file.js';

/**
 * Random hex from node:crypto, loaded when first used: importing it cost every command that only
 * reads the lock (status) milliseconds of start-up. A command that takes the lock has it loaded
 * already (its apply id, the unpack's hashes); Web Crypto, used here before, loaded a module tree
 * of its own for it (1-4 ms of an install's time before its unpack; docs/benchmarks.md, session 8).
 */
const randomHex = (bytes: number): string =>
  (createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')).randomBytes(bytes).toString('hex');

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

/**
 * The lock file's fields and their kinds. A field added later (the host the holder runs on, say)
 * is one line here; readers of older locks get it as undefined when it is optional.
 */
export const HOLDER_FIELDS: Record<string, FieldCheck> = {
  host: optional(isStr),
  pid: isPosInt,
  start: nullable(isStr),
  user: isStr,
  command: isStr,
  since: isStr,
  token: isNonEmptyStr,
};

/** What a lock file holds: nothing (absent), a holder, or damage that no webtree wrote. */
export type LockRead =
  | { kind: 'absent' }
  | { kind: 'holder'; holder: LockHolder }
  /** Empty: a power cut between the create and the write of a file system that lost the data. */
  | { kind: 'empty' }
  | { kind: 'damaged'; error: DamagedFileError };

export const lockFile = (stateDir: string) => path.join(stateDir, 'lock');

const lockSpec = (file: string): StateFileSpec => ({
  what: "webtree's lock",
  maxBytes: 64 * 1024,
  // rm, not the attic: a lock holds nothing worth keeping, and what is wrong with it is in this message.
  fix: `no webtree command wrote it (each writes its lock whole); if none is running (\`pgrep -af webtree\`), remove it: rm -r -- ${file}`,
});

/** Read and check a lock file (the lock itself or the take-over guard). */
export async function readLockFile(file: string): Promise<LockRead> {
  try {
    const holder = await readStateJson<LockHolder>(file, lockSpec(file), HOLDER_FIELDS);
    return holder === undefined ? { kind: 'absent' } : { kind: 'holder', holder };
  } catch (err) {
    if (!isDamaged(err)) throw err;
    return err.problem === 'is empty' ? { kind: 'empty' } : { kind: 'damaged', error: err };
  }
}

/** The holder of an empty lock: no process, so it is taken over like a dead one. */
const EMPTY_HOLDER: LockHolder = {
  pid: -1,
  start: null,
  user: '?',
  command: '(an empty lock file)',
  since: '?',
  token: 'empty',
};

/** A lock file as the take-over logic sees it: null when absent; damage thrown (never taken over blindly). */
async function readHolder(file: string): Promise<LockHolder | null> {
  const r = await readLockFile(file);
  if (r.kind === 'absent') return null;
  if (r.kind === 'empty') return EMPTY_HOLDER;
  if (r.kind === 'damaged') throw r.error;
  return r.holder;
}

/** The take-over guard: whatever is wrong with it, a guard that no live breaker holds is cleared. */
async function readGuard(file: string): Promise<LockHolder | null> {
  const r = await readLockFile(file);
  if (r.kind === 'absent') return null;
  return r.kind === 'holder' ? r.holder : { ...EMPTY_HOLDER, token: `damaged-${r.kind}` };
}

export interface Lock {
  release(): Promise<void>;
  holder: LockHolder;
  /** Set when a dead holder's lock was taken over. */
  recoveredFrom?: LockHolder;
  /** The disk was full: the reserve was given up to take the lock. */
  usedReserve?: boolean;
}

/**
 * Take the tree's lock, waiting up to waitMs for a live holder. `onWait` is told the holder once,
 * when the wait begins (--debug says so: a command that seems to hang is waiting for another).
 */
export async function acquireLock(
  stateDir: string,
  command: string,
  waitMs: number,
  signal?: AbortSignal,
  onWait?: (holder: LockHolder) => void,
): Promise<Lock> {
  const file = lockFile(stateDir);
  const me: LockHolder = {
    host: os.hostname(),
    pid: process.pid,
    start: await processStart(process.pid),
    user: whoAmI().user,
    command,
    since: new Date().toISOString(),
    token: randomHex(8),
  };
  const tmp = `${file}.${me.token}`;
  // On a full disk the reserve is given up, so that the prune or rollback a full disk calls for can run.
  let usedReserve = false;
  await withReserve(
    stateDir,
    () => writeHolder(tmp, me, stateDir),
    () => void (usedReserve = true),
  );
  const deadline = Date.now() + waitMs;
  let recoveredFrom: LockHolder | undefined;
  try {
    for (;;) {
      try {
        await fs.link(tmp, file);
        return { holder: me, recoveredFrom, usedReserve, release: () => releaseLock(file, me.token, stateDir) };
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err;
      }
      // Damage (null, a directory, a FIFO …) is thrown here: named, with the fix, never spun on.
      const holder = await readHolder(file);
      if (holder !== null && !(await holderAlive(holder)) && (await breakStale(file, holder, tmp))) {
        recoveredFrom = holder;
        continue;
      }
      // Released between our link and our read, not broken (another process is breaking it), or
      // the holder lives: every path keeps to the signal and the deadline, and sleeps a little.
      if (signal?.aborted)
        throw interruptedNothingChanged(
          signal,
          `while waiting for the lock${holder ? ` held by pid ${holder.pid}` : ''}`,
        );
      if (Date.now() >= deadline && holder !== null) {
        throw lockedError(holder);
      }
      if (Date.now() >= deadline + 5000)
        throw new WebtreeError('ELOCKED', `could not take webtree's lock ${file}: it kept changing hands`, {
          hint: 'run the command again',
        });
      if (holder !== null && onWait) {
        onWait(holder);
        onWait = undefined;
      }
      await new Promise((r) => setTimeout(r, holder === null ? 5 : 50 + Math.random() * 100));
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
  const tmp = `${file}.${randomHex(8)}`;
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
    const breaker = await readGuard(guard);
    // A breaker that died while holding the guard (a window of two syscalls) is cleared here: moved
    // aside under a name of our own, and put back if it turns out to be a live breaker's by now.
    if (breaker && !(await holderAlive(breaker))) {
      const aside = `${guard}.${randomHex(4)}`;
      if (
        await fs.rename(guard, aside).then(
          () => true,
          () => false,
        )
      ) {
        const moved = await readGuard(aside);
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

async function releaseLock(file: string, token: string, stateDir: string): Promise<void> {
  const r = await readLockFile(file);
  if (r.kind === 'holder' && r.holder.token === token) await fs.rm(file, { force: true });
  // Still ours to do under the lock's end: the reserve made again if it was used and there is room now.
  await ensureReserve(stateDir);
}
