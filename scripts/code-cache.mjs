#!/usr/bin/env node
// Part of `npm run build` (scripts/bundle.mjs runs it on dist/bundle/read.cjs): V8's compiled code
// of a CommonJS file, written beside it as FILE.cache for src/core/code-cache.ts to compile from
// (its format and check are there). Compiled as Node's require compiles it (its module wrapper),
// and its top level run here, in a process of its own, so that the cache also holds the functions
// that run at every load. Readable by everyone: the commands may run as the service account. V8
// accepts the cache only from the same V8 version and flags, and compiles from the source otherwise.
// Usage: node scripts/code-cache.mjs FILE [NAME] [--eager]: NAME is the path the file will have when
// it runs (the build writes into a directory it renames at the end): V8 keeps the script's name
// from the cache, and stack traces (--debug) would name the build's temporary directory.
// --eager: every function of the file compiled into the cache, not only those its top level runs
// (V8's --no-lazy, set here around the compile only: the flag is back to its default when the
// cache is written, and V8, which checks its flags' hash, then takes the cache in a process started
// without it). For a file whose functions mostly run after its top level (an install's), which
// would otherwise compile them one by one as they are first called. The top level is then not run
// (it may change this process: undici.cjs sets a V8 flag).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { cacheFileBytes, cacheFileOf, compileWrapped, runWrapped } from '../dist/core/code-cache.js';

const eager = process.argv.includes('--eager');
const [fileArg, nameArg] = process.argv.slice(2).filter((a) => a !== '--eager');
const file = path.resolve(fileArg);
const name = path.resolve(nameArg ?? file);
const out = cacheFileOf(file);
fs.rmSync(out, { force: true });
if (!vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER) {
  // The CLI then requires the file as it is (src/core/code-cache.ts): the same, compiled at each start.
  console.log(`code-cache: Node ${process.version} cannot use a code cache here (needs 20.12 or later); none made`);
  process.exit(0);
}
const source = fs.readFileSync(file);
if (eager) v8.setFlagsFromString('--no-lazy');
const script = compileWrapped(source.toString('utf8'), name);
if (eager) v8.setFlagsFromString('--lazy');
else runWrapped(script, { exports: {} }, createRequire(name), name);
fs.writeFileSync(out, cacheFileBytes(source, script.createCachedData()), { mode: 0o644 });
fs.chmodSync(out, 0o644);
