/**
 * The restart + health check after a switch, with the check injected: a failure must switch
 * back, say so (exit 1) and leave both switches in the history. Run in-process against a real
 * sandbox tree (laid out by the built CLI's init).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import { runSwitchWeb } from '../../src/commands/switch-web.js';
import type { CommandContext } from '../../src/commands/types.js';
import { WebtreeError } from '../../src/core/errors.js';
import { createReporter } from '../../src/core/reporter.js';
import type { RestartAndCheck } from '../../src/failover/restart.js';
import { restartAndCheck } from '../../src/failover/restart.js';
import { loadSite } from '../../src/site/load.js';
import { readHistory } from '../../src/state/history.js';
import { ensureBuilt, initSandbox } from './cli.js';
import { consumerPaths, readServers } from './consumers.js';

const dirs: string[] = [];
beforeAll(() => ensureBuilt(), 120_000);
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

function context(config: string, server: string, options: CommandContext['options'] = {}) {
  const out: string[] = [];
  const ctx: CommandContext = {
    positionals: [server],
    options,
    dryRun: false,
    debug: false,
    config,
    env: process.env,
    reporter: createReporter(false, { out: (s) => out.push(s), err: (s) => out.push(s) }),
    site: () => loadSite(config),
    catalog: () => loadCatalog(),
  };
  return { ctx, out };
}

describe('switch-web restart and health check', () => {
  it('a failed health check switches back, says so, and records both', async () => {
    const s = await initSandbox();
    dirs.push(s.dir);
    const { paths, site } = await consumerPaths(s.config);
    const seen: string[][] = [];
    // Fails while the consumers read server2, passes once they are back on server3.
    const check: RestartAndCheck = async () => {
      const servers = Object.values(readServers(paths));
      seen.push(servers);
      return servers.every((x) => x === 'server3')
        ? { ok: true, restarted: true, report: 'all answered' }
        : { ok: false, restarted: true, report: 'FAIL http://127.0.0.1:8080/TV 500' };
    };
    const { ctx } = context(s.config, 'server2', { 'no-check-db': true });
    const err = await runSwitchWeb(ctx, check).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WebtreeError);
    expect((err as WebtreeError).exitCode).toBe(1);
    expect((err as WebtreeError).message).toBe(
      'the health check after switching to server2 failed; switched back to server3',
    );
    expect((err as WebtreeError).details).toContain('FAIL http://127.0.0.1:8080/TV 500');
    expect((err as WebtreeError).details).toContain('after switching back to server3: all answered');
    expect(seen).toEqual([paths.map(() => 'server2'), paths.map(() => 'server3')]);
    expect(Object.values(readServers(paths))).toEqual(paths.map(() => 'server3'));
    const h = (await readHistory(path.join(site.paths.state, 'history.jsonl'))).filter(
      (e) => e.action === 'switch-web',
    );
    expect(h.map((e) => [e.from, e.to, e.outcome, e.undo ?? false])).toEqual([
      ['server3', 'server2', 'ok', false],
      ['server2', 'server3', 'rolled-back', true],
    ]);
    expect(h[1].message).toContain('switched back: the health check after switching to server2 failed');
  });

  it('a passing check reports what it did; --no-restart skips it', async () => {
    const s = await initSandbox();
    dirs.push(s.dir);
    let calls = 0;
    const check: RestartAndCheck = async () => (
      (calls += 1),
      { ok: true, restarted: true, report: 'graceful restart done; all 5 health checks answered' }
    );
    const a = context(s.config, 'server2', { 'no-check-db': true });
    expect(await runSwitchWeb(a.ctx, check)).toBe(0);
    expect(a.out.join('')).toContain('restart: graceful restart done; all 5 health checks answered');
    const b = context(s.config, 'server3', { 'no-check-db': true, 'no-restart': true });
    expect(await runSwitchWeb(b.ctx, check)).toBe(0);
    expect(calls).toBe(1);
    expect(b.out.join('')).toContain('not restarted (--no-restart)');
  });

  it('the default check is a no-op, and says so, when Apache is not running', async () => {
    const s = await initSandbox();
    dirs.push(s.dir);
    const site = await loadSite(s.config);
    await fs.writeFile(path.join(site.paths.www, 'run', 'httpd.pid'), '999999\n'); // stale: no such process
    expect(await restartAndCheck(site, await loadCatalog())).toEqual({
      ok: true,
      restarted: false,
      report: 'apache not running: no restart needed (it reads the new cfg files when it starts)',
    });
  });
});
