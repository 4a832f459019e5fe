import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { WebtreeError } from '../core/errors.js';
import { PACKAGE_ROOT } from '../core/package-root.js';
import type { ProductDescriptor } from './types.js';

let cached: ProductDescriptor[] | undefined;

const PRODUCTS = path.join(PACKAGE_ROOT, 'products');
/**
 * Written by `npm run build` (scripts/cache-catalog.mjs): each descriptor as validateDescriptor
 * made it, by its file's size and mtime.
 */
const CACHE = path.join(PACKAGE_ROOT, 'dist', 'catalog-cache.json');

type CacheEntry = { size: number; mtimeMs: number; descriptor: ProductDescriptor };

/**
 * A descriptor, from the build's cache while its file is unchanged, else read and checked. The
 * catalog is read with the synchronous calls: a dozen small files, each asynchronous call a round
 * trip through libuv's thread pool at every command's start (issue 15).
 */
async function readDescriptor(file: string, cache: Record<string, CacheEntry>): Promise<ProductDescriptor> {
  const st = statSync(file);
  const c = cache[path.basename(file)];
  if (c && c.size === st.size && c.mtimeMs === st.mtimeMs && typeof c.descriptor === 'object') return c.descriptor;
  // The checker (and the yaml package) loaded only when a descriptor changed since the build.
  const { descriptorFromText } = await import('./validate.js');
  return descriptorFromText(file, readFileSync(file, 'utf8'));
}

/** The catalog, in the order of DESIGN.md's table. */
export async function loadCatalog(
  dir = PRODUCTS,
  cacheFile = dir === PRODUCTS ? CACHE : undefined,
): Promise<ProductDescriptor[]> {
  if (cached && dir === PRODUCTS) return cached;
  const order = ['TV', 'ConstantsDB', 'AV', 'QE', 'EXPO', 'ChartDirector', 'dbiapp_pylib', 'wsgi_py', 'ECL'];
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  // A cache that is missing or torn is no error: the files are parsed.
  let cache: Record<string, CacheEntry> = {};
  try {
    if (cacheFile) cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, CacheEntry>;
  } catch {
    cache = {};
  }
  const out: ProductDescriptor[] = [];
  for (const f of files) out.push(await readDescriptor(path.join(dir, f), cache));
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
