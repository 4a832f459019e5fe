#!/usr/bin/env node
// Part of `npm run build`, after tsc: the product descriptors (products/*.yaml) read and checked
// once, by the compiled validator of src/catalog/validate.ts (the one reading of the format),
// into dist/catalog-cache.json, keyed by each file's size and mtime. loadCatalog uses an entry
// only while its file is unchanged, so an edited descriptor is always read afresh; the cache
// spares every command the YAML parsing of nine files (~20 ms of `webtree install`). A bad
// descriptor fails the build here, with the validator's message (file, key, fix).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { descriptorFromText } = await import(path.join(root, 'dist', 'catalog', 'validate.js')).catch((err) => {
  console.error(`cache-catalog: ${err.message}\n  hint: run tsc first (npm run build does)`);
  process.exit(1);
});
const dir = path.join(root, 'products');
const cache = {};
try {
  for (const f of fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.yaml'))
    .sort()) {
    const p = path.join(dir, f);
    const st = fs.statSync(p);
    cache[f] = { size: st.size, mtimeMs: st.mtimeMs, descriptor: descriptorFromText(p, fs.readFileSync(p, 'utf8')) };
  }
} catch (err) {
  console.error(`cache-catalog: ${err.message}${err.hint ? `\n  hint: ${err.hint}` : ''}`);
  process.exit(1);
}
fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
fs.writeFileSync(path.join(root, 'dist', 'catalog-cache.json'), JSON.stringify(cache));
