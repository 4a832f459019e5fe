/**
 * `webtree apache install-service|uninstall-service`: the rendered unit or init script under
 * /etc, enabled as systemctl enable / update-rc.d do it on disk. The tests point the /etc at a
 * temporary directory (WEBTREE_SERVICE_ROOT, for tests only) and never start systemd. Real
 * processes: root runs the built CLI; the service account is refused through runuser.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox, type Sandbox } from '../helpers/cli.js';
import { ensureServiceAccount } from '../helpers/service-account.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) {
  if (process.env.CI === 'true')
    describe('apache install-service', () =>
      it('runs as root', () => {
        throw new Error('these tests run as root (CI runs them as root)');
      }));
  else console.warn('skipping the install-service tests: they run as root');
}

/** Every entry under dir: path, type, mode, owner, and content or link target. */
async function listing(dir: string): Promise<string[]> {
  const r = await execa('find', [dir, '-printf', '%P %y %m %u %l\\n']);
  return r.stdout.split('\n').sort();
}

describe.runIf(isRoot)('apache install-service|uninstall-service (root, a temporary /etc)', () => {
  let sb: Sandbox;
  let root: string;
  let env: Record<string, string>;
  const etc = (p: string) => path.join(root, 'etc', p);

  beforeAll(async () => {
    await ensureServiceAccount();
    // Port 80, the production default: the unit must let the account bind it.
    sb = await makeSandbox([], { listen: '127.0.0.1:80' });
    expect((await sb.run(['render'])).exitCode).toBe(0);
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-etc-'));
    await fs.mkdir(path.join(root, 'etc'));
    env = { WEBTREE_SERVICE_ROOT: root };
  }, 120_000);

  afterAll(async () => {
    await sb?.cleanup();
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  it("--systemd: the rendered unit (CAP_NET_BIND_SERVICE for :80), enabled; again changes nothing; uninstall removes only what is webtree's", async () => {
    const rendered = await fs.readFile(path.join(sb.dir, 'site', 'www', 'init.d', 'webtree-httpd.service'), 'utf8');
    expect(rendered).toMatch(/^User=codemanager$/m);
    expect(rendered).toMatch(/^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m);

    const empty = await listing(root);
    const dry = await sb.run(['apache', 'install-service', '--systemd', '--dry-run'], env);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`write ${etc('systemd/system/webtree-httpd.service')}`);
    expect(await listing(root)).toEqual(empty);

    // The service account may not: refused before anything is read or written.
    const asAccount = await execa(
      'runuser',
      ['-u', 'codemanager', '--', ...sb.argv(['apache', 'install-service', '--systemd'])],
      { reject: false, env },
    );
    expect(asAccount.exitCode).toBe(1);
    expect(asAccount.stderr).toMatch(/only root may run it/);
    expect(await listing(root)).toEqual(empty);

    const r = await sb.run(['apache', 'install-service', '--systemd'], env);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/install and enable the systemd service .*: done\n.*systemctl start webtree-httpd/);
    const unit = etc('systemd/system/webtree-httpd.service');
    expect(await fs.readFile(unit, 'utf8')).toBe(rendered);
    const st = await fs.stat(unit);
    expect({ mode: st.mode & 0o7777, uid: st.uid, gid: st.gid }).toEqual({ mode: 0o644, uid: 0, gid: 0 });
    expect(await fs.readlink(etc('systemd/system/multi-user.target.wants/webtree-httpd.service'))).toBe(
      '/etc/systemd/system/webtree-httpd.service',
    );
    const after = await listing(root);

    const again = await sb.run(['apache', 'install-service', '--systemd'], env);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/installed and enabled as rendered: nothing to do/);
    expect(await listing(root)).toEqual(after);
    expect((await fs.stat(unit)).mtimeMs).toBe(st.mtimeMs);
    const h = JSON.parse((await sb.run(['history', '--json'])).stdout).entries;
    expect(h.filter((e: { action: string }) => e.action === 'install-service')).toHaveLength(1);

    // A unit edited by hand is not webtree's any more: uninstall takes the link, leaves the file.
    await fs.appendFile(unit, 'Environment=EDITED=1\n');
    const u1 = await sb.run(['apache', 'uninstall-service', '--systemd'], env);
    expect(u1.exitCode, u1.stderr).toBe(0);
    expect(u1.stderr).toMatch(/left .*webtree-httpd\.service: its content is not what webtree renders/);
    expect(
      await fs.lstat(etc('systemd/system/multi-user.target.wants/webtree-httpd.service')).catch(() => null),
    ).toBeNull();
    expect(await fs.readFile(unit, 'utf8')).toContain('EDITED=1');
    // install puts webtree's back (its header says it is webtree's), then uninstall removes it all.
    expect((await sb.run(['apache', 'install-service', '--systemd'], env)).exitCode).toBe(0);
    expect(await fs.readFile(unit, 'utf8')).toBe(rendered);
    const u2 = await sb.run(['apache', 'uninstall-service', '--systemd'], env);
    expect(u2.exitCode, u2.stderr).toBe(0);
    expect(await fs.lstat(unit).catch(() => null)).toBeNull();
    expect((await sb.run(['apache', 'uninstall-service', '--systemd'], env)).stdout).toMatch(
      /no systemd service of webtree's is installed: nothing to do/,
    );
    // Root kept root for /etc only: nothing it left in the tree (lock, journal, history) is root's.
    expect((await execa('find', [path.join(sb.dir, 'site'), '-uid', '0'])).stdout.trim()).toBe('');
  }, 120_000);

  it("--sysv: the init script 0755 and its rc?.d links; a file not webtree's is refused; uninstall removes each", async () => {
    const script = etc('init.d/webtree-httpd');
    await fs.mkdir(path.dirname(script), { recursive: true });
    await fs.writeFile(script, '#!/bin/sh\n# a hand-made one\n');
    const refused = await sb.run(['apache', 'install-service', '--sysv'], env);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/webtree-httpd is there and is not webtree's/);
    expect(await fs.readFile(script, 'utf8')).toContain('hand-made');
    await fs.rm(script);

    const r = await sb.run(['apache', 'install-service', '--sysv'], env);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await fs.readFile(script, 'utf8')).toBe(
      await fs.readFile(path.join(sb.dir, 'site', 'www', 'init.d', 'httpd'), 'utf8'),
    );
    expect((await fs.stat(script)).mode & 0o7777).toBe(0o755);
    for (const n of ['2', '3', '4', '5'])
      expect(await fs.readlink(etc(`rc${n}.d/S85webtree-httpd`))).toBe('../init.d/webtree-httpd');
    for (const n of ['0', '1', '6'])
      expect(await fs.readlink(etc(`rc${n}.d/K15webtree-httpd`))).toBe('../init.d/webtree-httpd');
    // The script the links name runs: its usage answers (no start: nothing is started here).
    const usage = await execa(etc('rc2.d/S85webtree-httpd'), ['bogus'], { reject: false });
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toMatch(/usage: .*start\|stop\|status/);

    const u = await sb.run(['apache', 'uninstall-service', '--sysv'], env);
    expect(u.exitCode, u.stderr).toBe(0);
    const left = (await listing(root)).filter((l) => /webtree/.test(l));
    expect(left).toEqual([]);
  }, 120_000);
});
