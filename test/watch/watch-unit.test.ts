/**
 * The pure parts of watching: findings from facts (the fix each names), when a mail is due, the
 * metrics text, and the page's escaping and self-containment.
 */
import { describe, expect, it } from 'vitest';
import { findingsOf, type CheckFacts } from '../../src/watch/findings.js';
import { mailReason } from '../../src/watch/mail.js';
import { metricsText } from '../../src/watch/metrics.js';
import { pageHtml } from '../../src/watch/page.js';
import type { CheckReport, ServerState } from '../../src/watch/report.js';

const srv = (name: string, up: boolean, primary: boolean | null): ServerState => ({
  name,
  host: '127.0.0.1',
  port: 5432,
  up,
  primary,
});
const facts = (o: Partial<CheckFacts> = {}): CheckFacts => ({
  verify: [],
  apache: { up: true },
  apps: [],
  active: 'server3',
  servers: [srv('server3', true, true), srv('server2', true, false)],
  disks: [],
  minFreeMiB: 1024,
  minFreePercent: 5,
  interrupted: false,
  ...o,
});
const report = (o: Partial<CheckReport> = {}): CheckReport => ({
  ok: true,
  checkedAt: '2026-12-06T06:00:00.000Z',
  probeSeconds: 0.1,
  host: 'web1',
  site: '/srv/webtree.yaml',
  findings: [],
  apache: { up: true, pid: 42 },
  apps: [{ app: 'TV', url: 'http://127.0.0.1:8080/TV', up: true, status: 200, seconds: 0.01 }],
  active: 'server3',
  servers: [srv('server3', true, true)],
  products: [
    {
      name: 'TV',
      current: '3.4',
      previous: '3.3a',
      versions: ['3.3a', '3.4'],
      activatedAt: '2026-12-01T00:00:00.000Z',
    },
  ],
  disks: [{ path: '/srv', what: 'products', freeBytes: 5e9, totalBytes: 1e10 }],
  recent: [],
  timeline: [],
  lastChange: '2026-12-01T00:00:00.000Z',
  ...o,
});

describe('findings', () => {
  it('healthy facts give none', () => expect(findingsOf(facts())).toEqual([]));

  it('the active server down with the other a primary names switch-web to it; with the other a standby, promotion first', () => {
    expect(findingsOf(facts({ servers: [srv('server3', false, null), srv('server2', true, true)] }))).toEqual([
      expect.objectContaining({ code: 'active-down', thing: 'server3', fix: 'webtree switch-web server2' }),
    ]);
    expect(findingsOf(facts({ servers: [srv('server3', false, null), srv('server2', true, false)] }))[0].fix).toMatch(
      /^promote the standby/,
    );
    expect(findingsOf(facts({ servers: [srv('server3', true, false), srv('server2', true, true)] }))).toEqual([
      expect.objectContaining({ code: 'active-standby', fix: 'webtree switch-web server2' }),
    ]);
  });

  it('an app down, Apache down, a low disk, an interrupted change, a missing licence', () => {
    const app = { app: 'AV', url: 'http://x/AV', up: false, status: 500, seconds: 0.1 };
    expect(findingsOf(facts({ apps: [app] }))).toEqual([expect.objectContaining({ code: 'app-down', thing: 'AV' })]);
    // Apache down says so once; the apps' probes then say nothing more.
    expect(findingsOf(facts({ apache: { up: false }, apps: [app] })).map((f) => f.code)).toEqual(['apache-down']);
    const disk = { path: '/data', what: 'logs', freeBytes: 100 * 2 ** 20, totalBytes: 1e12 };
    expect(findingsOf(facts({ disks: [disk] }))).toEqual([
      expect.objectContaining({ code: 'disk-low', thing: '/data' }),
    ]);
    expect(findingsOf(facts({ disks: [{ ...disk, freeBytes: 2 ** 40 }] }))).toEqual([]);
    expect(findingsOf(facts({ interrupted: true }))[0]).toMatchObject({ code: 'interrupted' });
    // A kept variant verify names is check's own code, with the command that restores it.
    expect(
      findingsOf(
        facts({
          verify: [
            { what: 'variant/server3', problem: '/x/settings.py_server3 is a link now (-> settings.py_server2)' },
          ],
        }),
      ),
    ).toEqual([
      {
        code: 'variant',
        thing: 'variant/server3',
        problem: '/x/settings.py_server3 is a link now (-> settings.py_server2)',
        fix: 'webtree variants restore',
      },
    ]);
    expect(
      findingsOf(
        facts({ verify: [{ what: 'variant/server2', problem: "/x/a.cfg_server2 was changed behind webtree's back" }] }),
      )[0].fix,
    ).toMatch(/variants keep if the change is yours/);
    expect(
      findingsOf(
        facts({
          verify: [
            {
              what: 'ChartDirector',
              problem: 'no licence file chartdir.lic in 5.0.2: ChartDirector runs watermarked (install --license FILE)',
            },
          ],
        }),
      )[0],
    ).toMatchObject({ code: 'licence', thing: 'ChartDirector' });
  });
});

