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
const sha = async (f: string) => createHash('sha256').update(await fs.readFile(f)).digest('hex');
const history = async () => (await fs.readFile(path.join(sb.dir, 'site/www/state/history.jsonl'), 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);

async function release(name: string, versions: Record<string, string>, override: Record<string, string> = {}): Promise<string> {
  const lines = ['products:'];
  for (const [p, v] of Object.entries(versions)) {
    const f = archives[`${p}-${v}`];
    lines.push(`  ${p.toLowerCase()}: { version: "${v}", archive: "${f}", sha256: "${override[p] ?? (await sha(f))}" }`);
  }
  const file = path.join(sb.dir, name);
  await fs.writeFile(file, lines.join('\n') + '\n');
  return file;
}

beforeAll(async () => {
  sb = await makeSandbox();
  for (const p of ['TV', 'dbiapp_pylib', 'QE']) for (const v of ['1', '2']) archives[`${p}-${v}`] = await writeSampleArchive(sb.dir, p, v);
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

    const applied = await sb.run(['apply', r1, '--json']);
    expect(applied.exitCode, applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout).changed).toBe(true);
    const h = await history();
    // One change (one time, one id), then the render of the apps served for the first time.
    expect(h.map((l) => JSON.parse(l).action)).toEqual(['apply', 'install', 'install', 'install', 'render']);
    expect(new Set(h.slice(0, 4).map((l) => JSON.parse(l).time)).size).toBe(1);
    expect(new Set(h.slice(0, 4).map((l) => JSON.parse(l).id.split('.')[0])).size).toBe(1);

    const again = await sb.run(['apply', r1]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/nothing to do/);
    expect(await history()).toEqual(h);
    const ok = await sb.run(['apply', r1, '--check', '--json']);
    expect(ok.exitCode).toBe(0);
    expect(JSON.parse(ok.stdout).products.map((p: { action: string }) => p.action)).toEqual(['none', 'none', 'none']);
  });

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
    expect(text).toContain(`TV: { version: "1", archive: "${archives['TV-1']}", sha256: "${await sha(archives['TV-1'])}" }`);
    const check = await sb.run(['apply', out, '--check']);
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
  });

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
