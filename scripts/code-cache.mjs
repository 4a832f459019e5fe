#!/usr/bin/env node
// Part of `npm run build` (scripts/bundle.mjs runs it on dist/bundle/read.cjs): V8's compiled code
// of a CommonJS file, written beside it as FILE.cache for src/core/code-cache.ts to compile from
// (its format and check are there). Compiled as Node's require compiles it (its module wrapper),
// and its top level run here, in a process of its own, so that the cache also holds the functions
// that run at every load. Readable by everyone: the commands may run as the service account. V8
// accepts the cache only from the same V8 version and flags, and compiles from the source otherwise.
// Usage: node scripts/code-cache.mjs FILE [NAME]: NAME is the path the file will have when it runs
// (the build writes into a directory it renames at the end): V8 keeps the script's name from the
// cache, and stack traces (--debug) would name the build's temporary directory.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { cacheFileBytes, cacheFileOf, compileWrapped, runWrapped } from '../dist/core/code-cache.js';

const file = path.resolve(process.argv[2]);
const name = path.resolve(process.argv[3] ?? file);
const out = cacheFileOf(file);
fs.rmSync(out, { force: true });
if (!vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER) {
  // The CLI then requires the file as it is (src/core/code-cache.ts): the same, compiled at each start.
  console.log(`code-cache: Node ${process.version} cannot use a code cache here (needs 20.12 or later); none made`);
  process.exit(0);
}
const source = fs.readFileSync(file);
const script = compileWrapped(source.toString('utf8'), name);
runWrapped(script, { exports: {} }, createRequire(name), name);
fs.writeFileSync(out, cacheFileBytes(source, script.createCachedData()), { mode: 0o644 });
fs.chmodSync(out, 0o644);
