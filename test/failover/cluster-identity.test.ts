/**
 * switch-web knows which database cluster the site serves, against real PostgreSQL 15 on
 * loopback: a primary (server3), its streaming standby (server2), a standby with hot_standby =
 * off, and an unrelated cluster of its own initdb. init and adopt record the cluster; a target
 * of another cluster, a second reachable primary, a master on an older timeline are refused; a
 * role without the grant is warned about; an HTTP server on the port is named; going back after
 * a failed health check is refused when the server we came from is not safe. In CI a missing
 * PostgreSQL fails (pgBinOrSkip throws) instead of skipping.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import { runSwitchWeb } from '../../src/commands/switch-web.js';
import type { CommandContext } from '../../src/commands/types.js';
import { WebtreeError } from '../../src/core/errors.js';
import { createReporter } from '../../src/core/reporter.js';
import type { RestartAndCheck } from '../../src/failover/restart.js';
import { loadSite } from '../../src/site/load.js';
import { readHistory } from '../../src/state/history.js';
import { freePort } from '../helpers/http.js';
import {
  adminQuery,
  DB_NAME,
  DB_USER,
  pgBinOrSkip,
  promote,
  startPrimary,
  startStandby,
  type PgCluster,
} from '../helpers/pg-cluster.js';
import { ensureBuilt, webtree } from './cli.js';
import { handTree } from './hand-tree.js';

const pgBin = pgBinOrSkip();

/** The site file as an operator edits it: the role the checks connect as, a short timeout. */
async function useRole(config: string): Promise<void> {
  const text = await fs.readFile(config, 'utf8');
  await fs.writeFile(
    config,
    text
      .replace(/^(\s+)user: decam_reader$/m, `$1user: ${DB_USER}`)
      .replace(/^(\s+)connectTimeout: \d+$/m, '$1connectTimeout: 3'),
  );
}

const sysid = async (c: PgCluster) =>
  String((await adminQuery(c, 'SELECT system_identifier::text AS id FROM pg_control_system()')).rows[0].id);

