#!/usr/bin/env node
// Part of `npm run build`: the product descriptors (products/*.yaml) parsed once, into
// dist/catalog-cache.json, keyed by each file's size and mtime. loadCatalog uses an entry only
// while its file is unchanged, so an edited descriptor is always read afresh; the cache only
// spares every command the YAML parsing of nine files (~20 ms of `webtree install`).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'products');
const cache = {};
for (const f of fs
  .readdirSync(dir)
  .filter((n) => n.endsWith('.yaml'))
  .sort()) {
  const p = path.join(dir, f);
  const st = fs.statSync(p);
  cache[f] = { size: st.size, mtimeMs: st.mtimeMs, raw: parse(fs.readFileSync(p, 'utf8')) };
}
fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
fs.writeFileSync(path.join(root, 'dist', 'catalog-cache.json'), JSON.stringify(cache));
