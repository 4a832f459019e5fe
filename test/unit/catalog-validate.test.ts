/**
 * The one reading of a product descriptor (src/catalog/validate.ts): every shipped descriptor
 * passes; a wrong type in any key, nested ones included (wsgi, license, addFiles), is refused
 * with the file, the key and the fix; and the build's cache script refuses the same through the
 * compiled validator (a bad descriptor fails `npm run build`).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadCatalog } from '../../src/catalog/load.js';
import { descriptorFromText, validateDescriptor } from '../../src/catalog/validate.js';
import { WebtreeError } from '../../src/core/errors.js';
import { PACKAGE_ROOT } from '../../src/core/package-root.js';
import { ensureBuilt } from '../helpers/cli.js';

const PRODUCTS = path.join(PACKAGE_ROOT, 'products');
// Read at load time: the tables of it.each below are built from them.
const read = (f: string) => parse(readFileSync(path.join(PRODUCTS, f), 'utf8')) as Record<string, unknown>;
const tv = read('TV.yaml');
const chart = read('ChartDirector.yaml');

/** The refusal of `raw` as file F.yaml: a WebtreeError (exit 2) whose message and hint are returned. */
function refusal(raw: unknown): { message: string; hint: string } {
  try {
    validateDescriptor('/p/F.yaml', raw);
  } catch (err) {
    expect(err).toBeInstanceOf(WebtreeError);
    const e = err as WebtreeError;
    expect(e).toMatchObject({ code: 'ESITE', exitCode: 2 });
    expect(e.message.startsWith('product descriptor /p/F.yaml: ')).toBe(true);
    expect(e.hint).toMatch(/\(in webtree's products\/ directory, then npm run build\)$/);
    return { message: e.message, hint: e.hint! };
  }
  throw new Error('accepted');
}

describe('validateDescriptor', () => {
  it('accepts every shipped descriptor, and what it returns is what the catalog serves', async () => {
    const names = (await fs.readdir(PRODUCTS)).filter((f) => f.endsWith('.yaml'));
    expect(names.length).toBe(9);
    const catalog = await loadCatalog(PRODUCTS, undefined);
    for (const f of names) {
      const d = descriptorFromText(f, await fs.readFile(path.join(PRODUCTS, f), 'utf8'));
      expect(catalog.find((c) => c.name === d.name)).toEqual(d);
    }
    expect(catalog.find((d) => d.name === 'ChartDirector')).toMatchObject({
      license: { file: 'chartdir.lic' },
      addFiles: { '__init__.py': expect.stringContaining('from pychartdir import *') },
    });
    expect(catalog.find((d) => d.name === 'TV')!.wsgi).toEqual({ mount: '/TV', link: 'TV', cfg: 'des_tv.cfg' });
  });

  const wsgi = (w: unknown) => ({ ...tv, wsgi: w });
  it.each([
    ['a string', wsgi('/TV'), '"wsgi" must be a mapping (got "/TV")'],
    ['a list', wsgi(['/TV']), '"wsgi" must be a mapping'],
    ['mount a number', wsgi({ mount: 5, link: 'TV' }), '"wsgi.mount" must be a URL path starting with / (got 5)'],
    ['mount missing', wsgi({ link: 'TV' }), '"wsgi.mount" must be a URL path starting with / (got nothing)'],
    ['mount relative', wsgi({ mount: 'TV', link: 'TV' }), '"wsgi.mount" must be a URL path'],
    ['mount with a blank', wsgi({ mount: '/T V', link: 'TV' }), '"wsgi.mount" must be a URL path'],
    ['link a number', wsgi({ mount: '/TV', link: 1 }), '"wsgi.link" must be a string (got 1)'],
    ['link no web link', wsgi({ mount: '/TV', link: 'AV' }), '"wsgi.link" must be the path of one of webLinks (TV)'],
    ['link empty on an installable product', wsgi({ mount: '/TV', link: '' }), '"wsgi.link" must be the path of one'],
    ['cfg a list', wsgi({ mount: '/TV', link: 'TV', cfg: ['a.cfg'] }), '"wsgi.cfg" must be a file name without'],
    ['cfg with a directory', wsgi({ mount: '/TV', link: 'TV', cfg: '../x.cfg' }), '"wsgi.cfg" must be a file name'],
    ['script a number', wsgi({ mount: '/TV', link: 'TV', script: 3 }), '"wsgi.script" must be a file name'],
    ['a misspelt key', wsgi({ mount: '/TV', link: 'TV', cgf: 'x' }), '"wsgi.cgf" is not a key of wsgi (it has mount'],
  ])('wsgi: %s is refused, naming the key', (_, raw, words) => {
    const r = refusal(raw);
    expect(r.message).toContain(words);
    expect(r.hint).toMatch(/^(write it as|name the web link|add the link)/);
  });

  const license = (l: unknown) => ({ ...chart, license: l });
  it.each([
    ['a string', license('chartdir.lic'), '"license" must be a mapping with file (got "chartdir.lic")'],
    ['file a number', license({ file: 3 }), '"license.file" must be a file name without a directory (got 3)'],
    ['file missing', license({}), '"license.file" must be a file name without a directory (got nothing)'],
    ['file with a directory', license({ file: '../etc/x' }), '"license.file" must be a file name'],
    ['a misspelt key', license({ files: 'a.lic' }), '"license.files" is not a key of license (it has file)'],
  ])('license: %s is refused, naming the key', (_, raw, words) => {
    const r = refusal(raw);
    expect(r.message).toContain(words);
    expect(r.hint).toContain('write it as license: { file: chartdir.lic }');
  });

  const addFiles = (a: unknown) => ({ ...chart, addFiles: a });
  it.each([
    ['a list', addFiles(['__init__.py']), '"addFiles" must be a mapping of file name to its text'],
    ['a string', addFiles('__init__.py'), '"addFiles" must be a mapping'],
    [
      'a number for the text',
      addFiles({ '__init__.py': 5 }),
      '"addFiles.__init__.py" must be the file\'s text (got 5)',
    ],
    ['a mapping for the text', addFiles({ 'a.py': { x: 1 } }), '"addFiles.a.py" must be the file\'s text'],
    ['a name that leaves the version', addFiles({ '../x.py': 'y' }), '"addFiles.../x.py" must be a file name without'],
    ['a name with a directory', addFiles({ 'lib/x.py': 'y' }), '"addFiles.lib/x.py" must be a file name without'],
  ])('addFiles: %s is refused, naming the key', (_, raw, words) => {
    const r = refusal(raw);
    expect(r.message).toContain(words);
    expect(r.hint).toContain('write it as addFiles: { __init__.py: "text of the file" }');
  });

  it.each([
    ['not a mapping', ['x'], 'is not a mapping'],
    ['an unknown key', { ...tv, wsgii: {} }, '"wsgii" is not a descriptor key'],
    ['installable a string', { ...tv, installable: 'no' }, '"installable" must be true or false (got "no")'],
    ['requires a string', { ...tv, requires: '*.wsgi' }, '"requires" must be a list of strings'],
    ['unversionedArchives a number', { ...tv, unversionedArchives: 5 }, '"unversionedArchives" must be a list'],
    ['content outside the archive', { ...chart, content: '../lib' }, '"content" must be a directory of the unpacked'],
    ['a web link without target', { ...tv, webLinks: [{ path: 'TV' }] }, '"webLinks" entries need path and target'],
    [
      'a pointer without {v}',
      { ...tv, pointer: { name: 'current', target: 'x' } },
      '"pointer.target" must contain {v} once',
    ],
    [
      'a version directory with {v} twice',
      { ...tv, versionDir: '{v}-{v}x' },
      '"versionDir" must contain {v} once (got "{v}-{v}x")',
    ],
  ])('%s is refused', (_, raw, words) => expect(refusal(raw).message).toContain(words));

  it('ECL, served from its own directory, may leave wsgi.link empty', async () => {
    const ecl = descriptorFromText('ECL.yaml', await fs.readFile(path.join(PRODUCTS, 'ECL.yaml'), 'utf8'));
    expect(ecl).toMatchObject({ installable: false, wsgi: { mount: '/ECL', link: '', cfg: 'settings.py' } });
  });

  it('bad YAML is named with the file, not thrown raw', () => {
    expect(() => descriptorFromText('/p/F.yaml', 'name: [TV\n')).toThrow(
      expect.objectContaining({
        code: 'ESITE',
        message: expect.stringMatching(/^product descriptor \/p\/F\.yaml: is not valid YAML: /),
      }),
    );
  });
});

describe('the build script refuses what the validator refuses', () => {
  let root: string;
  beforeAll(async () => {
    ensureBuilt();
    // A copy of the package's build step and compiled catalog, with its own products/.
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-catalog-build-'));
    await fs.mkdir(path.join(root, 'scripts'));
    await fs.copyFile(
      path.join(PACKAGE_ROOT, 'scripts', 'cache-catalog.mjs'),
      path.join(root, 'scripts', 'cache-catalog.mjs'),
    );
    for (const d of ['catalog', 'core'])
      await fs.cp(path.join(PACKAGE_ROOT, 'dist', d), path.join(root, 'dist', d), { recursive: true });
    await fs.symlink(path.join(PACKAGE_ROOT, 'node_modules'), path.join(root, 'node_modules'));
    await fs.cp(PRODUCTS, path.join(root, 'products'), { recursive: true });
  }, 120_000);
  afterAll(async () => fs.rm(root, { recursive: true, force: true }));
  const script = () =>
    spawnSync(process.execPath, [path.join(root, 'scripts', 'cache-catalog.mjs')], { encoding: 'utf8' });

  it('good descriptors: the cache holds each as the validator returns it', async () => {
    const r = script();
    expect(r.status, r.stderr).toBe(0);
    const cache = JSON.parse(await fs.readFile(path.join(root, 'dist', 'catalog-cache.json'), 'utf8'));
    expect(Object.keys(cache).length).toBe(9);
    expect(cache['TV.yaml'].descriptor).toEqual(JSON.parse(JSON.stringify(validateDescriptor('TV.yaml', tv))));
  });

  it('a wrong type in a nested key fails the build with the file, the key and the fix', async () => {
    const file = path.join(root, 'products', 'ChartDirector.yaml');
    const text = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, text.replace('license: { file: chartdir.lic }', 'license: chartdir.lic'));
    const r = script();
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `cache-catalog: product descriptor ${file}: "license" must be a mapping with file (got "chartdir.lic")\n` +
        `  hint: write it as license: { file: chartdir.lic } (in webtree's products/ directory, then npm run build)\n`,
    );
  });
});
