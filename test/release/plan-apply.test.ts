/** The pure parts: apply's one plan (where its commit is), going back, NO_PROXY, ~/.netrc. */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import { bypassesProxy, proxyFor } from '../../src/fetch/dispatch.js';
import { netrcLookup } from '../../src/fetch/netrc.js';
import { planApply, planApplyBack, releaseActions, type Wanted } from '../../src/plan/apply.js';
import type { ProductState, TreeState } from '../../src/state/tree.js';
import { sandboxSite } from '../helpers/site.js';

const site = sandboxSite('/srv/t');
const ctx = { id: 'a1', now: '2026-12-06T00:00:00Z', who: { user: 'op' }, history: [] };
const st = (name: string, versions: string[], current?: string, sha: Record<string, string> = {}): ProductState => ({
  name,
  versions,
  sha256: sha,
  current,
  unmanaged: [],
  leftovers: [],
  blockedLinks: [],
  webLinkTargets: {},
});
const H = (c: string) => c.repeat(64);

describe('planApply', () => {
  it('is one plan: every unpack first, the first rename its commit, then every switch and the records', async () => {
    const catalog = await loadCatalog();
    const tree: TreeState = {
      history: [],
      products: {
        TV: st('TV', ['1'], '1', { 1: H('a') }),
        QE: st('QE', ['1', '2'], '1', { 1: H('b'), 2: H('c') }),
        dbiapp_pylib: st('dbiapp_pylib', ['1'], '1', { 1: H('d') }),
      },
    };
    const wanted: Wanted[] = [
      { product: 'TV', version: '2', sha256: H('e'), source: 'https://x/tv-2.tar.gz' },
      { product: 'QE', version: '2', sha256: H('c'), source: '/a/QEngine-2.tar.gz' },
      { product: 'dbiapp_pylib', version: '1', sha256: H('d'), source: '/a/dbiapp_pylib_1.tar.gz' },
    ];
    const { plan, actions } = planApply(site, catalog, tree, wanted, { TV: '/cache/tv-2.tar.gz' }, ctx, 'r.yaml');
    expect(actions.map((a) => a.action)).toEqual(['install', 'activate', 'none']);
    expect(plan.ops[plan.commit]).toMatchObject({ kind: 'rename', to: '/srv/t/dbwebtools/tv/2' });
    expect(
      plan.ops
        .slice(0, plan.commit)
        .every((o) =>
          ['make-dir', 'extract', 'add-file', 'copy-file', 'check-version', 'write-manifest'].includes(o.kind),
        ),
    ).toBe(true);
    expect(plan.temps.every((t) => t.includes('.webtree-staging-') || t.includes('/manifests/'))).toBe(true);
    const records = plan.ops
      .filter((o) => o.kind === 'record')
      .map((o) => (o.kind === 'record' ? [o.entry.id, o.entry.action, o.entry.product, o.entry.source] : []));
    expect(records).toEqual([
      ['a1', 'apply', undefined, undefined],
      ['a1.TV', 'install', 'TV', 'https://x/tv-2.tar.gz'],
      ['a1.QE', 'activate', 'QE', undefined],
    ]);
    // Nothing to install: the first pointer swap is the commit.
    const only = planApply(site, catalog, tree, [wanted[1]], {}, ctx, 'r.yaml').plan;
    expect(only.commit).toBe(0);
    expect(only.ops[0]).toMatchObject({ kind: 'swap-link', path: '/srv/t/dbwebtools/QEngine/current', target: '2' });
    // Other bytes under an installed version's name are refused.
    expect(() => releaseActions(site, catalog, tree, [{ ...wanted[1], sha256: H('f') }])).toThrow(
      /QE 2 is installed from a different archive/,
    );
  });

  it('going back is finished, never undone: each product to its from, a new one loses its links', async () => {
    const catalog = await loadCatalog();
    const p = planApplyBack(
      site,
      catalog,
      [
        { product: 'TV', from: '1', to: '2' },
        { product: 'QE', from: null, to: '1' },
      ],
      ctx,
      'why',
    );
    expect(p.finish).toBe(true);
    expect(p.ops[0]).toMatchObject({ kind: 'swap-link', target: '1' });
    expect(p.ops.filter((o) => o.kind === 'remove').map((o) => (o.kind === 'remove' ? o.path : ''))).toEqual([
      '/srv/t/www/html/QE/DECam',
      '/srv/t/dbwebtools/QEngine/current',
    ]);
  });
});

describe('proxies and credentials', () => {
  it('NO_PROXY: *, names, .suffixes, host:port', () => {
    const u = new URL('https://files.example.org:8443/a');
    expect(bypassesProxy(u, '*')).toBe(true);
    expect(bypassesProxy(u, 'other.org, .example.org')).toBe(true);
    expect(bypassesProxy(u, 'example.org')).toBe(true);
    expect(bypassesProxy(u, 'files.example.org:443')).toBe(false);
    expect(bypassesProxy(u, 'files.example.org:8443')).toBe(true);
    expect(bypassesProxy(u, 'ample.org')).toBe(false);
    expect(proxyFor(u, { HTTPS_PROXY: 'http://p:3128', NO_PROXY: 'localhost' })).toBe('http://p:3128');
    expect(proxyFor(new URL('http://h/a'), { HTTPS_PROXY: 'http://p:3128' })).toBeUndefined();
  });

  it('~/.netrc: the machine, else default; quoted tokens and comments', () => {
    const text =
      '# mine\nmachine a.org login u1 password "p w"\ndefault login anon password x\nmachine b.org\n  login u2\n  password p2\n';
    expect(netrcLookup(text, 'A.ORG')).toEqual({ login: 'u1', password: 'p w' });
    expect(netrcLookup(text, 'b.org')).toEqual({ login: 'u2', password: 'p2' });
    expect(netrcLookup(text, 'c.org')).toEqual({ login: 'anon', password: 'x' });
    expect(netrcLookup('machine a.org login u', 'a.org')).toBeUndefined();
  });
});
