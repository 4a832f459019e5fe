import { beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import type { ProductDescriptor } from '../../src/catalog/types.js';
import { WebtreeError } from '../../src/core/errors.js';
import { failoverRunbook } from '../../src/failover/runbook.js';
import type { SwitchFacts } from '../../src/plan/facts.js';
import type { PlanContext } from '../../src/plan/lifecycle.js';
import { planRefusedSwitch, planSwitch } from '../../src/plan/switch.js';
import { consumers, consumerTarget } from '../../src/plan/switch-layout.js';
import { sandboxSite } from '../helpers/site.js';

const site = sandboxSite('/t');
let catalog: ProductDescriptor[];
beforeAll(async () => {
  catalog = await loadCatalog();
});
const ctx: PlanContext = { id: 'ID', now: '2026-11-28T00:00:00.000Z', who: { user: 'op' }, history: [] };

/** A tree as init lays it, on server3, with server2's slot links already there. */
function facts(over: Partial<SwitchFacts> = {}): SwitchFacts {
  const f: SwitchFacts = { active: 'server3', consumers: {}, serverDir: true, slots: {}, variants: {} };
  for (const c of consumers(site, catalog)) {
    f.consumers[c.slot] = { kind: 'link', link: consumerTarget(site, c) };
    f.slots[c.slot] = c.variant('server2');
    f.variants[c.slot] = 'ok';
  }
  return { ...f, ...over };
}

const err = (fn: () => unknown): WebtreeError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WebtreeError);
    return e as WebtreeError;
  }
  throw new Error('expected a refusal');
};

describe('planSwitch', () => {
  it('commits with one swap of <switch>/active (relative), then records the checks', () => {
    const p = planSwitch(site, catalog, facts(), { server: 'server2', checks: ['a', 'b'] }, ctx);
    expect(p.commit).toBe(0);
    expect(p.ops[0]).toEqual({ kind: 'swap-link', path: '/t/www/servers/active', target: 'server2' });
    expect(p.ops[1]).toMatchObject({
      kind: 'record',
      entry: {
        action: 'switch-web',
        from: 'server3',
        to: 'server2',
        outcome: 'ok',
        message: 'checks: a; b',
        id: 'ID',
        user: 'op',
      },
    });
    expect(p.ops).toHaveLength(2);
  });

  it('lays the target slot links before the commit, where nothing reads them yet', () => {
    const f = facts({ serverDir: false });
    for (const k of Object.keys(f.slots)) f.slots[k] = null;
    f.slots['des_tv.cfg'] = '/t/www/html/cfg/des_tv.cfg_server3'; // tampered: re-pointed too
    const p = planSwitch(site, catalog, f, { server: 'server2', checks: [] }, ctx);
    expect(p.finish).toBeUndefined(); // a switch forward that is interrupted before its commit is undone
    expect(p.ops[0]).toEqual({ kind: 'make-dir', path: '/t/www/servers/server2' });
    expect(p.ops.slice(1, p.commit)).toContainEqual({
      kind: 'swap-link',
      path: '/t/www/servers/server2/des_tv.cfg',
      target: '/t/www/html/cfg/des_tv.cfg_server2',
    });
    expect(p.ops.slice(1, p.commit)).toContainEqual({
      kind: 'swap-link',
      path: '/t/www/servers/server2/ecl-settings.py',
      target: '/t/www/wsgi/ECL/decam/settings.py_server2',
    });
    expect(p.commit).toBe(1 + consumers(site, catalog).length);
    expect(p.ops[p.commit]).toEqual({ kind: 'swap-link', path: '/t/www/servers/active', target: 'server2' });
    expect(p.temps).toEqual([]);
  });

  it('is a no-op for the server already active', () => {
    const p = planSwitch(site, catalog, facts(), { server: 'server3', checks: [] }, ctx);
    expect(p.ops).toEqual([]);
    expect(p.summary).toMatch(/already use server3/);
  });

  it('refuses a server the site does not have with exit 2, naming the choices', () => {
    const e = err(() => planSwitch(site, catalog, facts(), { server: 'server9', checks: [] }, ctx));
    expect(e.exitCode).toBe(2);
    expect(e.hint).toBe('choose one of: server3, server2');
  });

  it('refuses a missing or unreadable variant, naming the file', () => {
    const f = facts();
    f.variants['QE_decam.cfg'] = 'missing';
    f.variants['ecl-settings.py'] = 'not readable';
    const e = err(() => planSwitch(site, catalog, f, { server: 'server2', checks: [] }, ctx));
    expect(e.code).toBe('ESWITCH');
    expect(e.exitCode).toBe(1);
    expect(e.details).toContain('/t/www/html/cfg/QE_decam.cfg_server2: missing (QE)');
    expect(e.details).toContain('/t/www/wsgi/ECL/decam/settings.py_server2: not readable (ECL)');
  });

  it('refuses when a consumer does not go through the indirection (a hand-laid link)', () => {
    const f = facts();
    f.consumers['constants.cfg'] = { kind: 'link', link: 'constants.cfg_server3' };
    f.consumers['ecl-settings.py'] = { kind: 'file', link: null };
    const e = err(() => planSwitch(site, catalog, f, { server: 'server2', checks: [] }, ctx));
    expect(e.message).toMatch(/2 consumer path\(s\) do not go through/);
    expect(e.details).toContain('/t/www/html/cfg/constants.cfg: -> constants.cfg_server3');
    expect(e.details).toContain('/t/www/wsgi/ECL/decam/settings.py: file');
    expect(e.hint).toContain('webtree adopt');
  });

  it('a switch back is marked as an undo with its reason', () => {
    const f = facts({ active: 'server2' });
    for (const c of consumers(site, catalog)) f.slots[c.slot] = c.variant('server3');
    const p = planSwitch(
      site,
      catalog,
      f,
      { server: 'server3', checks: ['was server3 before'], undo: { reason: 'health check failed' } },
      ctx,
    );
    expect(p.ops.at(-1)).toMatchObject({
      kind: 'record',
      entry: {
        from: 'server2',
        to: 'server3',
        undo: true,
        message: 'switched back: health check failed; checks: was server3 before',
      },
    });
    // Going back is finished, never undone, when interrupted; a switch forward is not marked so.
    expect(p.finish).toBe(true);
  });

  it('a refused switch is only recorded', () => {
    const p = planRefusedSwitch('server3', { server: 'server2', checks: ['x'] }, 'server2 is a standby', ctx);
    expect(p.ops).toEqual([
      {
        kind: 'record',
        entry: expect.objectContaining({
          action: 'switch-web',
          from: 'server3',
          to: 'server2',
          outcome: 'failed',
          message: 'refused: server2 is a standby; checks: x',
        }),
      },
    ]);
  });
});

describe('failoverRunbook', () => {
  it('names the new master and what the guide leaves to do by hand', () => {
    const text = failoverRunbook(site, 'server2', 'server3').join('\n');
    for (const want of [
      'Site package',
      'server2.ctio.noao.edu',
      'alarmserver',
      'telemetryserver',
      'standby',
      'FNAL mirror',
      'pg_hba.conf',
      'archive_command',
      'When server3 is back',
    ])
      expect(text).toContain(want);
  });
});
