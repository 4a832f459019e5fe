/**
 * webtree check against the real thing: the sample site installed through the CLI, served by the
 * real Apache + mod_wsgi as codemanager, two real PostgreSQL 15 servers (a primary and a
 * streaming standby), a real SMTP server (smtp-server) whose mails are parsed (mailparser), a
 * real node_exporter serving the textfile, promtool, and headless Chromium loading the page.
 * The tests run in order on one site. Everything listens on 127.0.0.1 and is stopped at the end.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonPids } from '../../src/apache/apps.js';
import { findOurProcesses } from '../../src/apache/process.js';
import { FIRST_VERSIONS, ECL_SAMPLE_APP, writeSampleArchive } from '../../src/demo/samples.js';
import { loadSite } from '../../src/site/load.js';
import type { Site } from '../../src/site/types.js';
import { APACHE_INSTALL, skipWithoutApache } from '../helpers/apache-env.js';
import { makeSandbox, type Sandbox } from '../helpers/cli.js';
import { freePort, get } from '../helpers/http.js';
import { DB_USER, pgBinOrSkip, promote, startPrimary, startStandby, type PgCluster } from '../helpers/pg-cluster.js';
import { ensureServiceAccount } from '../helpers/service-account.js';
import { chromiumMissing, loadInChromium } from './chromium.js';

const missing = skipWithoutApache('webtree check');
const pgBin = pgBinOrSkip();
const TOOLS = ['/usr/bin/promtool', '/usr/bin/prometheus-node-exporter'];

describe.skipIf(missing || !pgBin)(
  `webtree check end to end (needs: ${APACHE_INSTALL}, postgresql, prometheus, prometheus-node-exporter, chromium)`,
  () => {
    let sb: Sandbox;
    let site: Site;
    let primary: PgCluster;
    let standby: PgCluster;
    let smtp: SMTPServer;
    let exporter: ResultPromise | undefined;
    let exporterPort: number;
    const mails: ParsedMail[] = [];
    let env: Record<string, string>;
    const textfile = () => path.join(sb.dir, 'metrics', 'webtree.prom');
    const check = async () => {
      const r = await sb.run(['check', '--json'], env);
      expect(r.stderr, r.stdout).toBe('');
      expect(JSON.parse(r.stdout).error, r.stdout).toBeUndefined();
      return { code: r.exitCode, ...JSON.parse(r.stdout) };
    };
    const metrics = () => fs.readFile(textfile(), 'utf8');
    const page = () => fs.readFile(site.watch.page, 'utf8');
    const mailCount = async (n: number) => {
      // smtp-server hands the message over after nodemailer's QUIT; give it a moment.
      for (let i = 0; i < 50 && mails.length < n; i++) await new Promise((r) => setTimeout(r, 100));
      expect(mails.length).toBe(n);
    };

    beforeAll(async () => {
      for (const t of TOOLS) {
        if (!(await fs.stat(t).catch(() => undefined)))
          throw new Error(`${t} is missing: apt-get install prometheus prometheus-node-exporter`);
      }
      const account = await ensureServiceAccount();
      [primary, exporterPort] = await Promise.all([startPrimary('server3'), freePort()]);
      standby = await startStandby(primary, 'server2');
      env = { PGPASSWORD: primary.password, PGPASSFILE: '/nonexistent' };
      smtp = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS', 'AUTH'],
        logger: false,
        onData(stream, _session, done) {
          simpleParser(stream).then((m) => (mails.push(m), done()), done);
        },
      });
      const smtpPort = await freePort();
      await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));
      const port = await freePort();
      sb = await makeSandbox(
        [
          '--server',
          `server3=127.0.0.1:${primary.server.port}`,
          '--server',
          `server2=127.0.0.1:${standby.server.port}`,
        ],
        { listen: `127.0.0.1:${port}` },
      );
      // The site file as an operator edits it: the role, short timeouts, the watching settings.
      let text = await fs.readFile(sb.config, 'utf8');
      text = text
        .replace(/^(\s+)user: decam_reader$/m, `$1user: ${DB_USER}`)
        .replace(/^(\s+)connectTimeout: \d+$/m, '$1connectTimeout: 3')
        .replace(/^(\s+)healthTimeout: \d+$/m, '$1healthTimeout: 6')
        .replace(
          /^watch:\n/m,
          `watch:\n  textfile: ${textfile()}\n  minFreeMiB: 1\n  minFreePercent: 1\n  mail:\n    to: postgres-status@example.org\n    smtp: 127.0.0.1:${smtpPort}\n`,
        )
        .replace(/^  # textfile:.*\n/m, '')
        .replace(/^  minFreeMiB: 1024\n/m, '')
        .replace(/^  minFreePercent: 5\n/m, '')
        .replace(/^  # mail:\n(    # .*\n)*/m, '');
      text += 'probes:\n  TV:\n    path: /TV\n    expect: "TV 3."\n';
      await fs.writeFile(sb.config, text);
      site = await loadSite(sb.config);
      // node_exporter's textfile directory, writable by the account webtree runs as (root drops to it).
      await fs.mkdir(path.dirname(textfile()));
      await fs.chown(path.dirname(textfile()), account.uid, account.gid);
      const archives = path.join(sb.dir, 'archives');
      await fs.mkdir(archives);
      const lic = path.join(archives, 'chartdir.lic');
      await fs.writeFile(lic, 'licence\n');
      for (const [p, v] of FIRST_VERSIONS) {
        const r = await sb.run([
          'install',
          await writeSampleArchive(archives, p, v),
          ...(p === 'ChartDirector' ? ['--license', lic] : []),
        ]);
        expect(r.exitCode, r.stderr).toBe(0);
      }
      const ecl = path.join(site.ecl.dir, 'ecl.wsgi');
      await fs.writeFile(ecl, ECL_SAMPLE_APP, { mode: 0o644 });
      await fs.chown(ecl, account.uid, account.gid);
      for (const args of [['render'], ['apache', 'start']]) {
        const r = await sb.run(args, env);
        expect(r.exitCode, r.stderr).toBe(0);
      }
    }, 240_000);

    afterAll(async () => {
      exporter?.kill('SIGTERM');
      await exporter?.catch(() => undefined);
      if (sb) {
        await sb.run(['apache', 'stop']);
        for (const pid of await findOurProcesses(site.paths.www)) process.kill(pid, 'SIGKILL');
      }
      await new Promise((r) => (smtp ? smtp.close(() => r(undefined)) : r(undefined)));
      await standby?.stop();
      await primary?.stop();
      await sb?.cleanup();
    }, 60_000);

    it('healthy: every app answers its probe, server3 primary, server2 standby; no mail', async () => {
      const r = await check();
      expect(r.findings).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.apps.map((a: { app: string; up: boolean }) => [a.app, a.up])).toEqual([
        ['TV', true],
        ['ConstantsDB', true],
        ['AV', true],
        ['QE', true],
        ['EXPO', true],
        ['ECL', true],
      ]);
      expect(r.servers.map((s: { name: string; up: boolean; primary: boolean }) => [s.name, s.up, s.primary])).toEqual([
        ['server3', true, true],
        ['server2', true, false],
      ]);
      expect(r.active).toBe('server3');
      expect(await metrics()).toContain('webtree_check_ok 1');
      expect(await page()).toContain('HEALTHY');
      await mailCount(0);
    }, 60_000);

    it('the metrics pass promtool, and a real node_exporter serves them', async () => {
      const lint = await execa('promtool', ['check', 'metrics'], { input: await metrics(), reject: false, all: true });
      expect(lint.exitCode, lint.all).toBe(0);
      exporter = execa(
        'prometheus-node-exporter',
        [
          `--web.listen-address=127.0.0.1:${exporterPort}`,
          '--collector.disable-defaults',
          '--collector.textfile',
          `--collector.textfile.directory=${path.dirname(textfile())}`,
        ],
        { reject: false },
      );
      let body = '';
      for (let i = 0; i < 50 && !body.includes('webtree_check_ok'); i++) {
        body = (await get(`http://127.0.0.1:${exporterPort}/metrics`)).body;
        if (!body.includes('webtree_check_ok')) await new Promise((r) => setTimeout(r, 100));
      }
      for (const want of [
        'webtree_check_ok 1',
        'webtree_apache_up 1',
        'webtree_app_up{app="TV"} 1',
        'webtree_db_primary{server="server3"} 1',
        'webtree_db_primary{server="server2"} 0',
        'webtree_active_server_info{server="server3"} 1',
        'webtree_product_info{product="TV",version="3.3a"} 1',
        'webtree_findings 0',
      ])
        expect(body).toContain(want);
      expect(body).toMatch(/^webtree_app_probe_seconds\{app="QE"\} [0-9.e-]+$/m);
      expect(body).toMatch(/^webtree_check_timestamp_seconds [0-9.e+]+$/m);
      expect(body).toMatch(/^webtree_last_change_timestamp_seconds [0-9.e+]+$/m);
      expect(body).toContain('node_textfile_scrape_error 0');
    }, 60_000);

    it("one app's daemon stops answering: its probe fails, the metric and the page say so, one mail; the same state again mails nothing", async () => {
      const pids = await daemonPids(site, 'TV');
      expect(pids.length).toBeGreaterThan(0);
      for (const pid of pids) process.kill(pid, 'SIGSTOP');
      try {
        const r = await check();
        expect(r.code).toBe(1);
        expect(r.findings).toEqual([
          expect.objectContaining({
            code: 'app-down',
            thing: 'TV',
            fix: expect.stringContaining('webtree apache graceful'),
          }),
        ]);
        expect(r.apps.find((a: { app: string }) => a.app === 'TV')).toMatchObject({ up: false, status: null });
        expect(await metrics()).toContain('webtree_app_up{app="TV"} 0');
        expect(await metrics()).toContain('webtree_app_up{app="AV"} 1');
        expect(await page()).toMatch(/PROBLEM: 1 finding[\s\S]*<b>TV<\/b>/);
        await mailCount(1);
        expect(mails[0].subject).toMatch(/PROBLEM: healthy -> finding/);
        expect(mails[0].to).toMatchObject({ text: 'postgres-status@example.org' });
        expect(mails[0].text).toContain('FAIL TV');
        // The page as a browser shows it, while something is wrong.
        if (!chromiumMissing()) {
          const shown = await loadInChromium(site.watch.page, process.env.WEBTREE_SCREENSHOT);
          expect(shown.dom).toContain('PROBLEM: 1 finding');
          expect(shown.dom).toMatch(/<td>TV<\/td><td><b>3\.3a<\/b><\/td>/);
          expect(shown.dom).toMatch(/<b id="active">server3<\/b>/);
          expect(shown.requests).toEqual([]);
          expect(shown.screenshotBytes).toBeGreaterThan(10_000);
        } else if (process.env.CI === 'true') throw new Error(chromiumMissing());
        const again = await check();
        expect(again.code).toBe(1);
        await new Promise((r) => setTimeout(r, 500));
        await mailCount(1);
      } finally {
        for (const pid of pids) process.kill(pid, 'SIGCONT');
      }
      const healed = await check();
      expect(healed.code).toBe(0);
      await mailCount(2);
      expect(mails[1].subject).toMatch(/OK: finding -> healthy/);
    }, 120_000);

    it('failover: primary stopped -> a finding; standby promoted -> the finding names switch-web server2; after it, healthy', async () => {
      const before = mails.length;
      await primary.stop();
      const down = await check();
      expect(down.code).toBe(1);
      expect(down.findings).toEqual([
        expect.objectContaining({
          code: 'active-down',
          thing: 'server3',
          fix: expect.stringMatching(/^promote the standby/),
        }),
      ]);
      expect(await metrics()).toContain('webtree_db_up{server="server3"} 0');
      await promote(standby);
      const promoted = await check();
      expect(promoted.findings).toEqual([
        expect.objectContaining({ code: 'active-down', thing: 'server3', fix: 'webtree switch-web server2' }),
      ]);
      expect(await page()).toContain('webtree switch-web server2');
      const sw = await sb.run(['switch-web', 'server2'], env);
      expect(sw.exitCode, sw.stderr).toBe(0);
      // switch-web itself mails, and rewrites the page with the new active server.
      expect(await page()).toMatch(/<b id="active">server2<\/b>/);
      const healthy = await check();
      expect(healthy.code).toBe(0);
      expect(healthy.active).toBe('server2');
      expect(await metrics()).toContain('webtree_active_server_info{server="server2"} 1');
      // One mail per transition: down, the switch itself, healthy again. The promotion left the
      // same finding standing (only its fix changed), which is no new finding.
      await mailCount(before + 3);
      expect(mails.slice(before).map((m) => m.subject)).toEqual([
        expect.stringMatching(/PROBLEM: healthy -> finding$/),
        expect.stringMatching(/switch-web server3 -> server2 \(ok\)$/),
        expect.stringMatching(/OK: finding -> healthy$/),
      ]);
    }, 120_000);
  },
);
