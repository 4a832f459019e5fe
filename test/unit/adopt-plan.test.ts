/** planAdopt in memory: the guide's hand-laid tree as facts, no disk. */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import type { ProductDescriptor } from '../../src/catalog/types.js';
import { WebtreeError } from '../../src/core/errors.js';
import type { AdoptFacts, PathFacts } from '../../src/plan/facts.js';
import type { PlanContext } from '../../src/plan/lifecycle.js';
import { planAdopt } from '../../src/plan/adopt.js';
import { consumers, consumerTarget } from '../../src/plan/switch-layout.js';
import type { ProductState, TreeState } from '../../src/state/tree.js';
import { sandboxSite } from '../helpers/site.js';

const site = sandboxSite('/t');
let catalog: ProductDescriptor[];
beforeAll(async () => {
  catalog = await loadCatalog();
});
const ctx: PlanContext = { id: 'ID', now: '2026-11-28T00:00:00.000Z', who: { user: 'op' }, history: [] };
const file = (p: string, ino: string): PathFacts => ({ kind: 'file', real: p, ino });
const missing: PathFacts = { kind: 'missing', real: null };

/** The guide's tree, fixed (QE_decam.cfg_server3 present): cfg links to _server3, settings.py a plain file. */
function guide(): { facts: AdoptFacts; tree: TreeState } {
  const facts: AdoptFacts = {
    active: null,
    dirs: [site.paths.switch],
    slots: { server3: {}, server2: {} },
    consumers: {},
    products: {},
  };
  let n = 0;
  for (const c of consumers(site, catalog)) {
    for (const s of ['server3', 'server2']) facts.slots[s][c.slot] = null;
    const v = (s: string) => ({ ...file(c.variant(s), `i${n++}`), sameBytes: false });
    if (c.app === 'ECL') {
      facts.consumers[c.slot] = {
        at: file(c.path, 'ecl'),
        variants: { server3: { ...missing, sameBytes: false }, server2: v('server2') },
      };
    } else {
      const s3 = v('server3');
      facts.consumers[c.slot] = {
        at: { kind: 'link', link: path.basename(c.variant('server3')), real: s3.real, ino: s3.ino },
        variants: { server3: s3, server2: v('server2') },
      };
    }
  }
  const products: Record<string, ProductState> = {};
  for (const d of catalog.filter((p) => p.installable)) {
    products[d.name] = { name: d.name, versions: [], sha256: {}, unmanaged: [], leftovers: [], blockedLinks: [] };
    facts.products[d.name] = { pointer: missing, pointerReal: {}, webLinks: {}, manifestsDir: false };
    for (const l of d.webLinks) facts.products[d.name].webLinks[l.path] = { ...missing, expectedReal: null };
  }
  products.TV = { ...products.TV, unmanaged: ['3.3a', '3.3b'], current: '3.3a', pointer: '3.3a' };
  facts.products.TV = {
    pointer: { kind: 'link', link: '3.3a', real: '/t/dbwebtools/tv/3.3a' },
    pointerReal: { '3.3a': '/t/dbwebtools/tv/3.3a', '3.3b': '/t/dbwebtools/tv/3.3b' },
    webLinks: {
      TV: {
        kind: 'link',
        link: '/t/dbwebtools/tv/current/product',
        real: '/t/dbwebtools/tv/3.3a/product',
        expectedReal: '/t/dbwebtools/tv/3.3a/product',
      },
    },
    manifestsDir: false,
  };
  return { facts, tree: { products, history: [] } };
}

const refusal = (fn: () => unknown): WebtreeError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WebtreeError);
    expect((e as WebtreeError).code).toBe('EADOPT');
    return e as WebtreeError;
  }
  throw new Error('expected a refusal');
};

