/** The release file: what it accepts, and every refusal naming its key and line (exit 2). */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import { readRelease, releaseError } from '../../src/release/file.js';

const H = 'a'.repeat(64);
const read = async (text: string) => readRelease(text, await loadCatalog());

describe('release file', () => {
  it('reads paths, file:// and https:// URLs, names in any case, versions as written', async () => {
    const r = await read(`products:
  tv: { version: "3.4", archive: "https://files.example.org/tv-3.4.tar.gz", sha256: "${H.toUpperCase()}" }
  CONSTANTSDB:
    version: 1.50
    archive: /srv/archives/ConstantsDB-1.50.tar.gz
    sha256: ${H}
  ChartDirector: { version: "5.0.2", archive: "file:///srv/ChartDirector-5.0.2.tar.gz", sha256: "${H}", license: /etc/webtree/chartdir.lic }
  EXPO: { version: "2024-03", archive: "/srv/EXPO.tar", sha256: "${H}" }
`);
    expect(r.problems).toEqual([]);
    expect(r.entries!.map((e) => [e.product, e.version, e.archive.kind, e.archive.name])).toEqual([
      ['TV', '3.4', 'url', 'tv-3.4.tar.gz'],
      ['ConstantsDB', '1.50', 'file', 'ConstantsDB-1.50.tar.gz'],
      ['ChartDirector', '5.0.2', 'file', 'ChartDirector-5.0.2.tar.gz'],
      ['EXPO', '2024-03', 'file', 'EXPO.tar'],
    ]);
    expect(r.entries![0].sha256).toBe(H);
    expect(r.entries![2].license).toBe('/etc/webtree/chartdir.lic');
    expect(r.entries![2].licenseLine).toBe(7);
  });

  it('refuses, with key and line: ECL, unknown products, a missing sha256, a mismatched name, bad URLs', async () => {
    const r = await read(`products:
  ECL: { version: "1", archive: "/srv/x.tar.gz", sha256: "${H}" }
  Nope: { version: "1", archive: "/srv/x.tar.gz", sha256: "${H}" }
  TV: { version: "3.4", archive: "/srv/tv-3.4.tar.gz" }
  QE: { version: "2.1", archive: "/srv/QEngine-2.2.tar.gz", sha256: "${H}" }
  AV: { version: "1", archive: "ftp://host/AV-1.tar.gz", sha256: "${H}" }
  ConstantsDB: { version: "1", archive: "https://u:p@host/ConstantsDB-1.tar.gz", sha256: "${H}" }
  wsgi_py: { version: "1", archive: "relative/wsgi_py-1.tar.gz", sha256: "xyz", colour: red }
  dbiapp_pylib: { version: "1", archive: "/srv/tv-1.tar.gz", sha256: "${H}", license: /x }
  ChartDirector: { version: "5.0.2", archive: "/srv/ChartDirector-5.0.2.tar.gz", sha256: "${H}", license: chartdir.lic }
`);
    expect(r.entries).toBeUndefined();
    const by = (k: string) => r.problems.filter((p) => p.key === k);
    expect(by('products.ECL')[0]).toMatchObject({ line: 2, message: expect.stringMatching(/ECL has no versions/) });
    expect(by('products.Nope')[0]).toMatchObject({ line: 3, message: expect.stringMatching(/unknown product "Nope"/) });
    expect(by('products.TV.sha256')[0]).toMatchObject({ line: 4, message: expect.stringMatching(/is required/) });
    expect(by('products.QE.version')[0]).toMatchObject({
      line: 5,
      message: expect.stringMatching(/says version 2\.2, the entry says 2\.1/),
    });
    expect(by('products.AV.archive')[0]).toMatchObject({
      line: 6,
      message: expect.stringMatching(/ftp:\/\/ is not supported/),
    });
    expect(by('products.ConstantsDB.archive')[0]).toMatchObject({
      line: 7,
      message: expect.stringMatching(/~\/\.netrc/),
    });
    expect(by('products.wsgi_py.archive')[0]?.line).toBe(8);
    expect(by('products.wsgi_py.sha256')[0]?.message).toMatch(/64 hex digits/);
    expect(by('products.wsgi_py.colour')[0]?.message).toMatch(/unknown key "colour"/);
    expect(by('products.dbiapp_pylib.license')[0]?.message).toMatch(
      /takes no licence file \(only ChartDirector does\): remove the key/,
    );
    expect(by('products.ChartDirector.license')[0]).toMatchObject({
      line: 10,
      message: expect.stringMatching(/absolute path, e\.g\. \/etc\/webtree\/chartdir\.lic \(got "chartdir\.lic"\)/),
    });
    const e = releaseError('/x/release.yaml', r.problems);
    expect(e.exitCode).toBe(2);
    expect(e.details).toContain('/x/release.yaml:4: products.TV.sha256: is required');
  });

  it('refuses a product named twice in two cases, an unknown top key, and bad YAML', async () => {
    expect(
      (
        await read(
          `products:\n  TV: { version: "1", archive: "/a/tv-1.tar.gz", sha256: "${H}" }\n  tv: { version: "1", archive: "/a/tv-1.tar.gz", sha256: "${H}" }\n`,
        )
      ).problems[0],
    ).toMatchObject({ key: 'products.tv', line: 3 });
    expect((await read('product: {}\n')).problems.map((p) => p.key)).toEqual(['product', 'products']);
    expect((await read('products: [\n')).problems[0].key).toBe('(yaml)');
    expect((await read('products: 3\n')).problems[0].message).toMatch(/mapping/);
  });
});
