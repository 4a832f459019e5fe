/**
 * Run as root, webtree gives what it creates to the service account, so that Apache can write
 * its run and log dirs and the account can run webtree itself later. Names are looked up in
 * /etc/passwd and /etc/group (Node has no getpwnam); NSS-only accounts fall back to `id`.
 */
import fs from 'node:fs/promises';
import { runProcess } from '../core/exec.js';
import { WebtreeError } from '../core/errors.js';
import { dbEntry, dbLines } from '../core/identity.js';
import { dropToAccount } from '../core/privilege.js';

export interface Owner {
  uid: number;
  gid: number;
}

async function lookup(file: string, name: string): Promise<number | undefined> {
  const f = await dbEntry(file, name);
  return f ? Number(f[2]) : undefined;
}

/** The name of a user's primary group, where /etc/passwd and /etc/group know it. */
export async function primaryGroup(user: string): Promise<string | undefined> {
  const gid = (await dbEntry('/etc/passwd', user))?.[3];
  return gid === undefined ? undefined : (await dbEntry('/etc/group', gid, 2))?.[0];
}

export async function resolveOwner(user: string, group: string): Promise<Owner> {
  let uid = await lookup('/etc/passwd', user);
  let gid = await lookup('/etc/group', group);
  if (uid === undefined) {
    const r = await runProcess('id', ['-u', user]);
    if (r.exitCode === 0) uid = Number(r.stdout.trim());
  }
  if (gid === undefined) {
    const r = await runProcess('getent', ['group', group]);
    if (r.exitCode === 0) gid = Number(r.stdout.split(':')[2]);
  }
  if (uid === undefined || gid === undefined) {
    throw new WebtreeError('EPERM', `the service account ${user}:${group} does not exist on this host`, {
      hint: `create it (groupadd ${group}; useradd -g ${group} ${user}) or set apache.user/apache.group in the site file`,
    });
  }
  return { uid, gid };
}

/** The owner to give new files to: the service account when running as root, else none (they are ours). */
export async function ownerForThisProcess(user: string, group: string): Promise<Owner | undefined> {
  return process.geteuid?.() === 0 ? resolveOwner(user, group) : undefined;
}

/** Every group /etc/group lists the user in, besides its primary one. */
async function memberOf(user: string): Promise<number[]> {
  return dbLines('/etc/group')
    .filter((f) => f.length > 3 && f[3].split(',').includes(user))
    .map((f) => Number(f[2]));
}

/**
 * Run as root, from here on work as the site's service account (core/privilege.ts says why).
 * An account that does not exist is refused as resolveOwner says; as anyone else, nothing changes.
 */
export async function becomeServiceAccount(user: string, group: string): Promise<void> {
  if (process.geteuid?.() !== 0) return;
  const o = await resolveOwner(user, group);
  if (o.uid === 0) return;
  dropToAccount({ user, uid: o.uid, gid: o.gid }, await memberOf(user));
}

export async function chownTree(p: string, o: Owner): Promise<void> {
  const st = await fs.lstat(p);
  await fs.lchown(p, o.uid, o.gid);
  if (st.isDirectory()) {
    for (const name of await fs.readdir(p)) await chownTree(`${p}/${name}`, o);
  }
}
