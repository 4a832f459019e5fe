import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { makeSandbox, type Sandbox } from '../helpers/cli.js';

let sb: Sandbox;
let arch: string;
const site = () => path.join(sb.dir, 'site');
const real = (p: string) => fs.realpath(path.join(site(), p));

beforeAll(async () => {
  sb = await makeSandbox();
  arch = path.join(sb.dir, 'archives');
  await fs.mkdir(arch);
});
afterAll(async () => sb.cleanup());

describe('install, activate, rollback, prune through the built CLI', () => {
  it('install unpacks, records a manifest and activates; the web link serves the new version', async () => {
    const a = await writeSampleArchive(arch, 'TV', '3.3a');
    const r = await sb.run(['install', a]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/install TV 3.3a and activate it: done/);
    expect(await fs.readlink(path.join(site(), 'dbwebtools/tv/current'))).toBe('3.3a');
    expect(await fs.readlink(path.join(site(), 'www/html/TV'))).toBe(
      path.join(site(), 'dbwebtools/tv/current/product'),
    );
    expect(await fs.readFile(path.join(site(), 'www/html/TV/tv.wsgi'), 'utf8')).toMatch(/VERSION = "3.3a"/);
    const m = JSON.parse(await fs.readFile(path.join(site(), 'www/state/manifests/TV/3.3a.json'), 'utf8'));
    expect(m.archiveSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.files.map((f: { path: string }) => f.path)).toContain('product/tv.wsgi');
  });

  it('the same archive again is a no-op (exit 0); the same version from another archive is refused (exit 1)', async () => {
    const a = path.join(arch, 'tv-3.3a.tar.gz');
    const again = await sb.run(['install', a]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/already installed from the same archive/);
    const other = path.join(sb.dir, 'other');
    await fs.mkdir(other);
    const b = await writeSampleArchive(other, 'TV', '3.3a', { 'product/extra.txt': 'different\n' });
    const refused = await sb.run(['install', b]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/TV 3.3a is already installed from a different archive/);
  });

  it('rollback returns to the version active before, from the history, not the next lower one', async () => {
    for (const v of ['3.10', '3.4'])
      expect((await sb.run(['install', await writeSampleArchive(arch, 'TV', v)])).exitCode).toBe(0);
    // active went 3.3a -> 3.10 -> 3.4; the previous one is 3.10, though 3.3a is the next lower number
    let st = await sb.json(['status']);
    expect(st.products.find((p: { name: string }) => p.name === 'TV')).toEqual({
      name: 'TV',
      current: '3.4',
      previous: '3.10',
      versions: ['3.3a', '3.4', '3.10'],
    });
    expect((await sb.run(['rollback', 'TV'])).exitCode).toBe(0);
    expect(await real('www/html/TV')).toBe(path.join(site(), 'dbwebtools/tv/3.10/product'));
    expect((await sb.run(['rollback', 'TV'])).exitCode).toBe(0);
    st = await sb.json(['status']);
    expect(st.products[0].current).toBe('3.3a');
    const none = await sb.run(['rollback', 'TV']);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toMatch(/no earlier active version of TV/);
    expect((await sb.run(['rollback', 'TV', '--to', '3.4'])).exitCode).toBe(0);
    expect((await sb.json(['status'])).products[0].current).toBe('3.4');
  });

  it('activate names what is installed when asked for what is not', async () => {
    const r = await sb.run(['activate', 'TV', '9.9']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/TV 9.9 is not installed/);
    expect(r.stderr).toMatch(/installed: 3.3a, 3.4, 3.10/);
  });

  it('--no-activate installs without switching; --dry-run changes nothing', async () => {
    const a = await writeSampleArchive(arch, 'TV', '4.0');
    const dry = await sb.run(['install', a, '--dry-run']);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toMatch(/would install TV 4.0/);
    expect(await fs.readdir(path.join(site(), 'dbwebtools/tv'))).not.toContain('4.0');
    expect((await sb.run(['install', a, '--no-activate'])).exitCode).toBe(0);
    const tv = (await sb.json(['list', 'TV'])).products[0];
    expect(tv.versions).toContain('4.0');
    expect(tv.current).toBe('3.4');
  });

  it('prune keeps the newest N and always current and previous', async () => {
    const r = await sb.run(['prune', 'TV', '--keep', '1']);
    expect(r.exitCode, r.stderr).toBe(0);
    const tv = (await sb.json(['list', 'TV'])).products[0];
    // current 3.4 (rollback --to from 3.3a), previous 3.3a, newest 4.0
    expect(tv.versions).toEqual(['3.3a', '3.4', '4.0']);
    expect(await fs.readdir(path.join(site(), 'dbwebtools/tv'))).toEqual(
      expect.arrayContaining(['3.3a', '3.4', '4.0', 'current']),
    );
    expect(await fs.readdir(path.join(site(), 'dbwebtools/tv'))).not.toContain('3.10');
    expect((await sb.run(['prune', 'TV', '--keep', 'x'])).exitCode).toBe(2);
  });

  it('history says when, who, what, from, to, sha256 and outcome', async () => {
    const h = (await sb.json(['history', 'TV'])).entries;
    expect(h[0]).toMatchObject({ action: 'install', product: 'TV', version: '3.3a', to: '3.3a', outcome: 'ok' });
    expect(h[0].user).toBeTruthy();
    expect(h[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(h.map((e: { action: string }) => e.action)).toEqual([
      'install',
      'install',
      'install',
      'rollback',
      'rollback',
      'rollback',
      'install',
      'prune',
    ]);
    const sudo = await sb.run(['activate', 'TV', '4.0'], { SUDO_USER: 'alice' });
    expect(sudo.exitCode).toBe(0);
    expect((await sb.json(['history', 'TV'])).entries.at(-1)).toMatchObject({
      action: 'activate',
      from: '3.4',
      to: '4.0',
      sudoUser: 'alice',
    });
  });
});

describe('the other products', () => {
  it('QE links the nested QE/DECam; EXPO.tar needs --version; EXPO pages are versioned', async () => {
    expect((await sb.run(['install', await writeSampleArchive(arch, 'QE', '2.0')])).exitCode).toBe(0);
    expect(await real('www/html/QE/DECam')).toBe(path.join(site(), 'dbwebtools/QEngine/2.0'));
    const expo = await writeSampleArchive(arch, 'EXPO', '1.0');
    const plain = path.join(arch, 'EXPO.tar');
    await fs.copyFile(expo, plain);
    const r = await sb.run(['install', plain]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/"EXPO.tar" carries no version/);
    // the copy still holds EXPO-1.0/: a top directory naming another version is refused (issue 10) ...
    const mismatch = await sb.run(['install', plain, '--version', '2024.11']);
    expect(mismatch.exitCode).toBe(1);
    expect(mismatch.stderr).toMatch(/holds EXPO-1\.0\/, which names EXPO 1\.0, not EXPO 2024\.11; nothing was changed/);
    // ... unless --force says the name given is right
    const v = await sb.run(['install', plain, '--version', '2024.11', '--force']);
    expect(v.exitCode, v.stderr).toBe(0);
    expect(await fs.readFile(path.join(site(), 'www/html/EXPO/index.html'), 'utf8')).toMatch(/Exposure Browser 1.0/);
  });

  it('ChartDirector gets lib/ contents, __init__.py and its licence, carried over on upgrade; the python libraries import', async () => {
    const lic = path.join(sb.dir, 'chartdir.lic');
    await fs.writeFile(lic, 'licence-key\n');
    expect(
      (await sb.run(['install', await writeSampleArchive(arch, 'ChartDirector', '5.0.2'), '--license', lic])).exitCode,
    ).toBe(0);
    const cd = path.join(site(), 'dbwebtools/webpylib/ChartDirector');
    expect(await fs.readlink(cd)).toBe('ChartDirector-5.0.2');
    expect((await fs.readdir(cd)).sort()).toEqual(['__init__.py', 'chartdir.lic', 'fonts', 'pychartdir.py']);
    const up = await sb.run(['install', await writeSampleArchive(arch, 'ChartDirector', '5.0.3')]);
    expect(up.exitCode).toBe(0);
    expect(up.stderr).not.toMatch(/licence/);
    expect(await fs.readFile(path.join(cd, 'chartdir.lic'), 'utf8')).toBe('licence-key\n');
    for (const [p, v] of [
      ['dbiapp_pylib', 'v1_4a'],
      ['wsgi_py', 'v1_5a'],
    ])
      expect((await sb.run(['install', await writeSampleArchive(arch, p, v)])).exitCode).toBe(0);
    const lib = path.join(site(), 'dbwebtools/webpylib');
    expect(await fs.readlink(path.join(lib, 'dbiapp_pylib'))).toBe('dbiapp_pylib_v1_4a/lib');
    const py = await execa(
      'python3',
      ['-c', 'import ChartDirector, dbiapp, wsgi_py; print(ChartDirector.version(), dbiapp.VERSION, wsgi_py.VERSION)'],
      {
        env: { PYTHONPATH: `${lib}:${path.join(lib, 'dbiapp_pylib')}` }, // what runApache.sh's PYTHONPATH held
      },
    );
    expect(py.stdout.trim()).toBe('5.0.3 v1_4a v1_5a');
  });

  it('a first ChartDirector without a licence is a loud warning and a verify finding', async () => {
    const other = await makeSandbox();
    try {
      const a = await writeSampleArchive(other.dir, 'ChartDirector', '5.0.2');
      const r = await other.run(['install', a]);
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toMatch(/warning: ChartDirector has no licence file \(chartdir.lic\)/);
      const v = await other.run(['verify']);
      expect(v.exitCode).toBe(1);
      expect(v.stdout).toMatch(/no licence file chartdir.lic/);
      // an upgrade from an unlicensed version is not refused: it warns again
      const up = await other.run(['install', await writeSampleArchive(other.dir, 'ChartDirector', '5.0.3')]);
      expect(up.exitCode, up.stderr).toBe(0);
      expect(up.stderr).toMatch(/warning: ChartDirector has no licence file/);
    } finally {
      await other.cleanup();
    }
  });
});

describe('verify and refusals', () => {
  it('verify is clean, then names a changed file and a broken link', async () => {
    const clean = await sb.run(['verify']);
    expect(clean.exitCode, clean.stdout).toBe(0);
    const f = path.join(site(), 'dbwebtools/tv/4.0/product/tv.wsgi');
    const before = await fs.readFile(f);
    await fs.appendFile(f, '# edited by hand\n');
    const v = await sb.run(['verify', '--json']);
    expect(v.exitCode).toBe(1);
    expect(JSON.parse(v.stdout).findings).toContainEqual({
      what: 'TV 4.0',
      problem: expect.stringMatching(/product\/tv.wsgi.*(changed|hash|size)/),
    });
    await fs.writeFile(f, before);
    expect((await sb.run(['verify'])).exitCode).toBe(0);
  });

  it('refuses a real directory where a web link should be, and leaves the site as it was', async () => {
    const other = await makeSandbox();
    try {
      await fs.mkdir(path.join(other.dir, 'site/www/html/AV'));
      await fs.writeFile(path.join(other.dir, 'site/www/html/AV/index.html'), 'hand-made\n');
      const r = await other.run(['install', await writeSampleArchive(other.dir, 'AV', '1.1')]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/html\/AV is a real file or directory where webtree keeps a link; nothing was changed/);
      expect(await fs.readFile(path.join(other.dir, 'site/www/html/AV/index.html'), 'utf8')).toBe('hand-made\n');
      // refused at planning: nothing was unpacked, nothing installed
      expect((await other.json(['list', 'AV'])).products[0]).toEqual({
        name: 'AV',
        current: null,
        previous: null,
        versions: [],
      });
      await expect(fs.readdir(path.join(other.dir, 'site/dbwebtools/des_alarms'))).rejects.toThrow(/ENOENT/);
    } finally {
      await other.cleanup();
    }
  });

  it('a bad site file is exit 2 naming the key and the line', async () => {
    const bad = path.join(sb.dir, 'bad.yaml');
    await fs.writeFile(bad, 'paths:\n  www: relative/www\napache:\n  lisen: 1\n');
    const r = await sb.run(['--config', bad, 'status']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/bad.yaml:2: paths.www: must be an absolute path/);
    expect(r.stderr).toMatch(/bad.yaml:4: apache.lisen: unknown key/);
    const missing = await sb.run(['--config', path.join(sb.dir, 'nope.yaml'), 'status']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/nope.yaml does not exist/);
    expect(missing.stderr).not.toMatch(/at .*\.js/); // no stack trace without --debug
  });

  it('init refuses an existing site file and bad options', async () => {
    const again = await sb.run(['init', '--prefix', site()]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/exists; init never overwrites it/);
    const r = await sb.run([
      '--config',
      path.join(sb.dir, 'x.yaml'),
      'init',
      '--prefix',
      path.join(sb.dir, 'x'),
      '--listen',
      'nowhere',
    ]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/apache.listen: must be HOST:PORT/);
  });
});
