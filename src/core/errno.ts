/**
 * What a system error that reaches the boundary means to an operator. A full disk, a denied
 * permission or a read-only file system can strike any write, so rather than wrap every call,
 * the boundary (cli.ts) turns the raw errno error into a WebtreeError that names the path, the
 * file system or the account, and the fix. `errnoError` is pure (unit-tested with the facts
 * given); `explainErrno` gathers the facts (who runs, which mount) and calls it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { isErrno, WebtreeError } from './errors.js';
import { currentIdentity, dbEntry } from './identity.js';
import { workingAs } from './privilege.js';

export interface Account {
  user: string;
  uid: number;
  /** The account's primary group, for the chown in the hint. */
  group?: string;
}

export interface Mount {
  /** Where it is mounted. */
  dir: string;
  fstype: string;
  source: string;
}

export interface ErrnoFacts {
  account: Account;
  /** The mount the error's path lies on, where it could be found. */
  mount?: Mount;
  /** The directory to give to the account: the path when it is a directory, else its parent. */
  accessDir?: string;
  /** The site's service account (apache.user/group), when the site file was read. */
  service?: { user: string; group: string };
}

let serviceAccount: ErrnoFacts['service'];
/** The boundary's hints name the service account once the site file is read (cli.ts). */
export const noteServiceAccount = (a: { user: string; group: string }) =>
  void (serviceAccount = { user: a.user, group: a.group });

const MAPPED = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS']);

/** What the failed system call was doing, in an operator's words. */
const VERBS: Record<string, string> = {
  open: 'open',
  write: 'write',
  read: 'read',
  mkdir: 'create the directory',
  mkdtemp: 'create a directory in',
  rename: 'rename',
  symlink: 'create the link',
  link: 'create the hard link',
  unlink: 'remove',
  rmdir: 'remove',
  rm: 'remove',
  copyfile: 'copy to',
  chmod: 'change the mode of',
  fchmod: 'change the mode of',
  chown: 'change the owner of',
  lchown: 'change the owner of',
  fchown: 'change the owner of',
  utime: 'touch',
  utimes: 'touch',
  access: 'write into',
  scandir: 'list',
  opendir: 'list',
  fsync: 'flush',
  fdatasync: 'flush',
  ftruncate: 'extend',
  truncate: 'extend',
};

export const accountText = (a: Account) => `${a.user} (uid ${a.uid})`;

const mountText = (m?: Mount) => (m ? ` (${m.fstype} ${m.source} mounted on ${m.dir})` : '');

/**
 * The WebtreeError for an errno error webtree knows how to explain (ENOSPC, EDQUOT, EACCES,
 * EPERM, EROFS), or undefined. `doing` says what webtree was doing when the call failed
 * ("take webtree's lock in /srv/www/state") where the error's own path would not.
 */
export function errnoError(err: unknown, facts: ErrnoFacts, doing?: string): WebtreeError | undefined {
  const w = mapped(err, facts, doing);
  // --debug shows the stack: the system call's, not this function's.
  if (w && (err as Error).stack) w.stack = `${w.name}: ${w.message}\ncaused by ${(err as Error).stack}`;
  return w;
}

/** A system error: a WebtreeError carries a code too, some of them spelled like errno's. */
const isSystemError = (err: unknown): err is NodeJS.ErrnoException =>
  !(err instanceof WebtreeError) && isErrno(err) && MAPPED.has(err.code!);

