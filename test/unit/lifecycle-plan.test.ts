import { beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import type { ProductDescriptor } from '../../src/catalog/types.js';
import { WebtreeError } from '../../src/core/errors.js';
import {
  planActivate,
  planGoBack,
  planInstall,
  planPrune,
  planRollback,
  type PlanContext,
} from '../../src/plan/lifecycle.js';
import type { HistoryEntry } from '../../src/state/history.js';
import { activationStack, previousVersion } from '../../src/plan/previous.js';
import type { ProductState } from '../../src/state/tree.js';
import { productState, sandboxSite } from '../helpers/site.js';

const site = sandboxSite('/t');
let by: Record<string, ProductDescriptor>;
beforeAll(async () => {
  by = Object.fromEntries((await loadCatalog()).map((d) => [d.name, d]));
});

const state = (over: Partial<ProductState> = {}): ProductState => productState('TV', over);
const ctx = (history: HistoryEntry[] = []): PlanContext => ({
  id: 'ID',
  now: '2026-11-28T00:00:00.000Z',
  who: { user: 'op' },
  history,
});
const h = (action: string, to: string, from?: string, extra: Partial<HistoryEntry> = {}): HistoryEntry => ({
  id: 'x',
  time: 't',
  user: 'u',
  action,
  product: 'TV',
  to,
  from,
  outcome: 'ok',
  ...extra,
});

describe('planInstall', () => {
  it('stages, checks, records the manifest, renames into place, then activates and links', () => {
    const p = planInstall(
      site,
      by.TV,
      state({ versions: ['3.3a'], current: '3.3a', sha256: { '3.3a': 'aa' } }),
      { archive: '/a/tv-3.4.tar.gz', version: '3.4', sha256: 'bb', activate: true },
      ctx(),
    );
    expect(p.ops.map((o) => o.kind)).toEqual([
      'make-dir',
      'make-dir',
      'extract',
      'check-version',
      'write-manifest',
      'rename',
      'swap-link',
      'swap-link',
      'record',
    ]);
    expect(p.ops[p.commit]).toEqual({
      kind: 'rename',
      from: '/t/dbwebtools/tv/.webtree-staging-3.4-ID',
      to: '/t/dbwebtools/tv/3.4',
    });
    expect(p.ops[6]).toEqual({ kind: 'swap-link', path: '/t/dbwebtools/tv/current', target: '3.4' });
    expect(p.ops[7]).toEqual({ kind: 'swap-link', path: '/t/www/html/TV', target: '/t/dbwebtools/tv/current/product' });
    expect(p.temps).toContain('/t/dbwebtools/tv/.webtree-staging-3.4-ID');
    expect(p.temps).toContain('/t/www/state/manifests/TV/3.4.json');
    const rec = p.ops.at(-1) as Extract<(typeof p.ops)[number], { kind: 'record' }>;
    expect(rec.entry).toMatchObject({
      action: 'install',
      product: 'TV',
      version: '3.4',
      from: '3.3a',
      to: '3.4',
      sha256: 'bb',
      user: 'op',
      id: 'ID',
      time: '2026-11-28T00:00:00.000Z',
    });
  });

  it('--no-activate stops at the rename', () => {
    const p = planInstall(site, by.TV, state(), { archive: '/a', version: '1', sha256: 's', activate: false }, ctx());
    expect(p.ops.slice(p.commit).map((o) => o.kind)).toEqual(['rename', 'record']);
  });

  it('QE links the nested QE/DECam after making QE/', () => {
    const p = planInstall(
      site,
      by.QE,
      state({ name: 'QE' }),
      { archive: '/a', version: '2', sha256: 's', activate: true },
      ctx(),
    );
    expect(p.ops.slice(p.commit + 1, -1)).toEqual([
      { kind: 'swap-link', path: '/t/dbwebtools/QEngine/current', target: '2' },
      { kind: 'make-dir', path: '/t/www/html/QE' },
      { kind: 'swap-link', path: '/t/www/html/QE/DECam', target: '/t/dbwebtools/QEngine/current' },
    ]);
  });

  it('dbiapp_pylib points its link at the lib/ of the version, inside webpylib', () => {
    const p = planInstall(
      site,
      by.dbiapp_pylib,
      state({ name: 'dbiapp_pylib' }),
      { archive: '/a', version: 'v1_4a', sha256: 's', activate: true },
      ctx(),
    );
    expect(p.ops[p.commit]).toMatchObject({ kind: 'rename', to: '/t/dbwebtools/webpylib/dbiapp_pylib_v1_4a' });
    expect(p.ops[p.commit + 1]).toEqual({
      kind: 'swap-link',
      path: '/t/dbwebtools/webpylib/dbiapp_pylib',
      target: 'dbiapp_pylib_v1_4a/lib',
    });
  });

  it('ChartDirector installs lib/ only, adds __init__.py, carries the licence over', () => {
    const st = state({
      name: 'ChartDirector',
      versions: ['5.0.1'],
      current: '5.0.1',
      sha256: { '5.0.1': 'x' },
      licensed: true,
    });
    const p = planInstall(
      site,
      by.ChartDirector,
      st,
      { archive: '/a', version: '5.0.2', sha256: 's', activate: true },
      ctx(),
    );
    const staging = '/t/dbwebtools/webpylib/.webtree-staging-ChartDirector-5.0.2-ID';
    expect(p.ops).toContainEqual({
      kind: 'extract',
      archive: '/a',
      dest: staging,
      layout: 'single-top',
      content: 'lib',
      sha256: 's',
    });
    expect(p.ops).toContainEqual({
      kind: 'add-file',
      path: `${staging}/__init__.py`,
      content: expect.stringMatching(/\nfrom pychartdir import \*\n$/),
    });
    expect(p.ops).toContainEqual({
      kind: 'copy-file',
      from: '/t/dbwebtools/webpylib/ChartDirector-5.0.1/chartdir.lic',
      to: `${staging}/chartdir.lic`,
    });
    expect(p.notes).toEqual([]);
    const fresh = planInstall(
      site,
      by.ChartDirector,
      state({ name: 'ChartDirector' }),
      { archive: '/a', version: '5.0.2', sha256: 's', activate: true },
      ctx(),
    );
    expect(fresh.notes[0]).toMatch(/warning: ChartDirector has no licence file/);
    // an upgrade from a version without a licence warns again rather than copying what is not there
    const unlicensed = planInstall(
      site,
      by.ChartDirector,
      { ...st, licensed: false },
      { archive: '/a', version: '5.0.2', sha256: 's', activate: true },
      ctx(),
    );
    expect(unlicensed.ops.some((o) => o.kind === 'copy-file')).toBe(false);
    expect(unlicensed.notes[0]).toMatch(/no licence file/);
    const given = planInstall(
      site,
      by.ChartDirector,
      st,
      { archive: '/a', version: '5.0.2', sha256: 's', activate: true, license: '/l/chartdir.lic' },
      ctx(),
    );
    expect(given.ops).toContainEqual({ kind: 'copy-file', from: '/l/chartdir.lic', to: `${staging}/chartdir.lic` });
  });

  it('the same version with the same sha256 is a no-op; with another one it is refused', () => {
    const st = state({ versions: ['3.4'], current: '3.4', sha256: { '3.4': 'bb' } });
    expect(
      planInstall(site, by.TV, st, { archive: '/a', version: '3.4', sha256: 'bb', activate: true }, ctx()).ops,
    ).toEqual([]);
    expect(() =>
      planInstall(site, by.TV, st, { archive: '/a', version: '3.4', sha256: 'cc', activate: true }, ctx()),
    ).toThrow(/already installed from a different archive/);
  });

  it('without a sha256 (the version was not installed when looked at) the unpack supplies it; a version installed meanwhile is refused', () => {
    const p = planInstall(
      site,
      by.TV,
      state({ versions: ['3.3a'], current: '3.3a' }),
      { archive: '/a', version: '3.4', activate: true },
      ctx(),
    );
    const extract = p.ops.find((o) => o.kind === 'extract');
    expect(extract).toMatchObject({ kind: 'extract', archive: '/a' });
    expect(extract && 'sha256' in extract ? extract.sha256 : undefined).toBeUndefined();
    expect(p.ops.find((o) => o.kind === 'write-manifest')).not.toHaveProperty('archiveSha256', expect.anything());
    const raced = state({ versions: ['3.4'], current: '3.4', sha256: { '3.4': 'bb' } });
    expect(() => planInstall(site, by.TV, raced, { archive: '/a', version: '3.4', activate: true }, ctx())).toThrow(
      /TV 3\.4 was installed by another command while this one waited for the lock/,
    );
  });

  it('refuses a real directory where a web link belongs before anything changes', () => {
    const st = state({ versions: ['1', '2'], current: '1', blockedLinks: ['/t/www/html/TV'] });
    expect(() => planActivate(site, by.TV, st, '2', ctx())).toThrow(
      /html\/TV is a real file or directory where webtree keeps a link; nothing was changed/,
    );
    expect(() =>
      planInstall(site, by.TV, st, { archive: '/a', version: '3', sha256: 's', activate: true }, ctx()),
    ).toThrow(/ELINKISDIR|real file or directory/);
    expect(
      planInstall(site, by.TV, st, { archive: '/a', version: '3', sha256: 's', activate: false }, ctx()).ops.length,
    ).toBeGreaterThan(0);
  });

  it('refuses a version directory that webtree did not install', () => {
    expect(() =>
      planInstall(
        site,
        by.TV,
        state({ unmanaged: ['3.4'] }),
        { archive: '/a', version: '3.4', sha256: 'c', activate: true },
        ctx(),
      ),
    ).toThrow(/did not install it/);
  });
});

describe('activate, rollback', () => {
  it('activate swaps current first (the commit), then the web links', () => {
    const p = planActivate(site, by.TV, state({ versions: ['1', '2'], current: '1' }), '2', ctx());
    expect(p.commit).toBe(0);
    expect(p.ops[0]).toEqual({ kind: 'swap-link', path: '/t/dbwebtools/tv/current', target: '2' });
  });

  it('activate of what is active is a no-op; of what is not installed is refused naming the installed', () => {
    expect(planActivate(site, by.TV, state({ versions: ['1'], current: '1' }), '1', ctx()).ops).toEqual([]);
    try {
      planActivate(site, by.TV, state({ versions: ['1', '2'] }), '3', ctx());
      expect.unreachable();
    } catch (e) {
      expect((e as WebtreeError).code).toBe('ENOTINSTALLED');
      expect((e as WebtreeError).hint).toBe('installed: 1, 2');
    }
  });

  it('activate of what is active re-makes a missing or wrong web link, committing at the pointer swap', () => {
    const right = { '/t/www/html/QE/DECam': '/t/dbwebtools/QEngine/current' };
    expect(
      planActivate(site, by.QE, state({ name: 'QE', versions: ['2'], current: '2', webLinkTargets: right }), '2', ctx())
        .ops,
    ).toEqual([]);
    const p = planActivate(
      site,
      by.QE,
      state({ name: 'QE', versions: ['2'], current: '2', webLinkTargets: { '/t/www/html/QE/DECam': null } }),
      '2',
      ctx(),
    );
    expect(p.commit).toBe(0);
    expect(p.ops.map((o) => o.kind)).toEqual(['swap-link', 'make-dir', 'swap-link', 'record']);
    expect(p.ops[0]).toEqual({ kind: 'swap-link', path: '/t/dbwebtools/QEngine/current', target: '2' });
    expect(p.ops[2]).toEqual({
      kind: 'swap-link',
      path: '/t/www/html/QE/DECam',
      target: '/t/dbwebtools/QEngine/current',
    });
    expect((p.ops[3] as Extract<(typeof p.ops)[number], { kind: 'record' }>).entry).toMatchObject({
      action: 'repair',
      product: 'QE',
      version: '2',
      message: '/t/www/html/QE/DECam was missing',
    });
    const wrong = planActivate(
      site,
      by.QE,
      state({ name: 'QE', versions: ['2'], current: '2', webLinkTargets: { '/t/www/html/QE/DECam': '/elsewhere' } }),
      '2',
      ctx(),
    );
    expect(wrong.summary).toBe('repair the links of QE 2 (/t/www/html/QE/DECam pointed at /elsewhere)');
  });

  it('rollback goes to the version active before (history), not the next lower number', () => {
    const hist = [h('install', '3.3a'), h('install', '3.10', '3.3a'), h('activate', '3.4', '3.10')];
    const st = state({ versions: ['3.3a', '3.4', '3.10'], current: '3.4' });
    const p = planRollback(site, by.TV, st, undefined, ctx(hist));
    expect(p.ops[0]).toMatchObject({ target: '3.10' });
    // a second rollback undoes further: back to 3.3a, not forth to 3.4
    const hist2 = [...hist, h('rollback', '3.10', '3.4', { undo: true })];
    expect(activationStack(hist2, 'TV')).toEqual(['3.3a', '3.10']);
    expect(planRollback(site, by.TV, { ...st, current: '3.10' }, undefined, ctx(hist2)).ops[0]).toMatchObject({
      target: '3.3a',
    });
  });

  it('rollback skips versions pruned since, and refuses when nothing is left', () => {
    const hist = [h('install', '1'), h('install', '2', '1'), h('install', '3', '2')];
    expect(previousVersion(hist, 'TV', '3', ['1', '3'])).toBe('1');
    expect(() => planRollback(site, by.TV, state({ versions: ['3'], current: '3' }), undefined, ctx(hist))).toThrow(
      /no earlier active version/,
    );
  });

  it('going back after a failed check is the activation back, recorded rolled-back with why, and finished if interrupted', () => {
    const p = planGoBack(
      site,
      by.TV,
      state({ versions: ['1', '2'], current: '2' }),
      '1',
      ctx(),
      true,
      'TV 2 is bad: /TV answered 500',
    );
    expect(p.finish).toBe(true);
    expect(p.ops.at(-1)).toMatchObject({
      kind: 'record',
      entry: {
        action: 'auto-rollback',
        from: '2',
        to: '1',
        undo: true,
        outcome: 'rolled-back',
        message: 'TV 2 is bad: /TV answered 500; went back to 1',
      },
    });
    expect(planActivate(site, by.TV, state({ versions: ['1', '2'], current: '2' }), '1', ctx()).finish).toBeUndefined();
  });

  it('rollback --to V is an activation recorded as a rollback', () => {
    const p = planRollback(site, by.TV, state({ versions: ['1', '2'], current: '2' }), '1', ctx());
    expect(p.ops.at(-1)).toMatchObject({ kind: 'record', entry: { action: 'rollback', from: '2', to: '1' } });
  });
});

describe('prune', () => {
  it('keeps the newest N plus current and previous, removing manifests first', () => {
    const hist = [
      h('install', '1'),
      h('install', '2', '1'),
      h('install', '5', '2'),
      h('rollback', '2', '5', { undo: true }),
    ];
    const st = state({ versions: ['1', '2', '3', '4', '5'], current: '2' });
    const p = planPrune(site, by.TV, st, 1, ctx(hist));
    const removed = p.ops.filter((o) => o.kind === 'remove').map((o) => (o as { path: string }).path);
    // kept: 5 (newest), 2 (current), 1 (previous on the stack); 5 also is the last replaced
    expect(removed).toEqual([
      '/t/www/state/manifests/TV/3.json',
      '/t/dbwebtools/tv/3',
      '/t/www/state/manifests/TV/4.json',
      '/t/dbwebtools/tv/4',
    ]);
  });

  it('keeps the version a rollback replaced also when the next command finished that rollback (outcome recovered)', () => {
    const hist = [
      h('install', '1'),
      h('install', '2', '1'),
      h('install', '5', '2'),
      { ...h('rollback', '2', '5', { undo: true }), outcome: 'recovered' as const },
    ];
    const p = planPrune(site, by.TV, state({ versions: ['1', '2', '3', '4', '5'], current: '2' }), 0, ctx(hist));
    const removed = p.ops.filter((o) => o.kind === 'remove').map((o) => (o as { path: string }).path);
    expect(removed).not.toContain('/t/dbwebtools/tv/5');
    expect(removed).toContain('/t/dbwebtools/tv/4');
  });

  it('never deletes the newer release for its older release candidate (3.10 is newer than 3.10-rc1)', () => {
    const hist = [
      h('install', '3.9'),
      h('install', '3.10-rc1', '3.9'),
      h('activate', '3.9', '3.10-rc1'),
      h('install', '3.10', '3.9', { outcome: 'failed' }),
    ];
    const p = planPrune(
      site,
      by.TV,
      state({ versions: ['3.8', '3.9', '3.10-rc1', '3.10'], current: '3.9' }),
      1,
      ctx(hist),
    );
    const removed = p.ops.filter((o) => o.kind === 'remove').map((o) => (o as { path: string }).path);
    expect(removed).not.toContain('/t/dbwebtools/tv/3.10');
    expect(removed).toContain('/t/dbwebtools/tv/3.8');
  });

  it('--keep 0 still keeps current and previous', () => {
    const hist = [h('install', '1'), h('install', '2', '1')];
    const p = planPrune(site, by.TV, state({ versions: ['1', '2'], current: '2' }), 0, ctx(hist));
    expect(p.ops).toEqual([]);
  });
});
