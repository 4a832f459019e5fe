/**
 * Run as root, webtree gives what it creates to the service account, so that Apache can write
 * its run and log dirs and the account can run webtree itself later. Names are looked up in
 * /etc/passwd and /etc/group (Node has no getpwnam); NSS-only accounts fall back to `id`.
 */
import fs from 'node:fs/promises';
import { execa } from 'execa';
import { WebtreeError } from '../core/errors.js';

export interface Owner {
  uid: number;
  gid: number;
}

async function lookup(file: string, name: string): Promise<number | undefined> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name) return Number(f[2]);
  }
  return undefined;
}

export async function resolveOwner(user: string, group: string): Promise<Owner> {
  let uid = await lookup('/etc/passwd', user);
  let gid = await lookup('/etc/group', group);
  if (uid === undefined) {
    const r = await execa('id', ['-u', user], { reject: false });
    if (r.exitCode === 0) uid = Number(r.stdout.trim());
  }
  if (gid === undefined) {
    const r = await execa('getent', ['group', group], { reject: false });
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
  return process.getuid?.() === 0 ? resolveOwner(user, group) : undefined;
}

export async function chownTree(p: string, o: Owner): Promise<void> {
  const st = await fs.lstat(p);
  await fs.lchown(p, o.uid, o.gid);
  if (st.isDirectory()) {
    for (const name of await fs.readdir(p)) await chownTree(`${p}/${name}`, o);
  }
}
