/**
 * sispi.webtree.facts, switch_web and apache over real SSH: one sshd on loopback, two inventory
 * hosts (two sandbox sites) that Ansible reaches through it. What the modules did is checked with
 * webtree itself, and check mode against the trees' bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/http.js';
import { apacheMissing } from '../helpers/apache-env.js';
import { ensureServiceAccount } from '../helpers/service-account.js';
import { Fleet, recap, report, reported, skipWithoutAnsible, snapshot } from './fleet.js';

const missing = skipWithoutAnsible('sispi.webtree facts, switch_web and apache modules');
const HOSTS = ['web1', 'web2'];
// A playbook run is seconds on a quiet machine and much more on a shared, loaded one.
const SLOW = 240_000;

describe.skipIf(missing)('sispi.webtree modules over SSH', () => {
  let fleet: Fleet;
  const status = async (host: string) => {
    const r = await runCli(['--config', fleet.host(host).config, 'status', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };
  const sites = async () =>
    Object.fromEntries(await Promise.all(HOSTS.map(async (h) => [h, await snapshot(fleet.host(h).site)])));
  const common = { webtree: '{{ webtree_command }}', config: '{{ webtree_config }}' };

  beforeAll(async () => {
    await ensureServiceAccount();
    fleet = await Fleet.start(HOSTS, [await freePort(), await freePort()]);
  }, 180_000);

  afterAll(async () => {
    if (fleet) await fleet.stop();
  }, 60_000);

  it(
    'facts: each host, reached over SSH, reports its own site as ansible_facts.webtree',
    async () => {
      const book = await fleet.tasksPlaybook('facts', [
        { 'ansible.builtin.command': { argv: ['printenv', 'SSH_CONNECTION'] }, register: 'ssh', changed_when: false },
        { 'sispi.webtree.facts': common },
        report("{'ssh': ssh.stdout, 'facts': ansible_facts.webtree}"),
      ]);
      const r = await fleet.playbook(book);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      const rec = recap(r.stdout);
      const got = reported(r.stdout);
      for (const h of HOSTS) {
        expect(rec[h]).toMatchObject({ failed: 0, changed: 0, unreachable: 0 });
        // SSH_CONNECTION is "client-ip client-port server-ip server-port": the module ran through our sshd.
        expect(got[h].ssh).toMatch(new RegExp(`^127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${fleet.sshd.port}$`));
        expect(got[h].facts).toEqual(await status(h));
        expect(got[h].facts.site).toBe(fleet.host(h).config);
      }
    },
    SLOW,
  );

  it(
    'switch_web: check mode changes nothing; the switch is changed once, then changed=false on the active server',
    async () => {
      const to = (server: string, check = false) => ({
        'sispi.webtree.switch_web': { ...common, server, check_db: false },
        register: 'sw',
        ...(check ? { check_mode: true } : {}),
      });
      const before = await sites();
      const check = await fleet.playbook(
        await fleet.tasksPlaybook('switch-check', [to('server2', true), report('sw')]),
      );
      expect(check.exitCode, check.stdout).toBe(0);
      for (const h of HOSTS) {
        expect(recap(check.stdout)[h]).toMatchObject({ changed: 1, failed: 0 });
        expect(reported(check.stdout)[h]).toMatchObject({ changed: true, server: 'server2', from: 'server3' });
      }
      expect(await sites()).toEqual(before);
      for (const h of HOSTS) expect((await status(h)).server).toBe('server3');

      const book = await fleet.tasksPlaybook(
        'switch',
        [
          to('server2'),
          report("{'first': sw}"),
          to('server2'),
          report("{'again': sw}"),
          to('server2', true),
          report("{'check': sw}"),
        ].flatMap((t) => [t]),
      );
      const r = await fleet.playbook(book, ['--diff']);
      expect(r.exitCode, r.stdout).toBe(0);
      for (const h of HOSTS) {
        expect(recap(r.stdout)[h]).toMatchObject({ changed: 1, failed: 0 });
        expect((await status(h)).server).toBe('server2');
      }
      expect(r.stdout).toMatch(/^-server: server3\n\+server: server2$/m);
      // Only the last report of each host is kept by reported(); read the three in order instead.
      const all = [...r.stdout.matchAll(/^ok: \[(web\d)\] => \{\n\s+"msg": (".*")\n\}$/gm)].map(
        (m) => [m[1], JSON.parse(JSON.parse(m[2]))] as const,
      );
      for (const h of HOSTS) {
        const mine = Object.assign({}, ...all.filter(([x]) => x === h).map(([, v]) => v));
        expect(mine.first).toMatchObject({ changed: true, server: 'server2', from: 'server3' });
        expect(mine.first.checks).toContain('database not checked (--no-check-db)');
        expect(mine.again).toMatchObject({ changed: false, server: 'server2', from: 'server2' });
        expect(mine.check).toMatchObject({ changed: false });
      }
    },
    SLOW,
  );

  it.skipIf(apacheMissing && process.env.CI !== 'true')(
    'apache: started and stopped are idempotent, reloaded is a graceful, check mode runs no verb',
    async () => {
      if (apacheMissing) throw new Error(apacheMissing);
      const web1 = fleet.host('web1');
      const rendered = await runCli(['--config', web1.config, 'render']);
      expect(rendered.exitCode, rendered.stderr).toBe(0);
      const state = (s: string, reg: string, check = false) => ({
        'sispi.webtree.apache': { ...common, state: s },
        register: reg,
        ...(check ? { check_mode: true } : {}),
      });
      const book = await fleet.tasksPlaybook('apache', [
        state('started', 'a1', true),
        state('started', 'a2'),
        state('started', 'a3'),
        state('reloaded', 'a4'),
        state('stopped', 'a5', true),
        state('stopped', 'a6'),
        state('stopped', 'a7'),
        report('[a1, a2, a3, a4, a5, a6, a7]'),
      ]);
      const r = await fleet.playbook(book, ['--limit', 'web1']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      // a1 and a5 (check mode: would), a2, a4, a6; not a3 and a7.
      expect(recap(r.stdout).web1).toMatchObject({ changed: 5, failed: 0 });
      const [a1, a2, a3, a4, a5, a6, a7] = reported(r.stdout).web1;
      expect(a1).toMatchObject({ changed: true, running: false, verb: null }); // check mode: would start
      expect(a2).toMatchObject({ changed: true, running: true, verb: 'start' }); // so a1 did not start it
      expect(a2.apps.every((a: any) => a.ok)).toBe(true);
      expect(a3).toMatchObject({ changed: false, running: true, pid: a2.pid, verb: null });
      // graceful keeps the parent process: the same pid.
      expect(a4).toMatchObject({ changed: true, running: true, pid: a2.pid, verb: 'graceful' });
      expect(a5).toMatchObject({ changed: true, running: true, verb: null }); // check mode: would stop
      expect(a6).toMatchObject({ changed: true, running: false, verb: 'stop' }); // so a5 did not stop it
      expect(a7).toMatchObject({ changed: false, running: false, verb: null });
      expect((await status('web1')).apache).toEqual({ running: false, pid: null });
    },
    SLOW,
  );
});
