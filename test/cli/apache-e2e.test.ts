/**
 * render and apache through the built CLI, against the real Apache 2.4 + mod_wsgi of this host
 * serving the sample products on a free loopback port, as the service account codemanager.
 * The tests run in order on one sandbox; afterAll stops the Apache they started and checks that
 * no process of the tree is left.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processUid } from '../../src/apache/process.js';
import { ECL_SAMPLE_APP, FIRST_VERSIONS, writeSampleArchive } from '../../src/demo/samples.js';
import { APACHE_INSTALL, skipWithoutApache } from '../helpers/apache-env.js';
import { makeApacheSandbox, stopApacheSandbox, type ApacheSandbox } from '../helpers/apache-sandbox.js';
import { ROOT } from '../helpers/cli.js';
import { get, requestLoop } from '../helpers/http.js';

const missing = skipWithoutApache('webtree render/apache');

describe.skipIf(missing)(`webtree render and apache end to end (needs: ${APACHE_INSTALL})`, () => {
  let sb: ApacheSandbox;
  const site = (...p: string[]) => sb.site(...p);
  const www = (...p: string[]) => site('www', ...p);
  const url = (p: string) => sb.url(p);
  const archive = async (product: string, version: string, extra?: Record<string, string>) =>
    writeSampleArchive(sb.archives, product, version, extra);
  const ok = (args: string[]) => sb.ok(args);
  const body = async (p: string) => (await get(url(p))).body;
  const apps = async () =>
    Promise.all(
      ['/TV', '/ConstantsDB', '/AV', '/QE/DECam', '/ECL', '/EXPO/', '/robots.txt'].map(async (p) => {
        const r = await get(url(p));
        return `${r.status} ${r.body.split('\n').find((l) => !l.startsWith('#'))}`;
      }),
    );
  /** sha256 of every file render owns or writes, to show the live tree untouched. */
  const liveHashes = async () => {
    const out: Record<string, string> = {};
    for (const dir of [www('conf'), www('conf.d'), www('bin'), www('init.d'), www('state')]) {
      for (const n of await fs.readdir(dir)) {
        const p = path.join(dir, n);
        // watch.json is the watch's own bookkeeping (the last check's state), not the site's configuration.
        if (n === 'history.jsonl' || n === 'lock' || n === 'watch.json' || !(await fs.stat(p)).isFile()) continue;
        out[p] = createHash('sha256')
          .update(await fs.readFile(p))
          .digest('hex');
      }
    }
    return out;
  };
  const leftovers = () => sb.leftovers();

  beforeAll(async () => {
    sb = await makeApacheSandbox();
    await sb.install(FIRST_VERSIONS);
    await sb.put(site('www', 'wsgi', 'ECL', 'decam', 'ecl.wsgi'), ECL_SAMPLE_APP);
  }, 120_000);

  afterAll(async () => {
    expect(await stopApacheSandbox(sb)).toEqual([]);
  }, 60_000);

  it('render --diff shows the whole tree pending (exit 3); render writes it; then nothing is pending (exit 0)', async () => {
    const pending = await sb.run(['render', '--diff']);
    expect(pending.exitCode).toBe(3);
    expect(pending.stdout).toMatch(/^create conf\/httpd\.conf\n--- \/dev\/null/m);
    expect(pending.stdout).toContain('+WSGIScriptAlias "/ECL"');
    const r = await ok(['render']);
    expect(r.stdout).toMatch(/create conf\.d\/TV\.conf/);
    expect(r.stdout).toMatch(/Apache is not running/);
    expect((await sb.run(['render', '--diff'])).exitCode).toBe(0);
    expect((await fs.readdir(www('conf.d'))).sort()).toEqual([
      'AV.conf',
      'ConstantsDB.conf',
      'ECL.conf',
      'QE.conf',
      'TV.conf',
    ]);
    const recorded = JSON.parse(await fs.readFile(www('state', 'rendered.json'), 'utf8')).files;
    expect(Object.keys(recorded)).toContain(www('init.d', 'httpd'));
    // Run as root, nothing in the tree belongs to root.
    const rootOwned = (await execa('find', [site(), '-uid', '0'])).stdout.trim();
    expect(rootOwned).toBe('');
  }, 60_000);

  it('the generated init script starts Apache as codemanager (root -> su) and every app answers', async () => {
    const init = (verb: string) => execa(www('init.d', 'httpd'), [verb], { reject: false, all: true });
    const started = await init('start');
    expect(started.exitCode, started.all).toBe(0);
    expect(await apps()).toEqual([
      '200 TV 3.3a server=server3 dbiapp v1_4a',
      '200 ConstantsDB 1.5d server=server3 dbiapp v1_4a',
      '200 AV 1.1 server=server3 dbiapp v1_4a',
      '200 QE 2.0 server=server3 dbiapp v1_4a',
      '200 ECL server=server3',
      '200 <h1>Exposure Browser 1.0</h1>',
      '200 User-agent: *',
    ]);
    for (const pid of await leftovers()) expect(await processUid(pid)).toBe(sb.account.uid);
    const st = await sb.json(['apache', 'status']);
    expect(st).toMatchObject({ running: true, pid: expect.any(Number), uptimeSec: expect.any(Number) });
    expect(st.apps.map((a: { url: string; ok: boolean }) => [a.url, a.ok])).toEqual(
      ['/TV', '/ConstantsDB', '/AV', '/QE/DECam', '/ECL', '/robots.txt'].map((p) => [url(p), true]),
    );
    expect((await sb.json(['status'])).apache).toEqual({ running: true, pid: st.pid });
    expect((await init('stop')).exitCode).toBe(0);
    expect((await init('status')).exitCode).toBe(3);
    expect(await leftovers()).toEqual([]);
  }, 60_000);

  it('webtree apache start runs it as codemanager, checks every app, and says so when it runs already', async () => {
    const r = await ok(['apache', 'start']);
    expect(r.stdout).toMatch(/^apache started \(pid \d+\)/);
    expect(r.stdout).toContain(`ok   ${url('/ECL')} 200`);
    for (const pid of await leftovers()) expect(await processUid(pid)).toBe(sb.account.uid);
    expect((await ok(['apache', 'start'])).stdout).toMatch(/^apache is already running/);
    expect((await ok(['apache', 'configtest'])).stdout).toMatch(/Syntax OK/);
  }, 60_000);

  it('install serves the new TV at once; rollback serves the old one', async () => {
    await ok(['install', await archive('TV', '3.4')]);
    expect(await body('/TV')).toBe('TV 3.4 server=server3 dbiapp v1_4a');
    await ok(['rollback', 'TV']);
    expect(await body('/TV')).toBe('TV 3.3a server=server3 dbiapp v1_4a');
  }, 60_000);

  it('requests during an activation do not fail', async () => {
    const loop = requestLoop(url('/TV'));
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 300));
    await ok(['activate', 'TV', '3.4']);
    await new Promise((r) => setTimeout(r, Math.max(300, 2000 - (Date.now() - t0))));
    const res = await loop.stop();
    console.log(`requests during activate TV 3.4: ${res.requests} in ${Date.now() - t0} ms, ${res.failed} failed`);
    expect(res.failures).toEqual([]);
    expect(res.bodies).toEqual(['TV 3.3a server=server3 dbiapp v1_4a', 'TV 3.4 server=server3 dbiapp v1_4a']);
  }, 60_000);

  it('a version whose app raises is rolled back automatically and marked bad in the history', async () => {
    const bad = await archive('TV', '3.5', { 'product/tv.wsgi': 'raise RuntimeError("TV 3.5 cannot start")\n' });
    const r = await sb.run(['install', bad]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      `TV 3.5 does not answer (${url('/TV')} answered 500); rolled back to 3.4 and marked 3.5 bad in the history`,
    );
    expect(r.stderr).toMatch(/RuntimeError: TV 3\.5 cannot start/); // the error log's tail
    expect(await body('/TV')).toBe('TV 3.4 server=server3 dbiapp v1_4a');
    const tv = (await sb.json(['status'])).products.find((p: { name: string }) => p.name === 'TV');
    expect(tv).toMatchObject({ current: '3.4', previous: '3.3a' });
    const last = (await sb.json(['history', 'TV'])).entries.at(-1);
    expect(last).toMatchObject({ action: 'auto-rollback', from: '3.5', to: '3.4', outcome: 'rolled-back' });
    expect(last.message).toMatch(/^TV 3\.5 is bad: .*answered 500; went back to 3\.4$/);
  }, 60_000);

  it('an install killed during its health check is checked by the next command, and rolled back', async () => {
    // A TV whose import hangs: the health check waits (3 s here), which is when the kill lands.
    const siteFile = await fs.readFile(sb.config, 'utf8');
    await fs.writeFile(sb.config, siteFile.replace(/healthTimeout: \d+/, 'healthTimeout: 3'));
    try {
      const slow = await archive('TV', '3.6', { 'product/tv.wsgi': 'import time\ntime.sleep(60)\n' });
      const child = sb.spawn(['install', slow]);
      const journal = www('state', 'journal.json');
      const afterPhase = async () => JSON.parse(await fs.readFile(journal, 'utf8').catch(() => '{}')).phase === 'after';
      for (let i = 0; i < 200 && !(await afterPhase()); i++) await new Promise((r) => setTimeout(r, 50));
      expect(await afterPhase()).toBe(true);
      await new Promise((r) => setTimeout(r, 500));
      child.kill('SIGKILL');
      await child;
      expect(await fs.readlink(site('dbwebtools', 'tv', 'current'))).toBe('3.6'); // live, and never checked
      // A read (a monitor's status) reports the pending change and leaves it: no check, no rollback.
      const st = await sb.run(['status', '--json']);
      expect(st.exitCode, st.stderr).toBe(0);
      expect(st.stderr).toMatch(/a change is pending: `install TV 3\.6` .* run `webtree recover`/);
      expect(JSON.parse(st.stdout).products.find((p: { name: string }) => p.name === 'TV').current).toBe('3.6');
      expect(JSON.parse(st.stdout).pending).toMatchObject({ state: 'interrupted', command: 'install TV 3.6' });
      // recover finishes it and runs its check, which goes back: exit 1, the tree as it was before.
      const r = await sb.run(['recover']);
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/an interrupted `install TV 3\.6` .* was finished/);
      expect(r.stderr).toMatch(/TV 3\.6 does not answer .*rolled back to 3\.4/);
      expect((await sb.json(['status'])).products.find((p: { name: string }) => p.name === 'TV').current).toBe('3.4');
      // mod_wsgi replaces the daemon stuck in 3.6's import only after its shutdown timeout: wait for it.
      let served = '';
      for (let i = 0; i < 30 && served !== 'TV 3.4 server=server3 dbiapp v1_4a'; i++)
        served = await body('/TV').catch(() => '');
      expect(served).toBe('TV 3.4 server=server3 dbiapp v1_4a');
      await expect(fs.access(journal)).rejects.toThrow();
      expect((await sb.json(['history', 'TV'])).entries.at(-1)).toMatchObject({
        action: 'auto-rollback',
        from: '3.6',
        to: '3.4',
        outcome: 'rolled-back',
      });
    } finally {
      await fs.writeFile(sb.config, siteFile);
    }
  }, 120_000);

  it("a new python library reaches every app: every app's daemon restarts, Apache itself does not (no graceful)", async () => {
    // A graceful drops requests under load (bench/switch.mjs); touching every app's script drops none.
    const errorLog = site('local', 'web_logs', 'error_log');
    const offset = (await fs.stat(errorLog)).size;
    const r = await ok(['install', await archive('dbiapp_pylib', 'v1_4b')]);
    expect(r.stdout + r.stderr).toContain("apache: dbiapp_pylib v1_4b is served (every app's daemon restarted)");
    expect(await body('/AV')).toBe('AV 1.1 server=server3 dbiapp v1_4b');
    expect(await body('/TV')).toBe('TV 3.4 server=server3 dbiapp v1_4b');
    expect(await body('/ConstantsDB')).toBe('ConstantsDB 1.5d server=server3 dbiapp v1_4b');
    expect(await body('/QE/DECam')).toBe('QE 2.0 server=server3 dbiapp v1_4b');
    const log = (await fs.readFile(errorLog, 'utf8')).slice(offset);
    expect(log).not.toMatch(/AH00493|graceful restart/i);
  }, 60_000);

  it('a template Apache rejects is refused with its message; the live files and the server are untouched', async () => {
    const bad = path.join(sb.dir, 'bad-templates');
    await fs.cp(path.join(ROOT, 'conf-templates'), bad, { recursive: true });
    await fs.appendFile(path.join(bad, 'app.conf.ejs'), 'BogusDirective on\n');
    const before = await liveHashes();
    const pid = (await sb.json(['apache', 'status'])).pid;
    const r = await sb.run(['render', '--templates', bad]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/Apache refuses the new configuration; nothing was changed/);
    expect(r.stderr).toMatch(/Invalid command 'BogusDirective'/);
    expect(await liveHashes()).toEqual(before);
    expect((await sb.json(['apache', 'status'])).pid).toBe(pid);
    expect((await apps()).every((a) => a.startsWith('200 '))).toBe(true);
  }, 60_000);

  it('a configuration Apache accepts but cannot serve goes back to the previous files', async () => {
    const bad = path.join(sb.dir, 'unservable-templates');
    await fs.cp(path.join(ROOT, 'conf-templates'), bad, { recursive: true });
    const app = path.join(bad, 'app.conf.ejs');
    await fs.writeFile(app, (await fs.readFile(app, 'utf8')).replace('q(app.script)', "q(app.script + '.missing')"));
    const before = await liveHashes();
    const r = await sb.run(['render', '--templates', bad]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/the new configuration failed after a graceful restart .*; the previous files are back/);
    // The error log's excerpt names the missing script: Apache's child says "Target WSGI script not
    // found", the daemons "Could not read/compile source file" (whichever reach the last 20 lines).
    expect(r.stderr).toMatch(/Target WSGI script not found|Could not read\/compile source file '[^']*\.wsgi\.missing'/);
    expect(await liveHashes()).toEqual(before);
    expect((await apps()).every((a) => a.startsWith('200 '))).toBe(true);
  }, 60_000);

  it('a hand-edited conf.d/TV.conf is refused with its diff; --force takes it over and keeps the copy', async () => {
    const tv = www('conf.d', 'TV.conf');
    const generated = await fs.readFile(tv, 'utf8');
    await fs.appendFile(tv, '# tuned by hand\n');
    const refused = await sb.run(['render']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(
      /1 generated file\(s\) were edited by hand since webtree wrote them: conf\.d\/TV\.conf/,
    );
    expect(refused.stderr).toContain('-# tuned by hand');
    expect(await fs.readFile(tv, 'utf8')).toBe(`${generated}# tuned by hand\n`);
    expect((await sb.run(['render', '--diff'])).exitCode).toBe(3);
    await ok(['render', '--force']);
    expect(await fs.readFile(tv, 'utf8')).toBe(generated);
    const kept = (await fs.readdir(www('conf.d'))).filter((n) => n.startsWith('TV.conf.hand-edited-'));
    expect(kept).toHaveLength(1);
    expect(await fs.readFile(www('conf.d', kept[0]), 'utf8')).toBe(`${generated}# tuned by hand\n`);
    expect((await sb.run(['render', '--diff'])).exitCode).toBe(0);
    expect((await apps()).every((a) => a.startsWith('200 '))).toBe(true);
  }, 60_000);

  it('an app that keeps serving the old version (script reloading off) is rolled back; a library falls back to a graceful', async () => {
    const noReload = path.join(sb.dir, 'no-reload-templates');
    await fs.cp(path.join(ROOT, 'conf-templates'), noReload, { recursive: true });
    await fs.appendFile(path.join(noReload, 'app.conf.ejs'), 'WSGIScriptReloading Off\n');
    await ok(['render', '--templates', noReload]);
    expect(await body('/TV')).toBe('TV 3.4 server=server3 dbiapp v1_4b'); // loaded in its daemon
    const r = await sb.run(['activate', 'TV', '3.3a']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(
      /TV 3\.3a does not answer \(.*\/TV still serves TV 3\.4 \(daemon pids? [\d, ]+ (?:was|were) not restarted\)\); rolled back to 3\.4/,
    );
    expect((await sb.json(['history', 'TV'])).entries.at(-1)).toMatchObject({
      action: 'auto-rollback',
      from: '3.3a',
      to: '3.4',
      outcome: 'rolled-back',
    });
    // A library: touching the scripts restarts no daemon here, so webtree falls back to a graceful.
    const lib = await ok(['activate', 'dbiapp_pylib', 'v1_4a']);
    expect(lib.stdout + lib.stderr).toMatch(
      /the daemons of .*TV.* did not restart when their scripts were touched: graceful restart/,
    );
    expect(await body('/TV')).toBe('TV 3.4 server=server3 dbiapp v1_4a');
    await ok(['render']); // back to the stock templates
    expect((await sb.run(['render', '--diff'])).exitCode).toBe(0);
  }, 60_000);

  it('apache restart with a broken file in conf.d tests the whole configuration first: refused, Apache serves on', async () => {
    const before = (await sb.json(['status'])).apache;
    expect(before.running).toBe(true);
    const broken = www('conf.d', 'zz-broken.conf');
    await fs.writeFile(broken, 'ThisIsNoDirective on\n');
    try {
      const r = await sb.run(['apache', 'restart']);
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toMatch(
        /^webtree: Apache was not restarted: its configuration does not pass httpd -t; it runs on as before/,
      );
      expect(r.stderr).toMatch(/ThisIsNoDirective/);
      expect((await sb.json(['status'])).apache).toEqual(before); // the same master: never stopped
      expect(await body('/TV')).toMatch(/^TV /);
    } finally {
      await fs.rm(broken);
    }
  }, 60_000);

  it('apache stop leaves no process; status says stopped (exit 1)', async () => {
    expect((await ok(['apache', 'stop'])).stdout).toMatch(/^apache stopped/);
    expect(await leftovers()).toEqual([]);
    const st = await sb.run(['apache', 'status', '--json']);
    expect(st.exitCode).toBe(1);
    expect(JSON.parse(st.stdout)).toEqual({ running: false, pid: null, uptimeSec: null, apps: [] });
    expect((await sb.json(['status'])).apache).toEqual({ running: false, pid: null });
  }, 60_000);
});
