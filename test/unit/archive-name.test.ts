import { beforeAll, describe, expect, it } from 'vitest';
import { identifyArchive } from '../../src/catalog/archive-name.js';
import { loadCatalog } from '../../src/catalog/load.js';
import type { ProductDescriptor } from '../../src/catalog/types.js';
import { WebtreeError } from '../../src/core/errors.js';

let catalog: ProductDescriptor[];
beforeAll(async () => {
  catalog = await loadCatalog();
});

describe('product and version from the archive name', () => {
  it.each([
    ['/x/tv-3.3a.tar.gz', 'TV', '3.3a'],
    ['ConstantsDB-1.5d.tar.gz', 'ConstantsDB', '1.5d'],
    ['des_alarms-1.1.tar.gz', 'AV', '1.1'],
    ['QEngine-2.0.tgz', 'QE', '2.0'],
    ['EXPO-7.tar', 'EXPO', '7'],
    ['ChartDirector-5.0.2.tar.gz', 'ChartDirector', '5.0.2'],
    ['dbiapp_pylib_v1_4a.tar.gz', 'dbiapp_pylib', 'v1_4a'],
    ['wsgi_py_v1_5a.tar.gz', 'wsgi_py', 'v1_5a'],
  ])('%s is %s %s', (name, product, version) => {
    expect(identifyArchive(name, catalog)).toEqual({ product, version });
  });

  it('--product and --version override the name', () => {
    expect(identifyArchive('tv-3.3a.tar.gz', catalog, { version: '3.3b' })).toEqual({ product: 'TV', version: '3.3b' });
    expect(identifyArchive('build.tar.gz', catalog, { product: 'QE', version: '4' })).toEqual({
      product: 'QE',
      version: '4',
    });
  });

  it('EXPO.tar without --version is bad usage (exit 2) with a clear message', () => {
    let err: unknown;
    try {
      identifyArchive('EXPO.tar', catalog);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WebtreeError);
    expect((err as WebtreeError).exitCode).toBe(2);
    expect((err as WebtreeError).message).toMatch(/EXPO.tar" carries no version/);
    expect((err as WebtreeError).hint).toMatch(/--version V/);
    expect(identifyArchive('EXPO.tar', catalog, { version: '2024.1' })).toEqual({ product: 'EXPO', version: '2024.1' });
  });

  it('an unknown name, an unknown product and a quoted version are refused', () => {
    expect(() => identifyArchive('random.tar.gz', catalog)).toThrow(/cannot tell which product/);
    expect(() => identifyArchive('tv-1.tar.gz', catalog, { product: 'Nope' })).toThrow(/unknown product "Nope"/);
    expect(() => identifyArchive('tv-1.tar.gz', catalog, { version: '1"; Include /etc' })).toThrow(/bad version/);
  });
});

describe('the catalog', () => {
  it('has all nine products of DESIGN.md with their real differences', () => {
    expect(catalog.map((d) => d.name)).toEqual([
      'TV',
      'ConstantsDB',
      'AV',
      'QE',
      'EXPO',
      'ChartDirector',
      'dbiapp_pylib',
      'wsgi_py',
      'ECL',
    ]);
    const by = Object.fromEntries(catalog.map((d) => [d.name, d]));
    expect(by.TV.webLinks).toEqual([{ path: 'TV', target: 'current/product' }]);
    expect(by.AV.webLinks).toEqual([{ path: 'AV', target: 'current/product' }]);
    expect(by.QE.webLinks).toEqual([{ path: 'QE/DECam', target: 'current' }]);
    expect(by.EXPO.wsgi).toBeUndefined();
    expect(by.EXPO.layout).toBe('any');
    expect(by.ChartDirector.content).toBe('lib');
    expect(by.ChartDirector.addFiles['__init__.py']).toMatch(/sys.path.append\(_here\)\nfrom pychartdir import \*\n$/);
    expect(by.ChartDirector.license).toEqual({ file: 'chartdir.lic' });
    expect(by.dbiapp_pylib.pointer).toEqual({ name: 'dbiapp_pylib', target: 'dbiapp_pylib_{v}/lib' });
    expect(by.wsgi_py.pointer).toEqual({ name: 'wsgi_py', target: 'wsgi_py_{v}/lib' });
    expect(by.ECL.installable).toBe(false);
    expect(catalog.filter((d) => d.wsgi).map((d) => d.wsgi!.mount)).toEqual([
      '/TV',
      '/ConstantsDB',
      '/AV',
      '/QE/DECam',
      '/ECL',
    ]);
  });
});