describe('planAdopt', () => {
  it('lays the switch first, then re-points each consumer, ECL by hard link + link over the file', () => {
    const { facts, tree } = guide();
    const p = planAdopt(site, catalog, tree, facts, ctx);
    const before = p.ops.slice(0, p.commit);
    expect(before).toContainEqual({ kind: 'make-dir', path: '/t/www/servers/server3' });
    expect(before).toContainEqual({
      kind: 'swap-link',
      path: '/t/www/servers/server3/ecl-settings.py',
      target: '/t/www/wsgi/ECL/decam/settings.py_server3',
    });
    expect(before).toContainEqual({ kind: 'swap-link', path: '/t/www/servers/active', target: 'server3' });
    expect(before).toContainEqual(
      expect.objectContaining({
        kind: 'write-manifest',
        dir: '/t/dbwebtools/tv/3.3b',
        archiveSha256: 'adopted',
        to: '/t/www/state/manifests/TV/3.3b.json',
      }),
    );
    expect(p.temps).toEqual(['/t/www/state/manifests/TV/3.3a.json', '/t/www/state/manifests/TV/3.3b.json']);
    const live = p.ops.slice(p.commit).filter((o) => o.kind !== 'record');
    const cs = consumers(site, catalog);
    expect(live).toEqual([
      ...cs
        .filter((c) => c.app !== 'ECL')
        .map((c) => ({ kind: 'swap-link', path: c.path, target: consumerTarget(site, c) })),
      {
        kind: 'link-over-file',
        path: '/t/www/wsgi/ECL/decam/settings.py',
        target: '/t/www/servers/active/ecl-settings.py',
        keep: '/t/www/wsgi/ECL/decam/settings.py_server3',
      },
    ]);
    const records = p.ops.filter((o) => o.kind === 'record').map((o) => o.entry);
    expect(records.map((e) => [e.id, e.action, e.product, e.to])).toEqual([
      ['ID', 'adopt', undefined, 'server3'],
      ['ID:TV', 'adopt', 'TV', '3.3a'],
    ]);
    expect(p.notes[0]).toBe('active server: server3 (from 5 consumer path(s))');
  });

  it("refuses the guide's own listing: QE_decam.cfg -> QE_decam.cfg_server3, which is not there", () => {
    const { facts, tree } = guide();
    const qe = facts.consumers['QE_decam.cfg'];
    qe.at = { kind: 'link', link: 'QE_decam.cfg_server3', real: null };
    qe.variants.server3 = { ...missing, sameBytes: false };
    const e = refusal(() => planAdopt(site, catalog, tree, facts, ctx));
    expect(e.details).toContain(
      '! /t/www/html/cfg/QE_decam.cfg -> QE_decam.cfg_server3, which does not exist (beside it: QE_decam.cfg_server2): QE reads nothing now',
    );
  });

  it('refuses consumers that name different servers, listing who says what', () => {
    const { facts, tree } = guide();
    const tv = facts.consumers['des_tv.cfg'];
    tv.at = { kind: 'link', link: 'des_tv.cfg_server2', real: tv.variants.server2.real };
    const e = refusal(() => planAdopt(site, catalog, tree, facts, ctx));
    expect(e.details).toContain(
      '! the consumers name different servers: server2 (TV), server3 (ConstantsDB, AV, QE, ECL)',
    );
  });

  it('a plain settings.py with both variants present and neither identical is refused', () => {
    const { facts, tree } = guide();
    facts.consumers['ecl-settings.py'].variants.server3 = { ...file('/x', 'other'), sameBytes: false };
    const e = refusal(() => planAdopt(site, catalog, tree, facts, ctx));
    expect(e.details).toMatch(
      /settings\.py is a plain file and which server it is for cannot be told \(no variant missing\)/,
    );
  });

  it('a settings.py already hard-linked as its variant (an adopt cut short) counts as that server', () => {
    const { facts, tree } = guide();
    facts.consumers['ecl-settings.py'].variants.server3 = {
      ...file('/t/www/wsgi/ECL/decam/settings.py_server3', 'ecl'),
      sameBytes: true,
    };
    const p = planAdopt(site, catalog, tree, facts, ctx);
    expect(p.ops).toContainEqual(
      expect.objectContaining({ kind: 'link-over-file', keep: '/t/www/wsgi/ECL/decam/settings.py_server3' }),
    );
  });

  it('a web link that leads somewhere else than current is a disagreement; one spelled differently is re-spelled', () => {
    const { facts, tree } = guide();
    facts.products.TV.webLinks.TV = {
      kind: 'link',
      link: '/t/dbwebtools/tv/3.3a/product',
      real: '/t/dbwebtools/tv/3.3a/product',
      expectedReal: '/t/dbwebtools/tv/3.3a/product',
    };
    expect(planAdopt(site, catalog, tree, facts, ctx).ops).toContainEqual({
      kind: 'swap-link',
      path: '/t/www/html/TV',
      target: '/t/dbwebtools/tv/current/product',
    });
    facts.products.TV.webLinks.TV = {
      ...facts.products.TV.webLinks.TV,
      link: '/t/dbwebtools/tv/3.3b/product',
      real: '/t/dbwebtools/tv/3.3b/product',
    };
    expect(refusal(() => planAdopt(site, catalog, tree, facts, ctx)).details).toContain(
      "! TV: /t/www/html/TV -> /t/dbwebtools/tv/3.3b/product leads to /t/dbwebtools/tv/3.3b/product, but TV's current (3.3a) is /t/dbwebtools/tv/3.3a/product",
    );
  });

  it('a tree already in webtree form has nothing to adopt', () => {
    const { facts, tree } = guide();
    facts.active = 'server3';
    facts.dirs = [site.paths.switch, '/t/www/servers/server3', '/t/www/servers/server2'];
    for (const c of consumers(site, catalog)) {
      for (const s of ['server3', 'server2']) facts.slots[s][c.slot] = c.variant(s);
      const f = facts.consumers[c.slot];
      f.variants.server3 = { ...file(c.variant('server3'), 'v3'), sameBytes: false };
      f.at = { kind: 'link', link: consumerTarget(site, c), real: c.variant('server3') };
    }
    tree.products.TV = { ...tree.products.TV, versions: ['3.3a', '3.3b'], unmanaged: [] };
    const p = planAdopt(site, catalog, tree, facts, ctx);
    expect(p.ops).toEqual([]);
    expect(p.summary).toMatch(/nothing to adopt/);
  });
});
