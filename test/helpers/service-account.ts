/**
 * The service account the Apache tests run httpd as: codemanager in group sispi, as on the
 * telescope's web host. Created here when missing (idempotent; .ci/run creates it too), as a
 * system account with no login shell: everything must work through runuser/su -s.
 */
import { execa } from 'execa';

export const SERVICE_USER = 'codemanager';
export const SERVICE_GROUP = 'sispi';

async function getent(db: 'passwd' | 'group', name: string): Promise<string[] | undefined> {
  const r = await execa('getent', [db, name], { reject: false });
  return r.exitCode === 0 ? r.stdout.trim().split(':') : undefined;
}

/**
 * uid, primary gid and primary group's name of the account, creating group and user when missing
 * (root only). The group is read from the system, as webtree reads it (init's default
 * apache.group, the chown in its hints): an existing account may have another primary group than
 * SERVICE_GROUP.
 */
export async function ensureServiceAccount(
  user = SERVICE_USER,
  group = SERVICE_GROUP,
): Promise<{ uid: number; gid: number; group: string }> {
  const isRoot = process.getuid?.() === 0;
  if (!(await getent('group', group))) {
    if (!isRoot) throw new Error(`group ${group} is missing and only root can create it: groupadd -r ${group}`);
    await execa('groupadd', ['-r', group], { reject: false });
    if (!(await getent('group', group))) throw new Error(`could not create the group ${group}`);
  }
  let pw = await getent('passwd', user);
  if (!pw) {
    if (!isRoot)
      throw new Error(
        `user ${user} is missing and only root can create it: useradd -r -g ${group} -s /usr/sbin/nologin ${user}`,
      );
    // A race with a parallel test file or .ci/run creating it too is fine: check again after.
    await execa('useradd', ['-r', '-g', group, '-s', '/usr/sbin/nologin', '-d', '/nonexistent', '-M', user], {
      reject: false,
    });
    pw = await getent('passwd', user);
    if (!pw) throw new Error(`could not create the service account ${user}`);
  }
  const gid = Number(pw[3]);
  const primary = (await getent('group', String(gid)))?.[0];
  if (!primary) throw new Error(`the primary group (gid ${gid}) of ${user} has no name in the group database`);
  return { uid: Number(pw[2]), gid, group: primary };
}
