/** The boundary's mapping of errno errors: pure with the facts given, and on real errors from the kernel. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errnoError, explainErrno, mountOf, type ErrnoFacts } from '../../src/core/errno.js';
import { WebtreeError } from '../../src/core/errors.js';

/** An error shaped as Node's fs gives it (code, syscall, path). */
const sysErr = (code: string, syscall: string, p?: string) =>
  Object.assign(new Error(`${code}: ${syscall}${p ? ` '${p}'` : ''}`), {
    code,
    syscall,
    errno: -1,
    ...(p ? { path: p } : {}),
  });

const codemanager: ErrnoFacts = { account: { user: 'codemanager', uid: 999, group: 'sispi' } };
const tmpfs = { dir: '/srv/products', fstype: 'tmpfs', source: 'webtree-test' };

describe('errnoError', () => {
  it('ENOSPC: the disk is full, with the path, the file system and df -h on its mount', () => {
    const e = errnoError(sysErr('ENOSPC', 'write', '/srv/products/tv/.webtree-staging-3.4/big.bin'), {
      ...codemanager,
      mount: tmpfs,
    })!;
    expect(e).toBeInstanceOf(WebtreeError);
    expect(e.code).toBe('ENOSPC');
    expect(e.exitCode).toBe(1);
    expect(e.message).toBe(
      'the disk is full: could not write /srv/products/tv/.webtree-staging-3.4/big.bin (tmpfs webtree-test mounted on /srv/products)',
    );
    expect(e.hint).toContain('free space on /srv/products (`df -h /srv/products` shows what is left');
    expect(e.hint).toContain('webtree prune PRODUCT --keep N');
  });

  it('ENOSPC without a path (a write on a file handle) still says the disk is full', () => {
    const e = errnoError(sysErr('ENOSPC', 'write'), codemanager)!;
    expect(e.message).toBe('the disk is full: could not write (the system did not say which file)');
    expect(e.hint).toContain('`df -h`');
  });

  it("EDQUOT: the account's quota, named with the account", () => {
    const e = errnoError(sysErr('EDQUOT', 'open', '/home/x/f'), codemanager)!;
    expect(e.code).toBe('ENOSPC');
    expect(e.message).toBe('the disk quota of codemanager (uid 999) is used up: could not open /home/x/f');
    expect(e.hint).toContain('quota -u codemanager');
  });

  it('EACCES: the account (name and uid), the operation, the path, and the chown that fixes it', () => {
    const e = errnoError(sysErr('EACCES', 'mkdir', '/srv/products/tv/3.4'), {
      ...codemanager,
      accessDir: '/srv/products/tv',
      service: { user: 'codemanager', group: 'sispi' },
    })!;
    expect(e.code).toBe('EACCES');
    expect(e.exitCode).toBe(1);
    expect(e.message).toBe(
      'permission denied: codemanager (uid 999) may not create the directory /srv/products/tv/3.4',
    );
    expect(e.hint).toBe(
      'give the account access (as root: `chown -R codemanager:sispi /srv/products/tv`) or run webtree as root',
    );
  });

  it('EACCES without an access dir gives the parent to the account; `doing` replaces the operation', () => {
    const e = errnoError(
      sysErr('EACCES', 'open', '/srv/www/state/lock.ab12'),
      { ...codemanager, service: { user: 'codemanager', group: 'sispi' } },
      "take webtree's lock in /srv/www/state",
    )!;
    expect(e.message).toBe("permission denied: codemanager (uid 999) may not take webtree's lock in /srv/www/state");
    expect(e.hint).toContain('chown -R codemanager:sispi /srv/www/state');
  });

  it('EACCES for an account that is not the service account: never told to take the tree itself', () => {
    const e = errnoError(sysErr('EACCES', 'mkdir', '/srv/products/tv/3.4'), {
      account: { user: 'alice', uid: 1001, group: 'alice' },
      accessDir: '/srv/products/tv',
      service: { user: 'codemanager', group: 'sispi' },
    })!;
    expect(e.hint).toBe(
      'run webtree as codemanager, the service account the tree belongs to (`sudo -u codemanager webtree …`), or as root',
    );
    expect(e.hint).not.toMatch(/chown[^`]*alice/);
    const unknown = errnoError(sysErr('EACCES', 'mkdir', '/srv/products/tv/3.4'), {
      account: { user: 'alice', uid: 1001, group: 'alice' },
    })!;
    expect(unknown.hint).not.toMatch(/chown/);
  });

  it('EPERM as root: running as root is no fix, the file system or the file forbids it', () => {
    const e = errnoError(sysErr('EPERM', 'rename', '/srv/www/html/TV'), {
      account: { user: 'root', uid: 0, group: 'root' },
    })!;
    expect(e.code).toBe('EACCES');
    expect(e.message).toBe('permission denied: root (uid 0) may not rename /srv/www/html/TV');
    expect(e.hint).toMatch(/root was refused too.*lsattr -d \/srv\/www\/html/);
  });

  it('EROFS: a read-only file system, with the remount', () => {
    const e = errnoError(sysErr('EROFS', 'open', '/srv/www/conf/httpd.conf'), {
      ...codemanager,
      mount: { dir: '/srv', fstype: 'ext4', source: '/dev/sdb1' },
    })!;
    expect(e.code).toBe('EROFS');
    expect(e.message).toBe(
      'the file system is read-only: could not open /srv/www/conf/httpd.conf (ext4 /dev/sdb1 mounted on /srv)',
    );
    expect(e.hint).toContain('mount -o remount,rw /srv');
  });

  it('leaves every other error alone', () => {
    expect(errnoError(sysErr('ENOENT', 'open', '/x'), codemanager)).toBeUndefined();
    expect(errnoError(new Error('plain'), codemanager)).toBeUndefined();
    expect(errnoError('a string', codemanager)).toBeUndefined();
    // A WebtreeError's code may be spelled like errno's: it is already explained.
    expect(errnoError(new WebtreeError('ENOSPC', 'the disk is full: already said'), codemanager)).toBeUndefined();
  });
});

describe('explainErrno on real errors', () => {
  it('a write to /dev/full (ENOSPC from the kernel) becomes "the disk is full"', async () => {
    const err = await fs.writeFile('/dev/full', 'x').then(
      () => undefined,
      (e: unknown) => e,
    );
    const e = (await explainErrno(err)) as WebtreeError;
    expect(e).toBeInstanceOf(WebtreeError);
    expect(e.code).toBe('ENOSPC');
    expect(e.message).toMatch(/^the disk is full: could not write/);
  });

  it('a missing file is returned unchanged', async () => {
    const err = await fs.readFile(path.join(os.tmpdir(), 'webtree-no-such-file')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(await explainErrno(err)).toBe(err);
  });

  it('mountOf finds the mount of a path that does not exist yet from its nearest ancestor', async () => {
    const root = await mountOf('/');
    expect(root?.dir).toBe('/');
    const m = await mountOf(path.join(os.tmpdir(), 'webtree-missing', 'deeper'));
    expect(m).toBeDefined();
    expect(path.join(os.tmpdir(), 'x').startsWith(m!.dir === '/' ? '/' : `${m!.dir}/`)).toBe(true);
  });
});
