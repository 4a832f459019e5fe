/** The pure render planner: what render writes, removes, refuses and records, in memory. */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import type { ProductDescriptor } from '../../src/catalog/types.js';
import type { RenderedFile } from '../../src/apache/render.js';
import { activationIn, namesOnly, refreshFor } from '../../src/after/serve-activation.js';
import { planActivate, planInstall, type PlanContext } from '../../src/plan/lifecycle.js';
import type { Op } from '../../src/plan/ops.js';
import {
  handEditedCopy,
  parseRendered,
  planRender,
  planRevert,
  renderedJson,
  sha256,
  type LiveFile,
} from '../../src/plan/render.js';
import { sandboxSite } from '../helpers/site.js';

const site = sandboxSite('/t');
const ctx: PlanContext = { id: 'ID', now: '2026-11-28T06:07:08.123Z', who: { user: 'op' }, history: [] };
const CONF = '/t/www/conf/httpd.conf';
const TV = '/t/www/conf.d/TV.conf';
const AV = '/t/www/conf.d/AV.conf';
const ROBOTS = '/t/www/html/robots.txt';
const RUN = '/t/www/bin/runApache.sh';
const RECORD = '/t/www/state/rendered.json';

const file = (path: string, content: string, mode = 0o644): RenderedFile => ({ path, content, mode });
const live = (content: string, mode = 0o644): LiveFile => ({ content, mode });
const files = [
  file(CONF, '# generated\nListen 8080\n'),
  file(TV, '# generated\nWSGIScriptAlias /TV x\n'),
  file(ROBOTS, '# generated\nUser-agent: *\nDisallow: /\n'),
  file(RUN, '#!/bin/bash\n', 0o755),
];
const recordOf = (fs: RenderedFile[]) => Object.fromEntries(fs.map((f) => [f.path, sha256(f.content)]));
const liveOf = (fs: RenderedFile[]) => Object.fromEntries(fs.map((f) => [f.path, live(f.content, f.mode)]));
const kinds = (ops: Op[]) => ops.map((o) => `${o.kind} ${'path' in o ? o.path : 'to' in o ? o.to : ''}`.trim());

describe('planRender', () => {
  it('first render: writes every file, records their hashes, takes over the robots.txt init wrote', () => {
    const r = planRender(
      site,
      { files, live: { [ROBOTS]: live('User-agent: *\nDisallow: /\n') }, recorded: null, force: false },
      ctx,
    );
    expect(r.conflicts).toEqual([]);
    expect(r.changes.map((c) => [c.kind, c.path])).toEqual([
      ['create', CONF],
      ['create', TV],
      ['update', ROBOTS],
      ['create', RUN],
    ]);
    expect(r.confChanged).toBe(true);
    expect(kinds(r.plan.ops)).toEqual([
      `write-file ${CONF}`,
      `write-file ${TV}`,
      `write-file ${ROBOTS}`,
      `write-file ${RUN}`,
      `write-file ${RECORD}`,
      'record',
    ]);
    const rec = r.plan.ops[4] as Extract<Op, { kind: 'write-file' }>;
    expect(parseRendered(rec.content)).toEqual(recordOf(files));
    expect((r.plan.ops[3] as Extract<Op, { kind: 'write-file' }>).mode).toBe(0o755);
  });

  it('nothing changed: no operation at all, so no file is rewritten', () => {
    const r = planRender(site, { files, live: liveOf(files), recorded: recordOf(files), force: false }, ctx);
    expect(r.changes).toEqual([]);
    expect(r.plan.ops).toEqual([]);
    expect(r.plan.summary).toBe('the Apache tree is up to date (4 files)');
  });

  it('writes only the file that changed; robots.txt alone needs no reload', () => {
    const next = files.map((f) =>
      f.path === ROBOTS ? file(ROBOTS, '# generated\nUser-agent: *\nDisallow: /private\n') : f,
    );
    const r = planRender(site, { files: next, live: liveOf(files), recorded: recordOf(files), force: false }, ctx);
    expect(kinds(r.plan.ops)).toEqual([`write-file ${ROBOTS}`, `write-file ${RECORD}`, 'record']);
    expect(r.confChanged).toBe(false);
    expect(r.changes[0].diff).toContain('-Disallow: /\n+Disallow: /private\n');
  });

  it('a lost execute bit is put back without a content change', () => {
    const r = planRender(
      site,
      {
        files,
        live: { ...liveOf(files), [RUN]: live('#!/bin/bash\n', 0o644) },
        recorded: recordOf(files),
        force: false,
      },
      ctx,
    );
    expect(r.changes.map((c) => [c.kind, c.path, c.mode])).toEqual([['mode', RUN, 0o755]]);
    expect(r.confChanged).toBe(false);
  });

  it('a file edited by hand is a conflict; --force keeps the copy aside first', () => {
    const edited = { ...liveOf(files), [TV]: live('# generated\nWSGIScriptAlias /TV x\n# my tweak\n') };
    const next = files.map((f) => (f.path === TV ? file(TV, '# generated\nWSGIScriptAlias /TV y\n') : f));
    const refused = planRender(site, { files: next, live: edited, recorded: recordOf(files), force: false }, ctx);
    expect(refused.conflicts.map((c) => c.path)).toEqual([TV]);
    expect(refused.conflicts[0].diff).toContain('-# my tweak');
    const forced = planRender(site, { files: next, live: edited, recorded: recordOf(files), force: true }, ctx);
    expect(kinds(forced.plan.ops).slice(0, 2)).toEqual([
      `copy-file ${TV}.hand-edited-20261128T060708Z`,
      `write-file ${TV}`,
    ]);
    expect(forced.plan.notes[0]).toMatch(/taking over .*TV.conf, edited by hand/);
  });

  it('a hand edit that matches the new rendering is no conflict: only the record changes', () => {
    const next = files.map((f) => (f.path === TV ? file(TV, '# generated\nWSGIScriptAlias /TV y\n') : f));
    const r = planRender(
      site,
      { files: next, live: { ...liveOf(files), [TV]: live(next[1].content) }, recorded: recordOf(files), force: false },
      ctx,
    );
    expect(r.changes).toEqual([]);
    expect(kinds(r.plan.ops)).toEqual([`write-file ${RECORD}`]);
  });

  it("a hand-kept file webtree never wrote (the guide's httpd.conf) is a conflict", () => {
    const r = planRender(
      site,
      {
        files,
        live: { [CONF]: live('ServerRoot /usr/remote/software/www\nLoadModule wsgi_module x\n') },
        recorded: null,
        force: false,
      },
      ctx,
    );
    expect(r.conflicts.map((c) => c.path)).toEqual([CONF]);
  });

  it('an app no longer served: its generated file is removed, a hand-edited one kept aside', () => {
    const withAv = [...files, file(AV, '# generated\nWSGIScriptAlias /AV a\n')];
    const r = planRender(site, { files, live: liveOf(withAv), recorded: recordOf(withAv), force: false }, ctx);
    expect(r.changes.map((c) => [c.kind, c.path])).toEqual([['remove', AV]]);
    expect(r.confChanged).toBe(true);
    expect(parseRendered((r.plan.ops[1] as Extract<Op, { kind: 'write-file' }>).content)).toEqual(recordOf(files));
    const edited = planRender(
      site,
      { files, live: { ...liveOf(withAv), [AV]: live('mine\n') }, recorded: recordOf(withAv), force: false },
      ctx,
    );
    expect(edited.conflicts.map((c) => c.path)).toEqual([AV]);
  });

  it('planRevert puts the old contents back and removes what was new', () => {
    const next = files.map((f) => (f.path === TV ? file(TV, 'new\n') : f));
    const withAv = [...next, file(AV, 'av\n')];
    const r = planRender(site, { files: withAv, live: liveOf(files), recorded: recordOf(files), force: false }, ctx);
    const back = planRevert(site, r.changes, recordOf(files), 'it broke', ctx);
    expect(back.ops.slice(0, 3)).toEqual([
      { kind: 'write-file', path: TV, content: files[1].content, mode: 0o644 },
      { kind: 'remove', path: AV },
      { kind: 'write-file', path: RECORD, content: renderedJson(recordOf(files)), mode: 0o644 },
    ]);
    expect(back.ops[3]).toMatchObject({
      kind: 'record',
      entry: { action: 'render', outcome: 'rolled-back', message: 'it broke; the previous files are back' },
    });
  });

  it('hand-edited copies are named by the time; an unreadable record counts as none', () => {
    expect(handEditedCopy('/x/TV.conf', '2026-01-02T03:04:05.678Z')).toBe('/x/TV.conf.hand-edited-20260102T030405Z');
    expect(parseRendered('{not json')).toBeNull();
    expect(parseRendered(null)).toBeNull();
  });
});

