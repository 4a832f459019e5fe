/**
 * apply FILE through the built CLI, on local archives: --check (exit 3 / 0, nothing changed),
 * the --json contract, one change for three products, the second apply a no-op with no history
 * entry, refusals (a wrong sha256, a version installed from other bytes) leaving the tree as it
 * was, and release capturing what runs.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { makeSandbox, type Sandbox } from '../helpers/cli.js';
import { snapshotTree } from './tree-snapshot.js';

let sb: Sandbox;
const archives: Record<string, string> = {};
const sha = async (f: string) =>
  createHash('sha256')
    .update(await fs.readFile(f))
    .digest('hex');
const history = async () =>
  (await fs.readFile(path.join(sb.dir, 'site/www/state/history.jsonl'), 'utf8').catch(() => ''))
    .trim()
    .split('\n')
    .filter(Boolean);

async function release(
  name: string,
  versions: Record<string, string>,
  override: Record<string, string> = {},
): Promise<string> {
  const lines = ['products:'];
  for (const [p, v] of Object.entries(versions)) {
    const f = archives[`${p}-${v}`];
    lines.push(
      `  ${p.toLowerCase()}: { version: "${v}", archive: "${f}", sha256: "${override[p] ?? (await sha(f))}" }`,
    );
  }
  const file = path.join(sb.dir, name);
  await fs.writeFile(file, lines.join('\n') + '\n');
  return file;
}

beforeAll(async () => {
  sb = await makeSandbox();
  for (const p of ['TV', 'dbiapp_pylib', 'QE'])
    for (const v of ['1', '2']) archives[`${p}-${v}`] = await writeSampleArchive(sb.dir, p, v);
});
afterAll(async () => sb.cleanup());

describe('webtree apply', () => {
  it('--check says what would change (exit 3) and changes nothing; apply makes it so; a second apply is a no-op', async () => {
    const r1 = await release('r1.yaml', { TV: '1', dbiapp_pylib: '1', QE: '1' });
    const before = await snapshotTree(path.join(sb.dir, 'site'));
    const check = await sb.run(['apply', r1, '--check', '--json']);
    expect(check.exitCode, check.stderr).toBe(3);
    expect(JSON.parse(check.stdout)).toEqual({
      changed: true,
      products: [
        { name: 'TV', from: null, to: '1', action: 'install' },
        { name: 'dbiapp_pylib', from: null, to: '1', action: 'install' },
        { name: 'QE', from: null, to: '1', action: 'install' },
      ],
    });
    expect(await snapshotTree(path.join(sb.dir, 'site'))).toEqual(before);
    const text = await sb.run(['apply', r1, '--check']);
    expect(text.stdout).toMatch(/TV: install 1 and activate it/);

    // --dry-run --json: --json's answer, what would be fetched and rendered first, then the plan.
    const dry = await sb.run(['apply', r1, '--dry-run', '--json']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    const d = JSON.parse(dry.stdout);
    expect(Object.keys(d)).toEqual([
      'dryRun',
      'changed',
      'products',
      'archives',
      'render',
      'command',
      'summary',
      'operations',
      'notes',
    ]);
    expect(d.dryRun).toBe(true);
    expect(d.changed).toBe(true);
    expect(d.products).toEqual(JSON.parse(check.stdout).products);
    expect(d.archives).toEqual(
      await Promise.all(
        ['TV', 'dbiapp_pylib', 'QE'].map(async (p) => ({
          name: p,
          source: archives[`${p}-1`],
          sha256: await sha(archives[`${p}-1`]),
          download: false,
        })),
      ),
    );
    expect(d.render).toEqual(['TV', 'QE']);
    expect(d.command).toBe('apply r1.yaml');
    expect(d.summary).toBe(
      'apply r1.yaml: TV (none) -> 1 (install), dbiapp_pylib (none) -> 1 (install), QE (none) -> 1 (install)',
    );
    const ops = d.operations as { kind: string; archive?: string; entry?: { action: string; product?: string } }[];
    expect(ops.filter((o) => o.kind === 'extract').map((o) => o.archive)).toEqual([
      archives['TV-1'],
      archives['dbiapp_pylib-1'],
      archives['QE-1'],
    ]);
    // The history entries come last: the change as a whole, then one per product.
    expect(ops.slice(-4).map((o) => [o.kind, o.entry?.action, o.entry?.product])).toEqual([
      ['record', 'apply', undefined],
      ['record', 'install', 'TV'],
      ['record', 'install', 'dbiapp_pylib'],
      ['record', 'install', 'QE'],
    ]);
    expect(ops.findIndex((o) => o.kind === 'rename')).toBeGreaterThan(
      ops.map((o) => o.kind).lastIndexOf('write-manifest'),
    );
    expect(d.notes).toEqual([]);
    const dryText = await sb.run(['apply', r1, '--dry-run']);
    expect(dryText.stdout).toContain(`would use ${archives['TV-1']} for TV`);
    expect(dryText.stdout).toContain('would render the Apache tree first for TV, QE (served for the first time)');
    expect(await snapshotTree(path.join(sb.dir, 'site'))).toEqual(before);

    const applied = await sb.run(['apply', r1, '--json']);
    expect(applied.exitCode, applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout).changed).toBe(true);
    expect(applied.stderr).toMatch(/TV, QE are served for the first time: rendering the Apache tree first/);
    const h = await history();
    // The render of the apps served for the first time FIRST, then the one change (one time, one id).
    expect(h.map((l) => JSON.parse(l).action)).toEqual(['render', 'apply', 'install', 'install', 'install']);
    expect(new Set(h.slice(1).map((l) => JSON.parse(l).time)).size).toBe(1);
    expect(new Set(h.slice(1).map((l) => JSON.parse(l).id.split('.')[0])).size).toBe(1);
    expect(JSON.parse(h[0]).time <= JSON.parse(h[1]).time).toBe(true);
    // Rendered before the web links resolved: each app's script is named through its web link.
    const tvConf = await fs.readFile(path.join(sb.dir, 'site/www/conf.d/TV.conf'), 'utf8');
    expect(tvConf).toContain(path.join(sb.dir, 'site/www/html/TV/tv.wsgi'));
    await fs.access(path.join(sb.dir, 'site/www/conf.d/QE.conf'));

    const again = await sb.run(['apply', r1]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/nothing to do/);
    expect(await history()).toEqual(h);
    const ok = await sb.run(['apply', r1, '--check', '--json']);
    expect(ok.exitCode).toBe(0);
    expect(JSON.parse(ok.stdout).products.map((p: { action: string }) => p.action)).toEqual(['none', 'none', 'none']);
  }, 180_000);

  it('upgrades, activates installed versions, and release writes what runs', async () => {
    const r2 = await release('r2.yaml', { TV: '2', dbiapp_pylib: '2', QE: '1' });
    const j = await sb.json(['apply', r2]);
    expect(j.products).toEqual([
      { name: 'TV', from: '1', to: '2', action: 'install' },
      { name: 'dbiapp_pylib', from: '1', to: '2', action: 'install' },
      { name: 'QE', from: '1', to: '1', action: 'none' },
    ]);
    const back = await sb.json(['apply', path.join(sb.dir, 'r1.yaml')]);
    expect(back.products.map((p: { action: string }) => p.action)).toEqual(['activate', 'activate', 'none']);
    const out = path.join(sb.dir, 'captured.yaml');
    const rel = await sb.run(['release', '--output', out]);
    expect(rel.exitCode, rel.stderr).toBe(0);
    const text = await fs.readFile(out, 'utf8');
    expect(text).toContain(
      `TV: { version: "1", archive: "${archives['TV-1']}", sha256: "${await sha(archives['TV-1'])}" }`,
    );
    const check = await sb.run(['apply', out, '--check']);
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);

    // A URL not in the cache: --dry-run says it would be downloaded, and downloads nothing (port 9 has no server).
    const url = `https://127.0.0.1:9/${path.basename(archives['TV-2'])}`;
    const byUrl = path.join(sb.dir, 'url.yaml');
    await fs.writeFile(
      byUrl,
      `products:\n  TV: { version: "2", archive: "${url}", sha256: "${await sha(archives['TV-2'])}" }\n`,
    );
    await fs.writeFile(
      byUrl.replace('url.yaml', 'url3.yaml'),
      `products:\n  QE: { version: "3", archive: "${url.replace('tv-2', 'QEngine-3')}", sha256: "${'d'.repeat(64)}" }\n`,
    );
    const du = await sb.json(['apply', byUrl.replace('url.yaml', 'url3.yaml'), '--dry-run']);
    expect(du.archives).toEqual([
      { name: 'QE', source: url.replace('tv-2', 'QEngine-3'), sha256: 'd'.repeat(64), download: true },
    ]);
    expect(du.render).toEqual([]);
    expect(du.products).toEqual([{ name: 'QE', from: '1', to: '3', action: 'install' }]);
    const dt = await sb.run(['apply', byUrl, '--dry-run']);
    expect(dt.exitCode, dt.stderr).toBe(0);
    expect(dt.stdout).toMatch(/activate/);
  }, 180_000);

  it("ChartDirector's licence: missing is exit 2 naming key and line; it goes in with the version; release writes it; another one is said", async () => {
    const cd = await writeSampleArchive(sb.dir, 'ChartDirector', '5.0.2');
    const lic = path.join(sb.dir, 'chartdir.lic');
    const file = path.join(sb.dir, 'cd.yaml');
    await fs.writeFile(
      file,
      `products:\n  ChartDirector:\n    version: "5.0.2"\n    archive: "${cd}"\n    sha256: "${await sha(cd)}"\n    license: "${lic}"\n`,
    );
    const before = await snapshotTree(path.join(sb.dir, 'site'));
    for (const args of [
      ['apply', file],
      ['apply', file, '--check'],
    ]) {
      const r = await sb.run(args);
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toContain(
        `${file}:6: products.ChartDirector.license: ${lic} does not exist on this host: put ChartDirector's licence file there, or correct the path`,
      );
    }
    await fs.mkdir(lic);
    const dir = await sb.run(['apply', file]);
    expect(dir.exitCode).toBe(2);
    expect(dir.stderr).toContain(`products.ChartDirector.license: ${lic} is not a file`);
    await fs.rmdir(lic);
    expect(await snapshotTree(path.join(sb.dir, 'site'))).toEqual(before);

    await fs.writeFile(lic, 'licence A\n');
    const j = await sb.json(['apply', file]);
    expect(j.products).toEqual([{ name: 'ChartDirector', from: null, to: '5.0.2', action: 'install' }]);
    expect(await fs.readFile(path.join(sb.dir, 'site/dbwebtools/webpylib/ChartDirector/chartdir.lic'), 'utf8')).toBe(
      'licence A\n',
    );
    const inst = (await history())
      .map((l) => JSON.parse(l))
      .filter((e) => e.action === 'install' && e.product === 'ChartDirector');
    expect(inst.map((e) => e.license)).toEqual([lic]);
    expect((await sb.run(['verify'])).exitCode).toBe(0);
    const rel = await sb.json(['release']);
    expect(rel.products.find((p: { name: string }) => p.name === 'ChartDirector')).toEqual({
      name: 'ChartDirector',
      version: '5.0.2',
      archive: cd,
      sha256: await sha(cd),
      license: lic,
    });
    const out = path.join(sb.dir, 'captured-cd.yaml');
    expect((await sb.run(['release', '--output', out])).exitCode).toBe(0);
    expect(await fs.readFile(out, 'utf8')).toContain(
      `ChartDirector: { version: "5.0.2", archive: "${cd}", sha256: "${await sha(cd)}", license: "${lic}" }`,
    );
    expect((await sb.run(['apply', out, '--check'])).exitCode).toBe(0);

    // Another licence for the installed version: said, not taken for applied, and nothing changed.
    await fs.writeFile(lic, 'licence B\n');
    const other = await sb.run(['apply', file, '--check']);
    expect(other.exitCode).toBe(0);
    expect(other.stderr).toContain(
      `ChartDirector 5.0.2 holds another licence file than ${lic} (products.ChartDirector.license)`,
    );
  }, 180_000);

  it('refuses a wrong sha256 and a version installed from other bytes, the tree byte for byte as it was', async () => {
    const before = await snapshotTree(path.join(sb.dir, 'site'));
    const wrong = await release('wrong.yaml', { TV: '2', QE: '2' }, { QE: 'b'.repeat(64) });
    const r = await sb.run(['apply', wrong]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`expected ${'b'.repeat(64)}, got ${await sha(archives['QE-2'])}`));
    const other = await release('other.yaml', { TV: '2' }, { TV: 'c'.repeat(64) });
    const o = await sb.run(['apply', other, '--check']);
    expect(o.exitCode).toBe(1);
    expect(o.stderr).toMatch(/TV 2 is installed from a different archive/);
    expect(await snapshotTree(path.join(sb.dir, 'site'))).toEqual(before);
    const bad = path.join(sb.dir, 'bad.yaml');
    await fs.writeFile(bad, 'products:\n  ECL: { version: "1", archive: "/x/y.tar.gz", sha256: "x" }\n');
    const b = await sb.run(['apply', bad]);
    expect(b.exitCode).toBe(2);
    expect(b.stderr).toContain(`${bad}:2: products.ECL`);
  });
});