function mapped(err: unknown, facts: ErrnoFacts, doing?: string): WebtreeError | undefined {
  if (!isSystemError(err)) return undefined;
  const e = err as NodeJS.ErrnoException & { dest?: string };
  const p = e.path;
  const verb = VERBS[e.syscall ?? ''] ?? e.syscall ?? 'write';
  const what =
    doing ?? (p ? `${verb} ${p}${e.dest ? ` to ${e.dest}` : ''}` : `${verb} (the system did not say which file)`);
  const where = facts.mount?.dir ?? (p ? path.dirname(p) : undefined);
  const { account } = facts;
  switch (e.code) {
    case 'ENOSPC':
    case 'EDQUOT': {
      const quota = e.code === 'EDQUOT';
      const head = quota ? `the disk quota of ${accountText(account)} is used up` : 'the disk is full';
      const df = where ? `df -h ${where}` : 'df -h';
      return new WebtreeError('ENOSPC', `${head}: could not ${what}${mountText(facts.mount)}`, {
        hint: `free space${where ? ` on ${where}` : ''} (\`${df}\` shows what is left${quota ? `, \`quota -u ${account.user}\` the quota` : ''}; \`webtree prune PRODUCT --keep N\` removes old versions), then run the command again`,
        cause: err,
      });
    }
    case 'EROFS':
      return new WebtreeError('EROFS', `the file system is read-only: could not ${what}${mountText(facts.mount)}`, {
        hint: where
          ? `remount it read-write (\`mount -o remount,rw ${where}\`) or point the site file at a writable place`
          : 'remount it read-write or point the site file at a writable place',
        cause: err,
      });
    default: {
      const dir = facts.accessDir ?? (p ? path.dirname(p) : undefined);
      const svc = facts.service;
      // Only the service account is told to take the tree: anyone else is sent to it (or to root).
      const hint =
        account.uid === 0
          ? `root was refused too, so the file system or the file forbids it: check the mount options and \`lsattr -d ${dir ?? 'PATH'}\``
          : svc === undefined
            ? 'run webtree as the service account the tree belongs to (apache.user in the site file), or as root'
            : svc.user !== account.user
              ? `run webtree as ${svc.user}, the service account the tree belongs to (\`sudo -u ${svc.user} webtree …\`), or as root`
              : `give the account access (as root: \`chown -R ${svc.user}:${svc.group} ${dir ?? 'PATH'}\`) or run webtree as root`;
      return new WebtreeError('EACCES', `permission denied: ${accountText(account)} may not ${what}`, {
        hint,
        cause: err,
      });
    }
  }
}

/** Who runs this process, with the name of its primary group. */
export async function currentAccount(): Promise<Account> {
  // Root working as the service account is refused as that account: name it.
  const { user, uid } = workingAs() ?? currentIdentity();
  const group = (await dbEntry('/etc/group', String(process.getegid?.()), 2))?.[0];
  return group ? { user, uid, group } : { user, uid };
}

/** /proc/self/mounts escapes blanks and backslashes in octal. */
const unescapeMount = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The longest mount point that contains the path (or its nearest existing ancestor). */
export async function mountOf(p: string): Promise<Mount | undefined> {
  let real = path.resolve(p);
  for (;;) {
    const r = await fs.realpath(real).catch(() => undefined);
    if (r !== undefined) {
      real = r;
      break;
    }
    if (path.dirname(real) === real) break;
    real = path.dirname(real);
  }
  const text = await fs.readFile('/proc/self/mounts', 'utf8').catch(() => '');
  let best: Mount | undefined;
  for (const line of text.split('\n')) {
    const [source, dir, fstype] = line.split(' ').map(unescapeMount);
    if (!dir || !fstype) continue;
    const inside = dir === '/' || real === dir || real.startsWith(dir + '/');
    if (inside && (!best || dir.length >= best.dir.length)) best = { dir, fstype, source };
  }
  return best;
}

async function accessDirOf(p: string): Promise<string> {
  const st = await fs.stat(p).catch(() => undefined);
  return st?.isDirectory() ? p : path.dirname(p);
}

/**
 * The boundary's mapping: an errno error webtree can explain becomes a WebtreeError (exit 1 with
 * a hint); anything else is returned as it was.
 */
export async function explainErrno(err: unknown, doing?: string): Promise<unknown> {
  if (!isSystemError(err)) return err;
  const p = err.path;
  const facts: ErrnoFacts = { account: await currentAccount(), ...(serviceAccount ? { service: serviceAccount } : {}) };
  if (p) {
    const mount = await mountOf(p);
    if (mount) facts.mount = mount;
    facts.accessDir = await accessDirOf(p);
  }
  return errnoError(err, facts, doing) ?? err;
}
