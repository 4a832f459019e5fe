/**
 * Run as root, webtree does its work in the tree as the service account. The tree belongs to
 * that account, and root working by path inside it could be sent anywhere by a directory the
 * account swaps for a link mid-change (O_NOFOLLOW guards only the last component). So once the
 * site file names the account, the process takes its groups, gid and uid as its *effective*
 * ids: every open, rename, link and unlink the kernel checks is then checked as the account,
 * and a planted `tv -> /root/target` leads only where the account could go itself.
 *
 * Effective ids only: the real and saved uid stay 0, so that the few steps that need root can
 * take it back for one synchronous call (spawning runuser or setpriv to start Apache as the
 * account, init's root-owned parents, service files under /etc). glibc applies set*id to every
 * thread of the process (the libuv pool and the unpack worker too), and a window is opened only
 * around a synchronous call, so no tree operation in flight runs in it. Signals and ptrace from
 * the account stay refused: the kernel compares them with the real and saved ids.
 */
import { currentIdentity, dbEntry } from './identity.js';

export interface Dropped {
  user: string;
  uid: number;
  gid: number;
  groups: number[];
}

let dropped: Dropped | undefined;
let rootGroups: number[] = [];

/** The account this root process works as, or undefined when it works as itself. */
export const workingAs = (): Dropped | undefined => dropped;

let asLogin: Promise<boolean> | undefined;

/**
 * Does this process work as `user` with the very ids `runuser -u user` would give it: that
 * uid, /etc/passwd's primary group, and the groups /etc/group lists it in (the drop takes those)?
 * Then whatever this process opens, the account can open, and asking again through runuser
 * would only repeat the answer. False outside a drop, or when the site's group is not the
 * account's primary one.
 */
export function workingAsLogin(user: string): Promise<boolean> {
  const d = dropped;
  if (d?.user !== user) return Promise.resolve(false);
  asLogin ??= dbEntry('/etc/passwd', user).then(
    (f) => f !== undefined && Number(f[2]) === d.uid && Number(f[3]) === d.gid,
  );
  return asLogin;
}

/** Take the account's ids as the effective ones (root only; anyone else is already who they are). */
export function dropToAccount(
  account: { user: string; uid: number; gid: number },
  groups: number[] = [account.gid],
): void {
  if (dropped || process.geteuid?.() !== 0 || account.uid === 0) return;
  currentIdentity(); // who ran webtree is remembered before the ids change (history, lock)
  rootGroups = process.getgroups?.() ?? [];
  const g = [...new Set([account.gid, ...groups])];
  process.setgroups!(g);
  process.setegid!(account.gid);
  process.seteuid!(account.uid);
  dropped = { ...account, groups: g };
}

/**
 * Run fn (synchronous: a spawn, one system call) with root's effective ids, then go back to
 * the account's. Outside a drop it just runs fn.
 */
export function withRoot<T>(fn: () => T): T {
  const d = dropped;
  if (!d) return fn();
  process.seteuid!(0);
  process.setegid!(0);
  process.setgroups!(rootGroups);
  try {
    return fn();
  } finally {
    process.setgroups!(d.groups);
    process.setegid!(d.gid);
    process.seteuid!(d.uid);
  }
}

/**
 * access(2) answers for the real uid, which stays 0 during a drop: it would say yes to
 * anything. This asks with the effective ids from the mode bits (no ACLs on the tree). rwx: 4, 2, 1.
 */
export function effectiveAllows(
  st: { uid: number; gid: number; mode: number },
  want: number,
  who?: { uid: number; groups: number[] },
): boolean {
  const uid = who?.uid ?? process.geteuid?.() ?? -1;
  if (uid === 0) return true;
  const groups = new Set(who?.groups ?? [process.getegid?.() ?? -1, ...(process.getgroups?.() ?? [])]);
  const bits = st.uid === uid ? st.mode >> 6 : groups.has(st.gid) ? st.mode >> 3 : st.mode;
  return (bits & want) === want;
}
