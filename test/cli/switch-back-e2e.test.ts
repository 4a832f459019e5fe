/**
 * switch-web's going back, through the built CLI against the real Apache + mod_wsgi of this host:
 * when an app fails on the new server's settings, the switch back is recorded like a product's
 * auto-rollback (outcome rolled-back), and the app answers again on the server it came from.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOurProcesses } from '../../src/apache/process.js';
import { makeSandbox, type Sandbox } from '../helpers/cli.js';
import { freePort, get } from '../helpers/http.js';
import { ensureServiceAccount } from '../helpers/service-account.js';
import { skipWithoutApache } from '../helpers/apache-env.js';
import { ECL_SAMPLE_APP } from '../../src/demo/samples.js';

const missing = skipWithoutApache('switch-web switch-back');


describe.skipIf(missing)('switch-web switch back after a failed health check (end to end)', () => {
  let sb: Sandbox;
  let port: number;
  const ecl = (...p: string[]) => path.join(sb.dir, 'site', 'www', 'wsgi', 'ECL', 'decam', ...p);
  const www = () => path.join(sb.dir, 'site', 'www');

  beforeAll(async () => {
    const account = await ensureServiceAccount();
    port = await freePort();
    sb = await makeSandbox([], { listen: `127.0.0.1:${port}` });
    for (const [f, text] of [['ecl.wsgi', ECL_SAMPLE_APP], ['settings.py_server3', "DATABASE_SERVER = 'server3'\n"], ['settings.py_server2', "raise RuntimeError('server2 settings broken')\n"]]) {
      await fs.writeFile(ecl(f), text, { mode: 0o644 });
      await fs.chown(ecl(f), account.uid, account.gid);
    }
    for (const args of [['render'], ['apache', 'start']]) {
      const r = await sb.run(args);
      expect(r.exitCode, `webtree ${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
    }
  }, 120_000);

  afterAll(async () => {
    if (!sb) return;
    await sb.run(['apache', 'stop']);
    for (const pid of await findOurProcesses(www())) process.kill(pid, 'SIGKILL');
    await sb.cleanup();
  }, 60_000);

  it('records the switch back with outcome rolled-back, and ECL answers on server3 again', async () => {
    expect((await get(`http://127.0.0.1:${port}/ECL`)).body).toBe('ECL server=server3');
    const r = await sb.run(['switch-web', 'server2', '--no-check-db']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/the health check after switching to server2 failed \(http:\/\/127\.0\.0\.1:\d+\/ECL\); switched back to server3/);
    expect((await get(`http://127.0.0.1:${port}/ECL`)).body).toBe('ECL server=server3');
    const h = (await sb.json(['history'])).entries.filter((e: { action: string }) => e.action === 'switch-web');
    expect(h.map((e: { from: string; to: string; outcome: string; undo?: boolean }) => [e.from, e.to, e.outcome, e.undo ?? false])).toEqual([
      ['server3', 'server2', 'ok', false],
      ['server2', 'server3', 'rolled-back', true],
    ]);
    expect(h[1].message).toContain('switched back: the health check after switching to server2 failed');
  }, 120_000);
});
