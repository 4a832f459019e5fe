/**
 * adopt through the built CLI on a tree laid out by hand as the guide describes. The guide's
 * own listing disagrees with itself (QE_decam.cfg -> QE_decam.cfg_server3, only _server2 there):
 * adopt must say so and change nothing. Once fixed, adopt converts the tree while a reader
 * thread opens every consumer path in a loop, and must never see a failure or other bytes.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHistory } from '../../src/state/history.js';
import { ensureBuilt, webtree } from './cli.js';
import { cfgText, eclText, handTree, readerPaths, type HandTreeOptions } from './hand-tree.js';
import { startReader } from './reader.js';

const dirs: string[] = [];
beforeAll(() => ensureBuilt(), 120_000);
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

async function tree(o: HandTreeOptions = {}) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-adopt-'));
  await fs.chmod(dir, 0o755); // the service account must reach the tree, as on the host
  dirs.push(dir);
  return {
    dir,
    ...(await handTree(dir, o)),
    cfg: path.join(dir, 'www', 'html', 'cfg'),
    ecl: path.join(dir, 'www', 'wsgi', 'ECL', 'decam'),
  };
}

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = path.join(e.parentPath, e.name);
    if (p.startsWith(path.join(dir, 'www', 'state'))) continue; // the lock file comes and goes
    out[p] = e.isSymbolicLink() ? `-> ${await fs.readlink(p)}` : e.isFile() ? await fs.readFile(p, 'utf8') : 'dir';
  }
  return out;
}

async function refused(t: Awaited<ReturnType<typeof tree>>): Promise<string> {
  const before = await snapshot(t.dir);
  const r = await webtree(t.config, ['adopt']);
  expect(r.code, r.stdout + r.stderr).toBe(1);
  expect(await snapshot(t.dir)).toEqual(before);
  return r.stderr;
}

describe('adopt (CLI)', () => {
  it("reports the guide's own inconsistency (QE_decam.cfg -> a missing _server3) and changes nothing", async () => {
    const err = await refused(await tree());
    expect(err).toContain('the tree disagrees with itself');
    expect(err).toMatch(
      /! .*QE_decam\.cfg -> QE_decam\.cfg_server3, which does not exist \(beside it: QE_decam\.cfg_server2\): QE reads nothing now/,
    );
    expect(err).toMatch(/ .*constants\.cfg -> constants\.cfg_server3: server3/);
  });

  it('refuses cfg links that name different servers', async () => {
    const err = await refused(await tree({ qeServer3: true, cfgServer: { 'constants.cfg': 'server2' } }));
    expect(err).toMatch(/! the consumers name different servers: server3 \(TV, AV, QE, ECL\), server2 \(ConstantsDB\)/);
  });

  it('refuses when ECL disagrees with the cfg links', async () => {
    const err = await refused(await tree({ qeServer3: true, eclMissing: 'server2' }));
    expect(err).toMatch(/settings\.py: a plain file; settings\.py_server2 is the variant missing: server2/);
    expect(err).toContain('different servers');
  });

  it("refuses an ECL settings.py that matches no server's variant", async () => {
    const t = await tree({ qeServer3: true, eclMissing: null });
    await fs.writeFile(path.join(t.ecl, 'settings.py'), '# edited by hand\n');
    const err = await refused(t);
    expect(err).toMatch(
      /settings\.py is a plain file and which server it is for cannot be told \(no variant missing\)/,
    );
  });

  it('converts the tree in place while readers keep reading the same bytes', async () => {
    const t = await tree({ qeServer3: true });
    const ecl = path.join(t.ecl, 'settings.py');
    const original = await fs.stat(ecl);
    const dry = await webtree(t.config, ['adopt', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(
      `keep ${ecl} as ${ecl}_server3 (hard link), then point ${ecl} -> ${path.join(t.dir, 'www', 'servers', 'active', 'ecl-settings.py')}`,
    );
    expect(dry.stdout).toContain('note: active server: server3 (from 5 consumer path(s))');

    const paths = readerPaths(t.dir);
    const expected = await Promise.all(paths.map((p) => fs.readFile(p, 'utf8')));
    const reader = startReader(paths, expected);
    const t0 = Date.now();
    const r = await webtree(t.config, ['adopt']);
    const ms = Date.now() - t0;
    const seen = await reader.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(seen.bad).toEqual([]);
    expect(seen.reads).toBeGreaterThan(1000);
    console.log(`adopt: ${ms} ms; the reader thread opened ${seen.reads} paths meanwhile, 0 failures or other bytes`);

    // Every consumer now goes through the switch; ECL's file lives on, same inode and mode, as _server3.
    expect(await fs.readlink(path.join(t.cfg, 'des_tv.cfg'))).toBe(
      path.join(t.dir, 'www', 'servers', 'active', 'des_tv.cfg'),
    );
    const kept = await fs.stat(`${ecl}_server3`);
    expect([kept.ino, kept.mode & 0o777]).toEqual([original.ino, 0o600]);
    expect(await fs.readlink(path.join(t.dir, 'dbwebtools', 'QEngine', 'current'))).toBe('2.1'); // re-spelled, same place

    // The one finding: ChartDirector's real directory, which adopt leaves alone and verify names with what to do.
    const verify = await webtree(t.config, ['verify']);
    expect(verify.code, verify.stdout).toBe(1);
    expect(verify.stdout).toMatch(
      /^verify: 1 finding\(s\)\n  ChartDirector: .*webpylib\/ChartDirector is a real directory where webtree keeps ChartDirector's version link.*move it aside/,
    );
    const st = JSON.parse((await webtree(t.config, ['status', '--json'])).stdout);
    expect(st.server).toBe('server3');
    expect(st.products.find((p: { name: string }) => p.name === 'TV')).toMatchObject({
      current: '3.3a',
      versions: ['3.3a', '3.3b'],
    });
    const h = await readHistory(path.join(t.dir, 'www', 'state', 'history.jsonl'));
    expect(h.filter((e) => e.action === 'adopt').map((e) => [e.product ?? '-', e.to])).toEqual([
      ['-', 'server3'],
      ['TV', '3.3a'],
      ['ConstantsDB', '1.5d'],
      ['AV', '1.1'],
      ['QE', '2.1'],
      ['dbiapp_pylib', 'v1_4a'],
      ['wsgi_py', 'v1_5a'],
    ]);
    expect(r.stderr).toContain('ChartDirector: '); // a real directory: left alone, and said so

    // Adopted versions are installed like any other: TV can be activated and rolled back.
    expect((await webtree(t.config, ['activate', 'TV', '3.3b'])).code).toBe(0);
    expect((await webtree(t.config, ['rollback', 'TV'])).code).toBe(0);
    expect(await fs.readlink(path.join(t.dir, 'dbwebtools', 'tv', 'current'))).toBe('3.3a');

    // A second adopt has nothing to do; a failover now moves ECL too.
    const again = await webtree(t.config, ['adopt']);
    expect(again.stdout).toContain('nothing to adopt');
    const sw = await webtree(t.config, ['switch-web', 'server2', '--no-check-db', '--no-restart']);
    expect(sw.code, sw.stderr).toBe(0);
    expect(await fs.readFile(ecl, 'utf8')).toBe(eclText('server2'));
    expect(await fs.readFile(path.join(t.cfg, 'QE_decam.cfg'), 'utf8')).toBe(cfgText('server2', 'QE_decam.cfg'));
  });
});
