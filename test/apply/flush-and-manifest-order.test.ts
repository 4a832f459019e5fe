/**
 * What runs beside what before an install's commit (session 8): the flush (`sync -f`) starts once
 * the last operation that leaves its writes to it is done, and an extract's manifest is written
 * while the unpack makes its last check, when nothing rewrites a file of the tree in between.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { earlyManifests, Executor, flushStart } from '../../src/apply/executor.js';
import { buildManifest, sha256File, type Manifest } from '../../src/archive/manifest.js';
import { loadCatalog } from '../../src/catalog/load.js';
import type { ProductDescriptor } from '../../src/catalog/types.js';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { planInstall } from '../../src/plan/lifecycle.js';
import type { Plan } from '../../src/plan/ops.js';
import type { Site } from '../../src/site/types.js';
import { manifestPieces } from '../../src/state/manifest-file.js';
import { productState, sandboxSite } from '../helpers/site.js';

const state = productState;
const ctx = { id: 'ID', now: '2026-12-07T00:00:00.000Z', who: { user: 'op' }, history: [] };

describe('the plan of an install, as the executor reads it', () => {
  let by: Record<string, ProductDescriptor>;
  const site = sandboxSite('/t');
  beforeAll(async () => {
    by = Object.fromEntries((await loadCatalog()).map((d) => [d.name, d]));
  });

  it('flushes from the step after the unpack, and writes the manifest while the unpack checks', () => {
    const p = planInstall(
      site,
      by.TV,
      state('TV'),
      { archive: '/a/tv-3.4.tar.gz', version: '3.4', activate: true },
      ctx,
    );
    const extract = p.ops.findIndex((o) => o.kind === 'extract');
    expect(p.ops.slice(extract + 1, p.commit).map((o) => o.kind)).toEqual(['check-version', 'write-manifest']);
    expect(flushStart(p)).toBe(extract + 1);
    const dest = (p.ops[extract] as Extract<Plan['ops'][number], { kind: 'extract' }>).dest;
    expect([...earlyManifests(p).entries()]).toEqual([[dest, p.ops[p.commit - 1]]]);
  });

  it('a licence copied into the tree after the unpack: flushed after the copy, the manifest written at its turn', () => {
    const p = planInstall(
      site,
      by.ChartDirector,
      state('ChartDirector'),
      { archive: '/a/ChartDirector-5.0.2.tar.gz', version: '5.0.2', activate: true, license: '/etc/chartdir.lic' },
      ctx,
    );
    const copy = p.ops.findIndex((o) => o.kind === 'copy-file');
    expect(copy).toBeGreaterThan(p.ops.findIndex((o) => o.kind === 'extract'));
    expect(flushStart(p)).toBe(copy + 1);
    expect(earlyManifests(p).size).toBe(0);
  });

  it('ChartDirector without a licence: flushed after its added __init__.py, the manifest written at its turn', () => {
    const p = planInstall(
      site,
      by.ChartDirector,
      state('ChartDirector'),
      { archive: '/a/ChartDirector-5.0.2.tar.gz', version: '5.0.2', activate: true },
      ctx,
    );
    const add = p.ops.findIndex((o) => o.kind === 'add-file');
    expect(p.ops.slice(add + 1, p.commit).map((o) => o.kind)).toEqual(['check-version', 'write-manifest']);
    expect(flushStart(p)).toBe(add + 1);
    expect(earlyManifests(p).size).toBe(0);
  });

  it('a plan with nothing before its commit but checks flushes at the commit, as before', () => {
    const p: Plan = {
      command: 't',
      summary: 's',
      notes: [],
      temps: [],
      commit: 1,
      ops: [
        { kind: 'check-version', dir: '/d', product: 'TV', requires: [] },
        { kind: 'rename', from: '/a', to: '/b' },
      ],
    };
    expect(flushStart(p)).toBe(0);
    expect(flushStart({ ...p, commit: 0 })).toBe(0);
  });
});

describe('the manifest written while the unpack makes its last check', () => {
  let dir: string;
  let site: Site;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-early-manifest-'));
    site = sandboxSite(dir);
    await fs.mkdir(site.paths.state, { recursive: true });
    await fs.mkdir(path.join(dir, 'dbwebtools', 'tv'), { recursive: true });
  });
  afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

  const installPlan = async (requires: string[]) => {
    const files: Record<string, string> = { 'product/b.txt': 'b', 'product/a/z.py': 'z = 1\n' };
    for (let i = 0; i < 300; i++) files[`product/data/f${(i * 7919) % 1000}.txt`] = `file ${i}\n`;
    const archive = await writeSampleArchive(dir, 'TV', '3', files);
    const staging = path.join(dir, 'dbwebtools', 'tv', '.webtree-staging-3-x');
    const manifest = path.join(site.paths.state, 'manifests', 'TV', '3.json');
    await fs.mkdir(path.dirname(manifest), { recursive: true });
    const plan: Plan = {
      command: 't',
      summary: 's',
      notes: [],
      commit: 3,
      temps: [staging, manifest],
      ops: [
        { kind: 'extract', archive, dest: staging, layout: 'single-top' },
        { kind: 'check-version', dir: staging, product: 'TV', requires },
        { kind: 'write-manifest', dir: staging, to: manifest, product: 'TV', version: '3' },
        { kind: 'rename', from: staging, to: path.join(dir, 'dbwebtools', 'tv', '3') },
      ],
    };
    return { archive, manifest, plan };
  };

  it('is the text the step after the check wrote, byte for byte, before that check and the flush', async () => {
    const { archive, manifest, plan } = await installPlan(['product/*.wsgi']);
    const lines: string[] = [];
    await new Executor({ site, onOp: (l) => lines.push(l) }).apply(plan, 'e1');
    const text = await fs.readFile(manifest, 'utf8');
    const written = JSON.parse(text) as Manifest & { installedAt: string };
    const fresh = await buildManifest(path.join(dir, 'dbwebtools', 'tv', '3'), await sha256File(archive));
    expect(fresh.files.length).toBeGreaterThan(300);
    expect(text).toBe([...manifestPieces('TV', '3', fresh, written.installedAt)].join(''));
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    expect(at(/^record manifest of TV 3 .*while the unpacked tree is checked/)).toBeGreaterThan(at(/^unpack /));
    expect(at(/^record manifest/)).toBeLessThan(at(/^check /));
    expect(at(/^check /)).toBeLessThan(at(/^flush /));
    expect(at(/^flush /)).toBeLessThan(at(/^rename /));
    // Said once: the step at its turn has nothing left to do.
    expect(lines.filter((l) => l.startsWith('record manifest'))).toHaveLength(1);
  });

  it('two unpacks in one plan (apply): the flush starts only once the second tree is whole', async () => {
    const one = await installPlan(['product/*.wsgi']);
    const archive = await writeSampleArchive(dir, 'TV', '4', { 'product/c.txt': 'c' });
    const staging = path.join(dir, 'dbwebtools', 'tv', '.webtree-staging-4-x');
    const manifest = path.join(site.paths.state, 'manifests', 'TV', '4.json');
    const [extract, check, write, rename] = one.plan.ops;
    const plan: Plan = {
      ...one.plan,
      commit: 6,
      temps: [...one.plan.temps, staging, manifest],
      ops: [
        extract,
        check,
        write,
        { kind: 'extract', archive, dest: staging, layout: 'single-top' },
        { kind: 'check-version', dir: staging, product: 'TV', requires: ['product/*.wsgi'] },
        { kind: 'write-manifest', dir: staging, to: manifest, product: 'TV', version: '4' },
        rename,
        { kind: 'rename', from: staging, to: path.join(dir, 'dbwebtools', 'tv', '4') },
      ],
    };
    const lines: string[] = [];
    await new Executor({ site, onOp: (l) => lines.push(l) }).apply(plan, 'e3');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    // The first tree exists once the second unpack starts: a flush started then would run beside it.
    expect(at(/^record manifest of TV 4 .*while the unpacked tree is checked/)).toBeGreaterThan(at(/^unpack .*4/));
    expect(at(/^flush /)).toBeGreaterThan(at(/^record manifest of TV 4 /));
    expect(lines.filter((l) => l.startsWith('flush '))).toHaveLength(1);
  });

  it('a temporary that cannot be looked at fails the change and leaves no flusher waiting', async () => {
    const { plan } = await installPlan(['product/*.wsgi']);
    const file = path.join(dir, 'a-file');
    await fs.writeFile(file, '');
    // lstat says ENOTDIR: not "not there".
    const failing: Plan = { ...plan, temps: [...plan.temps, path.join(file, 'x')] };
    await expect(new Executor({ site }).apply(failing, 'e4')).rejects.toThrow(/ENOTDIR/);
    const children = (await fs.readdir('/proc')).filter((n) => /^\d+$/.test(n));
    const waiting: string[] = [];
    for (const pid of children) {
      const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
      if (m && Number(m[2]) === process.pid && m[1] === 'xargs') waiting.push(pid);
    }
    expect(waiting, 'an xargs of this process still waits for the paths to flush').toEqual([]);
  });

  it('is removed with the tree when a check after it refuses the version', async () => {
    const { manifest, plan } = await installPlan(['product/missing.wsgi']);
    await expect(new Executor({ site }).apply(plan, 'e2')).rejects.toThrow(/missing\.wsgi/);
    await expect(fs.access(manifest)).rejects.toThrow();
    expect(await fs.readdir(path.join(dir, 'dbwebtools', 'tv'))).toEqual([]);
  });
});