describe.skipIf(!pgBin)('switch-web and the identity of the database cluster', () => {
  let primary: PgCluster;
  let standby: PgCluster;
  let cold: PgCluster; // a standby with hot_standby = off
  let other: PgCluster; // an unrelated cluster
  let env: Record<string, string>;
  const dirs: string[] = [];

  beforeAll(async () => {
    ensureBuilt();
    primary = await startPrimary('server3');
    // The role init writes into the site file: init asks the database as it (before the base backups, so the standbys have it).
    await adminQuery(primary, `CREATE ROLE decam_reader LOGIN PASSWORD '${primary.password}'`);
    // One base backup at a time: two at once may each checkpoint away the WAL the other still needs.
    const unrelated = startPrimary('server2', { password: primary.password });
    standby = await startStandby(primary, 'server2');
    cold = await startStandby(primary, 'server2', ['hot_standby = off']);
    other = await unrelated;
    await adminQuery(other, `CREATE ROLE decam_reader LOGIN PASSWORD '${primary.password}'`);
    env = { PGPASSWORD: primary.password, PGPASSFILE: '/nonexistent' };
  }, 180_000);
  afterAll(async () => {
    for (const c of [cold, standby, other, primary]) await c?.stop();
    for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
  });

  /** init --prefix with the two servers, given the password as an operator's shell would. */
  async function init(server3Port: number, server2Port: number) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-id-'));
    dirs.push(dir);
    await fs.chmod(dir, 0o755);
    const config = path.join(dir, 'webtree.yaml');
    const r = await webtree(
      config,
      [
        'init',
        '--prefix',
        dir,
        '--server',
        `server3=127.0.0.1:${server3Port}`,
        '--server',
        `server2=127.0.0.1:${server2Port}`,
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    return { dir, config, stderr: r.stderr };
  }

  async function sandbox(server3Port: number, server2Port: number) {
    const s = await init(server3Port, server2Port);
    await useRole(s.config);
    const site = await loadSite(s.config);
    const cluster = async () => JSON.parse(await fs.readFile(path.join(site.paths.state, 'cluster.json'), 'utf8'));
    const history = async () =>
      (await readHistory(path.join(site.paths.state, 'history.jsonl'))).filter((e) => e.action === 'switch-web');
    const active = () => fs.readlink(path.join(site.paths.switch, 'active'));
    return { ...s, site, cluster, history, active };
  }

  it("init records the cluster it serves; a standby with hot_standby = off is named with PostgreSQL's own detail", async () => {
    const s = await init(primary.server.port, cold.server.port);
    expect(s.stderr).toMatch(
      /server3 \(127\.0\.0\.1:\d+\) is a primary, cluster system_identifier \d+, timeline 1: recorded/,
    );
    const site = await loadSite(s.config);
    const rec = JSON.parse(await fs.readFile(path.join(site.paths.state, 'cluster.json'), 'utf8'));
    expect(rec).toMatchObject({ server: 'server3', systemIdentifier: await sysid(primary), timeline: 1, by: 'init' });

    await useRole(s.config);
    const r = await webtree(s.config, ['switch-web', 'server2'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Hot standby mode is disabled');
    expect(r.stderr).toContain('it is a standby with hot_standby = off');
    expect(r.stderr).toContain('nothing changed');
  });

  it('refuses a target that is another, unrelated cluster, and records the refusal', async () => {
    const s = await sandbox(primary.server.port, other.server.port);
    const r = await webtree(s.config, ['switch-web', 'server2'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `server2 (127.0.0.1:${other.server.port}) is another database cluster (system_identifier ${await sysid(other)})`,
    );
    expect(r.stderr).toContain('nothing changed');
    expect(await s.active()).toBe('server3');
    expect((await s.history()).at(-1)).toMatchObject({ to: 'server2', outcome: 'failed' });
    expect((await s.history()).at(-1)!.message).toContain('is another database cluster');
  });

  it('names an HTTP server on the database port as not PostgreSQL', async () => {
    const web = http.createServer((_req, res) => res.end('hello\n'));
    const port = await freePort();
    await new Promise<void>((ok) => web.listen(port, '127.0.0.1', ok));
    try {
      const s = await sandbox(primary.server.port, port);
      const r = await webtree(s.config, ['switch-web', 'server2'], env);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `server2 \\(127\\.0\\.0\\.1:${port}\\) is not PostgreSQL: an HTTP server answers on that port \\("HTTP/1\\.1 400`,
        ),
      );
    } finally {
      web.close();
    }
  });

  it('warns when the role may not read the cluster identity, and says which grant it needs', async () => {
    await adminQuery(other, 'REVOKE EXECUTE ON FUNCTION pg_control_system() FROM public', DB_NAME); // per database: the one the site reads
    try {
      const s = await sandbox(1, other.server.port); // server3: loopback port 1, nothing listens
      expect(s.stderr).toContain('database cluster not recorded (server3 (127.0.0.1:1) refused the connection');
      const r = await webtree(s.config, ['switch-web', 'server2'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr, r.stdout).toContain(
        `role "${DB_USER}" may not call pg_control_system(), so the cluster identity cannot be checked`,
      );
      expect(r.stderr).toContain(`GRANT pg_monitor TO ${DB_USER};`);
      expect(await s.cluster()).toMatchObject({
        server: 'server2',
        systemIdentifier: null,
        timeline: 1,
        by: 'switch-web',
      });
      expect((await s.history()).at(-1)!.message).toContain('warning: role');
    } finally {
      await adminQuery(other, 'GRANT EXECUTE ON FUNCTION pg_control_system() TO public', DB_NAME);
    }
  });

  it('refuses a second reachable primary unless --allow-split-brain, then refuses the old master on its older timeline', async () => {
    const s = await sandbox(primary.server.port, standby.server.port);
    expect(await s.cluster()).toMatchObject({ systemIdentifier: await sysid(primary), timeline: 1 });
    await promote(standby);

    const split = await webtree(s.config, ['switch-web', 'server2'], env);
    expect(split.code).toBe(1);
    expect(split.stderr).toContain(
      `server3 (127.0.0.1:${primary.server.port}) (timeline 1) is also a reachable primary: two masters (split brain)`,
    );
    expect(split.stderr).toContain('--allow-split-brain');
    expect(await s.active()).toBe('server3');

    const ok = await webtree(s.config, ['switch-web', 'server2', '--allow-split-brain'], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('switched anyway (--allow-split-brain)');
    expect(ok.stdout).toContain('same cluster');
    expect(ok.stdout).toContain('timeline 2 (recorded 1)');
    // The printed rebuild step makes a standby, and the runbook says what needs a restart and a reload.
    expect(ok.stdout).toMatch(/pg_basebackup -h 127\.0\.0\.1 -D DATADIR -R /);
    expect(ok.stdout).toContain('archive_mode takes effect only after a restart');
    expect(ok.stdout).toContain('pg_hba.conf is read only at a reload');
    expect(await s.cluster()).toMatchObject({
      server: 'server2',
      systemIdentifier: await sysid(primary),
      timeline: 2,
      by: 'switch-web',
    });

    const back = await webtree(s.config, ['switch-web', 'server3', '--allow-split-brain'], env);
    expect(back.code).toBe(1);
    expect(back.stderr).toContain(
      `server3 (127.0.0.1:${primary.server.port}) is on timeline 1, behind the site's timeline 2`,
    );
    expect(await s.active()).toBe('server2');
    expect((await s.history()).map((e) => e.outcome)).toEqual(['failed', 'ok', 'failed']);
  }, 60_000);

  it('after a failed health check, goes back only to a server checked like a target: server3 stopped, it stays and says so', async () => {
    // server2 was promoted above; the site's record is server3's cluster on timeline 1.
    const s = await sandbox(primary.server.port, standby.server.port);
    await primary.stop();
    const seen: (string[] | undefined)[] = [];
    const failing: RestartAndCheck = async (_site, _catalog, before) => {
      seen.push(before);
      return {
        ok: false,
        restarted: true,
        report: 'FAIL http://127.0.0.1:8080/TV 500',
        failing: ['http://127.0.0.1:8080/TV'],
      };
    };
    const out: string[] = [];
    const ctx: CommandContext = {
      positionals: ['server2'],
      options: {},
      dryRun: false,
      debug: false,
      config: s.config,
      env: { ...process.env, ...env },
      reporter: createReporter(false, { out: (x) => out.push(x), err: (x) => out.push(x) }),
      site: () => loadSite(s.config),
      catalog: () => loadCatalog(),
    };
    const saved = { PGPASSWORD: process.env.PGPASSWORD, PGPASSFILE: process.env.PGPASSFILE };
    Object.assign(process.env, env); // the password lookup reads this process's environment
    try {
      const err = await runSwitchWeb(ctx, failing).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WebtreeError);
      expect((err as WebtreeError).message).toBe(
        'the health check after switching to server2 failed (http://127.0.0.1:8080/TV); going back to server3 is not safe, so the web tools stay on server2',
      );
      expect((err as WebtreeError).details).toContain(
        `not going back: server3 (127.0.0.1:${primary.server.port}) refused the connection`,
      );
      expect((err as WebtreeError).hint).toContain('run switch-web server3');
    } finally {
      for (const [k, v] of Object.entries(saved))
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
    expect(seen).toEqual([undefined]); // Apache not running: no health known from before the switch
    expect(await s.active()).toBe('server2');
    const h = await s.history();
    expect(h.map((e) => [e.from, e.to, e.outcome])).toEqual([
      ['server3', 'server2', 'ok'],
      ['server3', 'server2', 'failed'],
    ]);
    expect(h[1].message).toMatch(
      /^stayed on server2: the health check after switching to server2 failed .*going back to server3 is not safe/,
    );
  }, 60_000);

  it('adopt records the cluster the adopted tree serves', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-adopt-id-'));
    dirs.push(dir);
    await fs.chmod(dir, 0o755);
    const { config } = await handTree(dir, {
      qeServer3: true,
      servers: [
        { name: 'server3', host: '127.0.0.1', port: standby.server.port },
        { name: 'server2', host: '127.0.0.1', port: 1 },
      ],
    });
    await useRole(config);
    const r = await webtree(config, ['adopt'], env);
    expect(r.code, r.stderr).toBe(0);
    const site = await loadSite(config);
    const rec = JSON.parse(await fs.readFile(path.join(site.paths.state, 'cluster.json'), 'utf8'));
    expect(rec).toMatchObject({ server: 'server3', systemIdentifier: await sysid(standby), timeline: 2, by: 'adopt' });
  });
});
