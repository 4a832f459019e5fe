/**
 * No request cut short, against the real Apache + mod_wsgi of this host: a 12-second request in
 * flight while switch-web, activate and rollback restart the app's daemon completes with 200
 * (the daemons drain: processes, graceful-timeout and shutdown-timeout from the site file);
 * under ab load, 20 switches each with a slow request in flight fail no request. Also: an app
 * that already failed before a switch is no reason to go back, and Ctrl-C during the health
 * check lets the check finish, then exits 130. WEBTREE_INFLIGHT_SWITCHES makes the load run longer.
 */
import fs from 'node:fs/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHistory } from '../../src/state/history.js';
import { skipWithoutApache } from '../helpers/apache-env.js';
import { makeApacheSandbox, stopApacheSandbox, type ApacheSandbox } from '../helpers/apache-sandbox.js';

const missing = skipWithoutApache('requests in flight during a switch');
const SWITCHES = Number(process.env.WEBTREE_INFLIGHT_SWITCHES ?? 20);

/** ECL reads settings.py at every request; ?sleep=N makes it a slow report. The answer's length never varies (ab counts that). */
const SLOW_ECL = `import os, time
HERE = os.path.dirname(os.path.abspath(__file__))

def application(environ, start_response):
    ns = {}
    exec(open(os.path.join(HERE, 'settings.py')).read(), ns)
    q = environ.get('QUERY_STRING', '')
    if q.startswith('sleep='):
        time.sleep(float(q[6:]))
    body = ('ECL server=%s\\n' % ns.get('DATABASE_SERVER')).encode('utf-8')
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
`;

