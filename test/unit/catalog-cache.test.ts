/**
 * The build's cache of checked descriptors is used only while a descriptor file is unchanged:
 * an edited file is read afresh, and a missing cache is no error.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import { descriptorFromText } from '../../src/catalog/validate.js';
import type { ProductDescriptor } from '../../src/catalog/types.js';
import { PACKAGE_ROOT } from '../../src/core/package-root.js';

let dir: string;
let products: string;
let cache: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-catalog-'));
  products = path.join(dir, 'products');
  await fs.cp(path.join(PACKAGE_ROOT, 'products'), products, { recursive: true });
  cache = path.join(dir, 'cache.json');
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

/** As scripts/cache-catalog.mjs writes it, with TV's entry edited. */
async function writeCache(edit: (d: ProductDescriptor) => void): Promise<void> {
  const out: Record<string, unknown> = {};
  for (const f of (await fs.readdir(products)).filter((n) => n.endsWith('.yaml'))) {
    const p = path.join(products, f);
    const st = await fs.stat(p);
    const descriptor = descriptorFromText(p, await fs.readFile(p, 'utf8'));
    if (f === 'TV.yaml') edit(descriptor);
    out[f] = { size: st.size, mtimeMs: st.mtimeMs, descriptor };
  }
  await fs.writeFile(cache, JSON.stringify(out));
}

describe('the catalog cache', () => {
  it('is used while the file is unchanged, and ignored once it changes', async () => {
    await writeCache((d) => (d.title = 'from the cache'));
    const tv = async () => (await loadCatalog(products, cache)).find((d) => d.name === 'TV')!;
    expect((await tv()).title).toBe('from the cache');
    // Edited after the build: same size, another mtime. The file is read again.
    const p = path.join(products, 'TV.yaml');
    const later = new Date(Date.now() + 5_000);
    await fs.utimes(p, later, later);
    expect((await tv()).title).toBe('Telemetry Viewer');
  });

  it('missing or unreadable, it is no error: the files are parsed', async () => {
    expect((await loadCatalog(products, path.join(dir, 'none.json'))).map((d) => d.name)).toContain('TV');
    await fs.writeFile(cache, '{not json');
    expect((await loadCatalog(products, cache)).length).toBe(9);
    // An entry without a checked descriptor (the raw YAML of an older build) is no use either.
    const st = await fs.stat(path.join(products, 'TV.yaml'));
    await fs.writeFile(cache, JSON.stringify({ 'TV.yaml': { size: st.size, mtimeMs: st.mtimeMs, raw: {} } }));
    expect((await loadCatalog(products, cache)).find((d) => d.name === 'TV')!.title).toBe('Telemetry Viewer');
  });
});
