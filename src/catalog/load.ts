import fs from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { WebtreeError } from '../core/errors.js';
import { PACKAGE_ROOT } from '../core/package-root.js';
import type { ProductDescriptor } from './types.js';

const KEYS = new Set([
  'name',
  'title',
  'installable',
  'archives',
  'unversionedArchives',
  'base',
  'dir',
  'versionDir',
  'pointer',
  'webLinks',
  'layout',
  'content',
  'addFiles',
  'license',
  'requires',
  'wsgi',
  'probe',
]);

function bad(file: string, what: string): never {
  throw new WebtreeError('ESITE', `product descriptor ${file}: ${what}`, { hint: 'fix the descriptor in products/' });
}

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Normalise one descriptor; refuses unknown keys and missing fields so a typo cannot pass unseen. */
export function parseDescriptor(file: string, raw: unknown): ProductDescriptor {
  if (typeof raw !== 'object' || raw === null) bad(file, 'not a mapping');
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!KEYS.has(k)) bad(file, `unknown key "${k}"`);
  for (const k of ['name', 'title', 'dir', 'versionDir'])
    if (typeof r[k] !== 'string') bad(file, `"${k}" must be a string`);
  if (!strings(r.archives)) bad(file, '"archives" must be a list of names with {v}');
  if (r.base !== 'products' && r.base !== 'webpylib') bad(file, '"base" must be products or webpylib');
  if (r.layout !== 'single-top' && r.layout !== 'any') bad(file, '"layout" must be single-top or any');
  const pointer = r.pointer as { name?: unknown; target?: unknown } | undefined;
  if (typeof pointer?.name !== 'string' || typeof pointer.target !== 'string')
    bad(file, '"pointer" needs name and target');
  const webLinks = (r.webLinks ?? []) as { path?: unknown; target?: unknown }[];
  if (!Array.isArray(webLinks) || webLinks.some((l) => typeof l.path !== 'string' || typeof l.target !== 'string'))
    bad(file, '"webLinks" entries need path and target');
  const d: ProductDescriptor = {
    name: r.name as string,
    title: r.title as string,
    installable: r.installable !== false,
    archives: r.archives,
    unversionedArchives: strings(r.unversionedArchives) ? r.unversionedArchives : [],
    base: r.base,
    dir: r.dir as string,
    versionDir: r.versionDir as string,
    pointer: { name: pointer.name, target: pointer.target },
    webLinks: webLinks as ProductDescriptor['webLinks'],
    layout: r.layout,
    content: typeof r.content === 'string' ? r.content : undefined,
    addFiles: (r.addFiles ?? {}) as Record<string, string>,
    license: r.license as ProductDescriptor['license'],
    requires: strings(r.requires) ? r.requires : [],
    wsgi: r.wsgi as ProductDescriptor['wsgi'],
    probe: typeof r.probe === 'string' ? r.probe : undefined,
  };
  if (r.probe !== undefined && (typeof r.probe !== 'string' || !r.probe.startsWith('/')))
    bad(file, '"probe" must be a URL path starting with /');
  if (!d.versionDir.includes('{v}') || !d.pointer.target.includes('{v}'))
    bad(file, 'versionDir and pointer.target must contain {v}');
  return d;
}

let cached: ProductDescriptor[] | undefined;

const PRODUCTS = path.join(PACKAGE_ROOT, 'products');
/** Written by `npm run build` (scripts/cache-catalog.mjs): each descriptor parsed, by size and mtime. */
const CACHE = path.join(PACKAGE_ROOT, 'dist', 'catalog-cache.json');

type CacheEntry = { size: number; mtimeMs: number; raw: unknown };

/** A descriptor file's YAML, from the build's cache while the file is unchanged, else parsed. */
async function readDescriptor(file: string, cache: Record<string, CacheEntry>): Promise<unknown> {
  const st = await fs.stat(file);
  const c = cache[path.basename(file)];
  if (c && c.size === st.size && c.mtimeMs === st.mtimeMs) return c.raw;
  return parse(await fs.readFile(file, 'utf8'));
}

/** The catalog, in the order of DESIGN.md's table. */
export async function loadCatalog(
  dir = PRODUCTS,
  cacheFile = dir === PRODUCTS ? CACHE : undefined,
): Promise<ProductDescriptor[]> {
  if (cached && dir === PRODUCTS) return cached;
  const order = ['TV', 'ConstantsDB', 'AV', 'QE', 'EXPO', 'ChartDirector', 'dbiapp_pylib', 'wsgi_py', 'ECL'];
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  // A cache that is missing or torn is no error: the files are parsed.
  const cache = cacheFile
    ? ((await fs
        .readFile(cacheFile, 'utf8')
        .then((t): unknown => JSON.parse(t))
        .catch(() => ({}))) as Record<string, CacheEntry>)
    : {};
  const out: ProductDescriptor[] = [];
  for (const f of files) out.push(parseDescriptor(f, await readDescriptor(path.join(dir, f), cache)));
  out.sort((a, b) => (order.indexOf(a.name) + 1 || 99) - (order.indexOf(b.name) + 1 || 99));
  if (dir === PRODUCTS) cached = out;
  return out;
}

export function findProduct(catalog: ProductDescriptor[], name: string): ProductDescriptor {
  const d = catalog.find((p) => p.name === name) ?? catalog.find((p) => p.name.toLowerCase() === name.toLowerCase());
  if (!d)
    throw new WebtreeError('EUSAGE', `unknown product "${name}"`, {
      hint: `products: ${catalog.map((p) => p.name).join(', ')}`,
    });
  return d;
}

/**
 * A product that has versions: what install, activate, rollback, prune and list act on. ECL is
 * not one (it is served from its own directory), so naming it is bad usage, said plainly.
 */
export function findVersionedProduct(catalog: ProductDescriptor[], name: string): ProductDescriptor {
  const d = findProduct(catalog, name);
  if (!d.installable) {
    throw new WebtreeError(
      'EUSAGE',
      `${d.name} has no versions: webtree does not install it, it is served from its own directory (the site file's ${d.name.toLowerCase()}.dir)`,
      {
        hint: `change ${d.name} in that directory by hand; \`webtree switch-web SERVER\` moves its ${d.wsgi?.cfg ?? 'settings'} between servers and \`webtree verify\` checks it. Versioned products: ${catalog
          .filter((p) => p.installable)
          .map((p) => p.name)
          .join(', ')}`,
      },
    );
  }
  return d;
}
