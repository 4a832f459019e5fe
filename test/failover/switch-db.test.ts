/**
 * switch-web against real PostgreSQL servers (the major installed here) on loopback: a primary (server3) and a
 * streaming standby (server2). Before promotion the standby is refused and nothing changes;
 * after it the switch goes through and every consumer reads server2's variant; then back.
 * In CI a missing PostgreSQL fails (pgBinOrSkip throws) instead of skipping.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHistory } from '../../src/state/history.js';
import { freePort } from '../helpers/http.js';
import { pgBinOrSkip, pgMajor, promote, startPrimary, startStandby, type PgCluster } from '../helpers/pg-cluster.js';
import { DB_USER } from '../helpers/pg-cluster.js';
import { ensureBuilt, initSandbox, webtree } from './cli.js';
import { consumerPaths } from './consumers.js';

const pgBin = pgBinOrSkip();

/** The site file as an operator edits it: the role the primary check connects as. */
async function useRole(config: string): Promise<void> {
  const text = await fs.readFile(config, 'utf8');
  await fs.writeFile(
    config,
    text
      .replace(/^(\s+)user: decam_reader$/m, `$1user: ${DB_USER}`)
      .replace(/^(\s+)connectTimeout: \d+$/m, '$1connectTimeout: 3'),
  );
}

const readAll = async (paths: string[]) => Promise.all(paths.map((p) => fs.readFile(p, 'utf8')));

describe.skipIf(!pgBin)('switch-web with real database servers', () => {
  let primary: PgCluster;
  let standby: PgCluster;
  const dirs: string[] = [];
  let env: Record<string, string>;
  beforeAll(async () => {
    ensureBuilt();
    primary = await startPrimary('server3');
    standby = await startStandby(primary, 'server2');
    env = { PGPASSWORD: primary.password, PGPASSFILE: '/nonexistent' };
  }, 180_000);
  afterAll(async () => {
    await standby?.stop();
    await primary?.stop();
    for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
  });

  async function sandbox(server2Port: number) {
    const s = await initSandbox([
      '--server',
      `server3=127.0.0.1:${primary.server.port}`,
      '--server',
      `server2=127.0.0.1:${server2Port}`,
    ]);
    dirs.push(s.dir);
    await useRole(s.config);
    return { ...s, ...(await consumerPaths(s.config)) };
  }

  it('refuses an unreachable server, changing nothing', async () => {
    const port = await freePort();
    const s = await sandbox(port);
    const before = await readAll(s.paths);
    const r = await webtree(s.config, ['switch-web', 'server2'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`server2 (127.0.0.1:${port}) refused the connection`);
    expect(r.stderr).toContain('nothing changed');
    expect(await readAll(s.paths)).toEqual(before);
    expect(await fs.readlink(path.join(s.site.paths.switch, 'active'))).toBe('server3');
  });

  it('refuses the standby before promotion, then switches once it is promoted, and back', async () => {
    const s = await sandbox(standby.server.port);
    const before = await readAll(s.paths);
    const refused = await webtree(s.config, ['switch-web', 'server2'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `server2 (127.0.0.1:${standby.server.port}) is a standby (pg_is_in_recovery() = true)`,
    );
    expect(await readAll(s.paths)).toEqual(before);
    expect(before.every((t) => t.includes('server3') && t.includes(String(primary.server.port)))).toBe(true);

    await promote(standby);
    const t0 = Date.now();
    // server3 still runs as a primary too: two masters, which only an explicit option gets past.
    const ok = await webtree(s.config, ['switch-web', 'server2', '--allow-split-brain'], env);
    const ms = Date.now() - t0;
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(
      new RegExp(
        `server2 \\(127\\.0\\.0\\.1:\\d+\\) is primary \\(pg_is_in_recovery\\(\\) = false, PostgreSQL ${pgMajor(pgBin!)}\\.`,
      ),
    );
    // Every consumer, ECL's settings.py included, reads server2's variant: its name and port.
    const after = await readAll(s.paths);
    expect(after.every((t) => t.includes('server2') && t.includes(String(standby.server.port)))).toBe(true);
    expect(await fs.realpath(path.join(s.site.ecl.dir, 'settings.py'))).toBe(
      path.join(s.site.ecl.dir, 'settings.py_server2'),
    );
    console.log(`switch-web to a promoted server with the primary check: ${ms} ms`);

    // server3 is now a master on an older timeline: refused, and only switched to without the database check.
    const refusedBack = await webtree(s.config, ['switch-web', 'server3'], env);
    expect(refusedBack.code).toBe(1);
    expect(refusedBack.stderr).toContain("is on timeline 1, behind the site's timeline 2");
    const back = await webtree(s.config, ['switch-web', 'server3', '--no-check-db'], env);
    expect(back.code, back.stderr).toBe(0);
    expect(await readAll(s.paths)).toEqual(before);
    const h = (await readHistory(path.join(s.site.paths.state, 'history.jsonl'))).filter(
      (e) => e.action === 'switch-web',
    );
    expect(h.map((e) => [e.to, e.outcome])).toEqual([
      ['server2', 'failed'],
      ['server2', 'ok'],
      ['server3', 'failed'],
      ['server3', 'ok'],
    ]);
    expect(h[0].message).toContain('is a standby');
    expect(h[1].message).toContain('is primary');
  }, 60_000);
});