describe('mail on change', () => {
  const bad = report({ ok: false, findings: [{ code: 'app-down', thing: 'TV', problem: 'x', fix: 'y' }] });
  it('only on transitions and new findings', () => {
    expect(mailReason(undefined, report(), [])).toEqual([]);
    expect(mailReason({ ok: true, findings: [] }, report(), [])).toEqual([]);
    expect(mailReason({ ok: true, findings: [] }, bad, [])).toEqual(['healthy -> finding']);
    expect(mailReason({ ok: false, findings: ['app-down:TV'] }, bad, [])).toEqual([]);
    expect(mailReason({ ok: false, findings: ['app-down:AV'] }, bad, [])).toEqual(['new finding']);
    expect(mailReason({ ok: false, findings: ['app-down:TV'] }, report(), [])).toEqual(['finding -> healthy']);
  });
  it('on every auto-rollback and switch-web, never on a refused switch', () => {
    const e = (action: string, outcome: string) => ({
      time: 't',
      action,
      outcome,
      user: 'u',
      product: 'TV',
      from: '3.3a',
      to: '3.4',
    });
    expect(
      mailReason(undefined, undefined, [
        e('auto-rollback', 'rolled-back'),
        e('install', 'ok'),
        e('switch-web', 'failed'),
        e('switch-web', 'ok'),
      ]),
    ).toEqual(['auto-rollback of TV 3.3a -> 3.4 (rolled-back)', 'switch-web 3.3a -> 3.4 (ok)']);
  });
});

describe('metrics text', () => {
  it('HELP and TYPE for every family, labels escaped', () => {
    const text = metricsText(
      report({ products: [{ name: 'TV', current: '3."4"\\x', previous: null, versions: [], activatedAt: null }] }),
    );
    const families = [...text.matchAll(/^# TYPE (\S+) gauge$/gm)].map((m) => m[1]);
    for (const f of families) expect(text).toContain(`# HELP ${f} `);
    expect(families).toEqual(
      expect.arrayContaining([
        'webtree_check_ok',
        'webtree_product_info',
        'webtree_app_up',
        'webtree_app_probe_seconds',
        'webtree_apache_up',
        'webtree_db_up',
        'webtree_db_primary',
        'webtree_active_server_info',
        'webtree_findings',
        'webtree_last_change_timestamp_seconds',
        'webtree_check_timestamp_seconds',
      ]),
    );
    expect(text).toContain('webtree_product_info{product="TV",version="3.\\"4\\"\\\\x"} 1');
    expect(text).toContain('webtree_check_timestamp_seconds 1796536800');
  });
});

describe('status page', () => {
  it('escapes what it shows and fetches nothing', () => {
    const html = pageHtml(
      report({
        ok: false,
        findings: [{ code: 'verify', thing: '<script>alert(1)</script>', problem: 'a "b" & c', fix: 'webtree verify' }],
      }),
    );
    expect(html).not.toContain('<script');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    // No attribute or rule that loads anything: the page is one file, readable offline.
    expect(html).not.toMatch(/\bsrc=|\bhref=|url\(|@import|<link|<iframe|<object|<embed|http-equiv/i);
    expect(html).toContain('<svg id="timeline"');
    expect(html).toContain('name="viewport"');
  });
});
