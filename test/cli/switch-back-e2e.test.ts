/**
 * switch-web's going back, through the built CLI against the real Apache + mod_wsgi of this host:
 * when an app fails on the new server's settings, the switch back is recorded like a product's
 * auto-rollback (outcome rolled-back), and the app answers again on the server it came from.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOurProcesses } from '../../src/apache/process.js';
import { makeSandbox, type Sandbox } from '../helpers/cli.js';
import { freePort, get } from '../helpers/http.js';
import { ensureServiceAccount } from '../helpers/service-account.js';

const HTTPD = '/usr/sbin/apache2';
const WSGI = '/usr/lib/apache2/modules/mod_wsgi.so';
const INSTALL = 'apt-get install apache2 libapache2-mod-wsgi-py3';
const missing = !existsSync(HTTPD) || !existsSync(WSGI) ? `Apache with mod_wsgi not found (${HTTPD}, ${WSGI}): ${INSTALL}`
  : process.getuid?.() !== 0 ? 'these tests run as root: they start Apache as codemanager' : undefined;
if (missing && process.env.CI === 'true') {
  describe('switch-web switch back (end to end)', () => it('needs Apache 2.4 with mod_wsgi, as root', () => { throw new Error(missing); }));
} else if (missing) console.warn(`skipping the switch-web switch-back end-to-end test: ${missing}`);

/** ECL reads its settings.py (through the switch) at every request: a broken variant fails it. */
const ECL_APP = `import os
HERE = os.path.dirname(os.path.abspath(__file__))

def application(environ, start_response):
    ns = {}
    exec(open(os.path.join(HERE, 'settings.py')).read(), ns)
    body = ('ECL server=%s\\n' % ns.get('DATABASE_SERVER')).encode('utf-8')
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [body]
`;

describe.skipIf(!!missing)('switch-web switch back after a failed health check (end to end)', () => {
  let sb: Sandbox;
  let port: number;
  const ecl = (...p: string[]) => path.join(sb.dir, 'site', 'www', 'wsgi', 'ECL', 'decam', ...p);
  const www = () => path.join(sb.dir, 'site', 'www');

  beforeAll(async () => {
    const account = await ensureServiceAccount();
    port = await freePort();
    sb = await makeSandbox([], { listen: `127.0.0.1:${port}` });
    for (const [f, text] of [['ecl.wsgi', ECL_APP], ['settings.py_server3', "DATABASE_SERVER = 'server3'\n"], ['settings.py_server2', "raise RuntimeError('server2 settings broken')\n"]]) {
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
    expect(r.stderr).toMatch(/the health check after switching to server2 failed; switched back to server3/);
    expect((await get(`http://127.0.0.1:${port}/ECL`)).body).toBe('ECL server=server3');
    const h = (await sb.json(['history'])).entries.filter((e: { action: string }) => e.action === 'switch-web');
    expect(h.map((e: { from: string; to: string; outcome: string; undo?: boolean }) => [e.from, e.to, e.outcome, e.undo ?? false])).toEqual([
      ['server3', 'server2', 'ok', false],
      ['server2', 'server3', 'rolled-back', true],
    ]);
    expect(h[1].message).toContain('switched back: the health check after switching to server2 failed');
  }, 120_000);
});
