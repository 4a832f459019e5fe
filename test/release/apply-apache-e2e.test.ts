/**
 * apply against the real Apache 2.4 + mod_wsgi, as the service account, on a free loopback
 * port: a release that upgrades TV and dbiapp_pylib together under ab load fails no request and
 * ends serving both new versions; a release whose TV app fails puts BOTH back (exit 1).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { APACHE_INSTALL, skipWithoutApache } from '../helpers/apache-env.js';
import { makeApacheSandbox, stopApacheSandbox, type ApacheSandbox } from '../helpers/apache-sandbox.js';
import { get } from '../helpers/http.js';

const missing = skipWithoutApache('webtree apply');

describe.skipIf(missing)(`webtree apply with Apache serving (needs: ${APACHE_INSTALL})`, () => {
  let sb: ApacheSandbox;
  const site = (...p: string[]) => sb.site(...p);
  const url = (p: string) => sb.url(p);

  /** A release of TV and dbiapp_pylib at v (TV's app replaced by `tvApp` when given). */
  async function release(v: string, tvApp?: string): Promise<string> {
    const lines = ['products:'];
    for (const p of ['TV', 'dbiapp_pylib']) {
      const f = await writeSampleArchive(sb.archives, p, v, p === 'TV' && tvApp ? { 'product/tv.wsgi': tvApp } : {});
      const sha = createHash('sha256')
        .update(await fs.readFile(f))
        .digest('hex');
      lines.push(`  ${p}: { version: "${v}", archive: "${f}", sha256: "${sha}" }`);
    }
    const file = path.join(sb.dir, `release-${v}.yaml`);
    await fs.writeFile(file, lines.join('\n') + '\n');
    return file;
  }

  beforeAll(async () => {
    sb = await makeApacheSandbox();
    const first = await sb.run(['apply', await release('1')]);
    expect(first.exitCode, first.stderr).toBe(0);
    // TV appeared for the first time: apply rendered the Apache tree itself.
    await fs.access(site('www/conf.d/TV.conf'));
    const started = await sb.run(['apache', 'start']);
    expect(started.exitCode, started.stdout + started.stderr).toBe(0);
    expect((await get(url('/TV'))).body).toBe('TV 1 server=server3 dbiapp 1');
  }, 180_000);

  afterAll(async () => {
    expect(await stopApacheSandbox(sb)).toEqual([]);
  }, 60_000);

  it('upgrades TV and dbiapp_pylib together under ab load with 0 failed requests', async () => {
    const file = await release('2');
    // Same-length bodies before and after ("TV 1 … dbiapp 1" / "TV 2 … dbiapp 2"): ab counts a length change as a failure.
    const ab = execa('ab', ['-q', '-t', '12', '-n', '1000000', '-c', '4', url('/TV')], { reject: false, all: true });
    await new Promise((r) => setTimeout(r, 1500));
    const r = await sb.run(['apply', file, '--json']);
    const load = await ab;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).products.map((p: { action: string }) => p.action)).toEqual(['install', 'install']);
    expect(load.exitCode, load.all).toBe(0);
    const complete = Number(/Complete requests:\s+(\d+)/.exec(load.stdout)?.[1]);
    console.log(
      `requests during apply of TV 2 + dbiapp_pylib 2: ${complete}; ${/Failed requests:\s+\d+/.exec(load.stdout)?.[0]}`,
    );
    expect(complete).toBeGreaterThan(100);
    expect(load.stdout).toMatch(/Failed requests:\s+0\b/);
    expect(load.stdout).not.toMatch(/Non-2xx responses/);
    expect((await get(url('/TV'))).body).toBe('TV 2 server=server3 dbiapp 2');
  }, 120_000);

  it('a release whose TV fails to start puts both products back, exit 1', async () => {
    const file = await release('3', 'raise RuntimeError("TV 3 cannot start")\n');
    const r = await sb.run(['apply', file]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/every product went back: TV 2, dbiapp_pylib 2/);
    expect(await fs.readlink(site('dbwebtools/tv/current'))).toBe('2');
    expect(await fs.readlink(site('dbwebtools/webpylib/dbiapp_pylib'))).toBe('dbiapp_pylib_2/lib');
    expect((await get(url('/TV'))).body).toBe('TV 2 server=server3 dbiapp 2');
    const h = (await fs.readFile(site('www/state/history.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(h.filter((e) => e.action === 'auto-rollback').map((e) => [e.product, e.from, e.to, e.outcome])).toEqual([
      ['TV', '3', '2', 'rolled-back'],
      ['dbiapp_pylib', '3', '2', 'rolled-back'],
    ]);
    expect((await sb.run(['verify'])).exitCode).toBe(0);
    // The release stays pending: --check says so.
    expect((await sb.run(['apply', file, '--check'])).exitCode).toBe(3);
  }, 120_000);

  it('renders a WSGI app served for the first time BEFORE the switch, and back when the release rolls back', async () => {
    const qe = async (v: string, app?: string) => {
      const f = await writeSampleArchive(path.join(sb.dir, 'archives'), 'QE', v, app ? { 'QE.wsgi': app } : {});
      const file = path.join(sb.dir, `qe-${v}.yaml`);
      await fs.writeFile(
        file,
        `products:\n  QE: { version: "${v}", archive: "${f}", sha256: "${createHash('sha256')
          .update(await fs.readFile(f))
          .digest('hex')}" }\n`,
      );
      return file;
    };
    const historyNow = async () =>
      (await fs.readFile(site('www/state/history.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    const seen = (await historyNow()).length;
    // QE's app cannot start: Apache mounts it already when the switch happens, so the check after it fails and QE goes back.
    const bad = await sb.run(['apply', await qe('1', 'raise RuntimeError("QE 1 cannot start")\n')]);
    expect(bad.exitCode, bad.stdout + bad.stderr).toBe(1);
    expect(bad.stderr).toMatch(/QE is served for the first time: rendering the Apache tree first/);
    expect(bad.stderr).toMatch(/every product went back: QE \(none\)/);
    await expect(fs.lstat(site('dbwebtools/QEngine/current'))).rejects.toThrow();
    // The Apache tree is as before the apply: QE's conf.d file, rendered first, is gone again.
    expect(bad.stderr).toMatch(
      /the Apache tree was rendered again to what is live \(it had been rendered first for QE\)/,
    );
    await expect(fs.lstat(site('www/conf.d/QE.conf'))).rejects.toMatchObject({ code: 'ENOENT' });
    await fs.access(site('www/conf.d/TV.conf'));
    expect((await historyNow()).slice(seen).map((e) => [e.action, e.product ?? null, e.outcome])).toEqual([
      ['render', null, 'ok'],
      ['apply', null, 'ok'],
      ['install', 'QE', 'ok'],
      ['auto-rollback', 'QE', 'rolled-back'],
      ['render', null, 'ok'],
    ]);
    expect((await get(url('/TV'))).body).toBe('TV 2 server=server3 dbiapp 2');
    // The tree is the render of what is live: a render now has nothing to do.
    const again = await sb.run(['render', '--json']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).changed).toBe(false);
    // A good QE is rendered first again and served by the apply itself, no render after it.
    const seen2 = (await historyNow()).length;
    const ok = await sb.run(['apply', await qe('2'), '--json']);
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/QE is served for the first time: rendering the Apache tree first/);
    expect((await get(url('/QE/DECam'))).body).toMatch(/^QE 2 /);
    await fs.access(site('www/conf.d/QE.conf'));
    expect((await historyNow()).slice(seen2).map((e) => e.action)).toEqual(['render', 'apply', 'install']);
    expect((await sb.run(['verify'])).exitCode).toBe(0);
  }, 120_000);
});
