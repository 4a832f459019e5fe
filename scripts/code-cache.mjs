#!/usr/bin/env node
// Part of `npm run build` (scripts/bundle.mjs runs it on dist/bundle/read.cjs): V8's compiled code
// of a CommonJS file, written beside it as FILE.cache for src/core/code-cache.ts to compile from
// (its format and check are there). Compiled as Node's require compiles it (its module wrapper),
// and its top level run here, in a process of its own, so that the cache also holds the functions
// that run at every load. Readable by everyone: the commands may run as the service account. V8
// accepts the cache only from the same V8 version and flags, and compiles from the source otherwise.
// Usage: node scripts/code-cache.mjs FILE [NAME] [--eager | --warm]: NAME is the path the file will have when
// it runs (the build writes into a directory it renames at the end): V8 keeps the script's name
// from the cache, and stack traces (--debug) would name the build's temporary directory.
// --warm: after its top level, the file's main runs the read commands (status, list, history) on a
// throw-away site made here (a site file and an empty state directory in a temporary directory,
// as whoever builds: no privilege drop), their output dropped, so that the cache also holds every
// function those commands run: from a cache made after the top level alone, each was compiled
// from the source at its first call in every status (docs/benchmarks.md, session 8). Nothing of
// the run is kept but the compiled code; a run that fails leaves the cache of the top level.
// --eager: every function of the file compiled into the cache, not only those its top level runs
// (V8's --no-lazy, set here around the compile only: the flag is back to its default when the
// cache is written, and V8, which checks its flags' hash, then takes the cache in a process started
// without it). For a file whose functions mostly run after its top level (an install's), which
// would otherwise compile them one by one as they are first called. The top level is then not run
// (it may change this process: undici.cjs sets a V8 flag).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { cacheFileBytes, cacheFileOf, compileWrapped, runWrapped } from '../dist/core/code-cache.js';

const eager = process.argv.includes('--eager');
const warm = process.argv.includes('--warm');
const [fileArg, nameArg] = process.argv.slice(2).filter((a) => a !== '--eager' && a !== '--warm');
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
else {
  const mod = { exports: {} };
  runWrapped(script, mod, createRequire(name), name);
  if (warm) await runReadCommands(mod.exports);
}
fs.writeFileSync(out, cacheFileBytes(source, script.createCachedData()), { mode: 0o644 });
fs.chmodSync(out, 0o644);

/** status, list and history by the file's main on a throw-away site, as whoever builds (--warm). */
async function runReadCommands(cli) {
  let dir;
  try {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'webtree-code-cache-'));
    // The service account is whoever builds: as root, root (no drop); as anyone else, no drop either.
    const user = os.userInfo().username;
    const config = path.join(dir, 'webtree.yaml');
    // Each value quoted (JSON's strings are YAML's double-quoted ones): a temporary directory
    // (TMPDIR) or a user name with ' #' or ': ' in it would otherwise end the value early.
    const q = JSON.stringify;
    fs.writeFileSync(
      config,
      [
        'paths:',
        `  www: ${q(path.join(dir, 'www'))}`,
        `  products: ${q(path.join(dir, 'dbwebtools'))}`,
        `  runtime: ${q(path.join(dir, 'runtime'))}`,
        'apache:',
        `  user: ${q(user)}`,
        `  group: ${q(user)}`,
        '',
      ].join('\n'),
    );
    fs.mkdirSync(path.join(dir, 'www', 'state'), { recursive: true });
    // Two entries, one that moved a pointer: the history's reading runs as on a site.
    const entry = (e) => JSON.stringify({ time: '2026-01-01T00:00:00.000Z', user, outcome: 'ok', ...e });
    fs.writeFileSync(
      path.join(dir, 'www', 'state', 'history.jsonl'),
      `${entry({ id: 'a', action: 'init' })}\n${entry({ id: 'b', action: 'activate', product: 'TV', from: '3.3a', to: '3.4' })}\n`,
    );
    const quiet = { out: () => {}, err: () => {} };
    for (const cmd of [['status'], ['list'], ['history']]) {
      const code = await cli.main(['--config', config, ...cmd], quiet, { PATH: process.env.PATH ?? '' });
      if (code !== 0)
        console.log(
          `code-cache: ${cmd[0]} on the build's own site exited ${code}; its code is cached as far as it ran`,
        );
    }
  } catch (err) {
    console.log(
      `code-cache: the read commands did not run at build (${err?.message ?? err}); the cache holds the top level's code`,
    );
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}