describe('what an activation restarts', () => {
  let by: Record<string, ProductDescriptor>;
  beforeAll(async () => {
    by = Object.fromEntries((await loadCatalog()).map((d) => [d.name, d]));
  });

  it("a WSGI app: its script is touched; the python libraries: every app's script, never a graceful; EXPO: nothing", () => {
    expect(['TV', 'ConstantsDB', 'AV', 'QE'].map((n) => refreshFor(by[n]))).toEqual([
      'touch',
      'touch',
      'touch',
      'touch',
    ]);
    expect(['dbiapp_pylib', 'wsgi_py', 'ChartDirector'].map((n) => refreshFor(by[n]))).toEqual([
      'touch-all',
      'touch-all',
      'touch-all',
    ]);
    expect(refreshFor(by.EXPO)).toBe('none');
  });

  it('finds the activation in install and activate plans, not in --no-activate', () => {
    const st = {
      name: 'TV',
      versions: ['3.3a', '3.4'],
      sha256: {},
      current: '3.3a',
      unmanaged: [],
      leftovers: [],
      blockedLinks: [],
    };
    expect(activationIn(site, by.TV, planActivate(site, by.TV, st, '3.4', ctx))).toMatchObject({
      from: '3.3a',
      to: '3.4',
    });
    const install = (activate: boolean) =>
      planInstall(site, by.TV, st, { archive: '/a/tv-3.5.tar.gz', version: '3.5', sha256: 's', activate }, ctx);
    expect(activationIn(site, by.TV, install(true))).toMatchObject({ action: 'install', from: '3.3a', to: '3.5' });
    expect(activationIn(site, by.TV, install(false))).toBeUndefined();
  });

  it('an answer that names only the old version, as a word, counts as the old code', () => {
    expect(namesOnly('TV 3.3a server=server3', '3.3a', '3.4')).toBe(true);
    expect(namesOnly('TV 3.4 (was 3.3a)', '3.3a', '3.4')).toBe(false);
    expect(namesOnly('Release 3.4.1', '3.4', '3.5')).toBe(false);
    expect(namesOnly('served over HTTP/2.0', '2.0', '2.1')).toBe(false);
    expect(namesOnly('ConstantsDB version 1.5d.', '1.5d', '1.5e')).toBe(true);
    expect(namesOnly('<h1>Telemetry</h1>', '3.3a', '3.4')).toBe(false);
  });
});
