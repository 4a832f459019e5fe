/**
 * switch-web's going back, through the built CLI against the real Apache + mod_wsgi of this host:
 * when an app fails on the new server's settings, the switch back is recorded like a product's
 * auto-rollback (outcome rolled-back), and the app answers again on the server it came from.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ECL_SAMPLE_APP } from '../../src/demo/samples.js';
import { skipWithoutApache } from '../helpers/apache-env.js';
import { makeApacheSandbox, stopApacheSandbox, type ApacheSandbox } from '../helpers/apache-sandbox.js';
import { get } from '../helpers/http.js';

const missing = skipWithoutApache('switch-web switch-back');

describe.skipIf(missing)('switch-web switch back after a failed health check (end to end)', () => {
  let sb: ApacheSandbox;
  const ecl = (...p: string[]) => sb.site('www', 'wsgi', 'ECL', 'decam', ...p);

  beforeAll(async () => {
    sb = await makeApacheSandbox();
    for (const [f, text] of [
      ['ecl.wsgi', ECL_SAMPLE_APP],
      ['settings.py_server3', "DATABASE_SERVER = 'server3'\n"],
      ['settings.py_server2', "raise RuntimeError('server2 settings broken')\n"],
    ]) {
      await sb.put(ecl(f), text);
    }
    await sb.serve();
  }, 120_000);

  afterAll(() => stopApacheSandbox(sb), 60_000);

  it('records the switch back with outcome rolled-back, and ECL answers on server3 again', async () => {
    expect((await get(sb.url('/ECL'))).body).toBe('ECL server=server3');
    const r = await sb.run(['switch-web', 'server2', '--no-check-db']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /the health check after switching to server2 failed \(http:\/\/127\.0\.0\.1:\d+\/ECL\); switched back to server3/,
    );
    expect((await get(sb.url('/ECL'))).body).toBe('ECL server=server3');
    const h = (await sb.json(['history'])).entries.filter((e: { action: string }) => e.action === 'switch-web');
    expect(
      h.map((e: { from: string; to: string; outcome: string; undo?: boolean }) => [
        e.from,
        e.to,
        e.outcome,
        e.undo ?? false,
      ]),
    ).toEqual([
      ['server3', 'server2', 'ok', false],
      ['server2', 'server3', 'rolled-back', true],
    ]);
    expect(h[1].message).toContain('switched back: the health check after switching to server2 failed');
  }, 120_000);
});