async function slowGet(url: string): Promise<{ status: number; body: string; ms: number }> {
  const t0 = Date.now();
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(60_000) });
    return { status: r.status, body: (await r.text()).trim(), ms: Date.now() - t0 };
  } catch (err) {
    return { status: 0, body: String((err as Error).cause ?? err), ms: Date.now() - t0 };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(missing)('requests in flight during a switch, an activate and a rollback (end to end)', () => {
  let sb: ApacheSandbox;
  const site = (...p: string[]) => sb.site(...p);
  const ecl = (f: string) => site('www', 'wsgi', 'ECL', 'decam', f);
  const url = (p: string) => sb.url(p);
  const put = (p: string, text: string) => sb.put(p, text);
  const ok = (args: string[]) => sb.ok(args);

  beforeAll(async () => {
    sb = await makeApacheSandbox();
    await put(ecl('ecl.wsgi'), SLOW_ECL);
    // A python library: its activation and rollback restart every app's daemon, ECL's too.
    await sb.install([
      ['dbiapp_pylib', 'v1_4a'],
      ['dbiapp_pylib', 'v1_4b'],
      ['QE', '2.0'],
    ]);
    await sb.serve();
  }, 180_000);

  afterAll(() => stopApacheSandbox(sb), 60_000);

  it('the conf.d file gives each daemon the drain settings of the site file', async () => {
    const conf = await fs.readFile(site('www', 'conf.d', 'ECL.conf'), 'utf8');
    expect(conf).toMatch(/^WSGIDaemonProcess ECL processes=2 graceful-timeout=35 shutdown-timeout=35 /m);
  });

  it('a 12-second request in flight during a switch, an activate and a rollback completes with 200', async () => {
    const slow: Promise<{ status: number; body: string; ms: number }>[] = [];
    const inFlight = async () => {
      slow.push(slowGet(url('/ECL?sleep=12')));
      await sleep(700); // reaches the daemon before the restart
    };
    await inFlight();
    await ok(['switch-web', 'server2', '--no-check-db']);
    expect((await slowGet(url('/ECL'))).body).toBe('ECL server=server2');
    await inFlight();
    await ok(['activate', 'dbiapp_pylib', 'v1_4a']);
    await inFlight();
    await ok(['rollback', 'dbiapp_pylib']);
    const done = await Promise.all(slow);
    for (const r of done) {
      expect(r.status, r.body).toBe(200);
      expect(r.ms).toBeGreaterThanOrEqual(12_000);
    }
  }, 120_000);

  it(`under ab load, ${SWITCHES} switches each with a 12-second request in flight: 0 failed requests`, async () => {
    const ab = execa('ab', ['-q', '-c', '2', '-t', '600', '-n', '20000000', '-s', '60', url('/ECL')], {
      reject: false,
    });
    const slow: Promise<{ status: number; body: string; ms: number }>[] = [];
    const start = Date.now();
    // A slow request every 3 s: each lasts 12 s, so four overlap and every switch has some in flight.
    const stagger = setInterval(() => slow.push(slowGet(url('/ECL?sleep=12'))), 3000);
    slow.push(slowGet(url('/ECL?sleep=12')));
    await sleep(500);
    try {
      for (let i = 0; i < SWITCHES; i++) {
        const to = i % 2 === 0 ? 'server3' : 'server2';
        const r = await ok(['switch-web', to, '--no-check-db']);
        // A daemon busy with a slow request keeps its pid until the request ends: that is no reason
        // for a graceful, which would cut the request short.
        expect(r.stdout + r.stderr, `switch ${i + 1}`).not.toMatch(/graceful/);
        if (i === 0) console.log(`switch-web said:\n${r.stdout}${r.stderr}`);
      }
    } finally {
      clearInterval(stagger);
    }
    const results = await Promise.all(slow);
    ab.kill('SIGINT'); // ab prints its report on SIGINT
    const r = await ab;
    const failed = Number(/Failed requests:\s+(\d+)/.exec(String(r.stdout))?.[1]);
    const complete = Number(/Complete requests:\s+(\d+)/.exec(String(r.stdout))?.[1]);
    const non2xx = Number(/Non-2xx responses:\s+(\d+)/.exec(String(r.stdout))?.[1] ?? 0);
    console.log(
      `${SWITCHES} switches in ${Date.now() - start} ms under ab: ${complete} requests, ${failed} failed, ${non2xx} non-2xx; ${results.length} slow requests`,
    );
    expect(complete).toBeGreaterThan(0);
    expect(failed, String(r.stdout)).toBe(0);
    expect(non2xx).toBe(0);
    expect(results.filter((x) => x.status !== 200)).toEqual([]);
  }, 300_000);

  it('an app failing before the switch is no reason to go back; one the switch breaks is', async () => {
    const qe = (await fs.readdir(site('dbwebtools', 'QEngine'))).find((d) => d === '2.0')!;
    const script = site('dbwebtools', 'QEngine', qe, 'QE.wsgi');
    const good = await fs.readFile(script, 'utf8');
    await put(script, "raise RuntimeError('QE broken for a reason of its own')\n");
    try {
      const active = await fs.readlink(site('www', 'servers', 'active'));
      const other = active === 'server2' ? 'server3' : 'server2';
      const r = await sb.run(['switch-web', other, '--no-check-db']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        /1 of 3 health checks failed \(1 of them before the switch too, which the switch did not cause\)/,
      );
      expect(r.stdout).toMatch(/FAIL http:\/\/127\.0\.0\.1:\d+\/QE\/DECam 500 \(failed before the switch too\)/);

      // Now a failure the switch brings: ECL breaks on the other server, and webtree goes back.
      const broken = await fs.readFile(ecl(`settings.py_${active}`), 'utf8');
      await put(ecl(`settings.py_${active}`), "raise RuntimeError('broken settings')\n");
      try {
        const back = await sb.run(['switch-web', active, '--no-check-db']);
        expect(back.exitCode).toBe(1);
        expect(back.stderr).toMatch(
          new RegExp(
            `the health check after switching to ${active} failed \\(http://127\\.0\\.0\\.1:\\d+/ECL\\); switched back to ${other}`,
          ),
        );
      } finally {
        await put(ecl(`settings.py_${active}`), broken);
      }
    } finally {
      await put(script, good);
    }
  }, 120_000);

  it('Ctrl-C during the health check: the check runs to its end, then the command exits 130', async () => {
    const active = await fs.readlink(site('www', 'servers', 'active'));
    const other = active === 'server2' ? 'server3' : 'server2';
    const v = ecl(`settings.py_${other}`);
    const text = await fs.readFile(v, 'utf8');
    await put(v, `import time\ntime.sleep(3)\n${text}`); // every ECL request on `other` takes 3 s: the check is slow
    try {
      const history = site('www', 'state', 'history.jsonl');
      const before = (await readHistory(history)).length;
      const child = sb.spawn(['switch-web', other, '--no-check-db']);
      for (let i = 0; i < 200 && (await readHistory(history)).length === before; i++) await sleep(50);
      await sleep(500); // the swap is done; the restart and health check are running
      child.kill('SIGINT');
      const r = await child;
      expect(r.exitCode, String(r.stdout) + String(r.stderr)).toBe(130);
      const h = (await readHistory(history)).slice(before);
      expect(h.map((e) => [e.action, e.to, e.outcome])).toEqual([['switch-web', other, 'ok']]);
      expect(await fs.readlink(site('www', 'servers', 'active'))).toBe(other);
      // Nothing left for the next command: the check ran here.
      expect(await fs.stat(site('www', 'state', 'journal.json')).catch(() => null)).toBeNull();
    } finally {
      await put(v, text);
    }
  }, 120_000);
});
