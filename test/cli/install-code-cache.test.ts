/**
 * install's CommonJS path (bin/webtree.js -> dist/bundle/cli.cjs -> install.cjs, the reader thread
 * from archive/warm.cjs and archive/unpack-worker.cjs) and the V8 code caches of install.cjs and
 * undici.cjs (src/core/code-cache.ts; scripts/bundle.mjs): the caches the build made are taken;
 * a damaged, foreign or missing one is left aside and the install is the same; what install.cjs
 * imports when it runs (import.cjs) works from the cache. Real installs of real archives, from a
 * copy of the package whose caches are spoiled there, never in the tree other tests run. Nothing
 * here is timed (bench/install.mjs measures what the caches save).
 */
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { copyPackage, makeSandbox, ROOT, type Sandbox } from '../helpers/cli.js';

let sb: Sandbox;
let pkg: string;
let archives: string;
let version = 0;
const bundle = () => path.join(pkg, 'dist', 'bundle');

beforeAll(async () => {
  sb = await makeSandbox();
  pkg = copyPackage(path.join(sb.dir, 'pkg'));
  archives = path.join(sb.dir, 'archives');
  fs.mkdirSync(archives);
}, 120_000);
afterAll(async () => sb?.cleanup());

/** `install ARCHIVE --debug` of a new TV version from the copy: its exit, what it says of the cache, the version. */
async function install() {
  const v = `5.${++version}`;
  const archive = await writeSampleArchive(archives, 'TV', v);
  const r = await execa(
    process.execPath,
    [path.join(pkg, 'bin', 'webtree.js'), '--config', sb.config, 'install', archive, '--debug'],
    { reject: false, stdin: 'ignore' },
  );
  return { ...r, v, cache: /install\.cjs loaded, code cache (\w+)/.exec(r.stderr)?.[1] };
}

/** The copy's status --json says TV is at version v. */
async function activeIs(v: string) {
  const r = await sb.run(['status', '--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(JSON.stringify(JSON.parse(r.stdout))).toContain(`"${v}"`);
}

/** V8's code in a cache file the build made (src/core/code-cache.ts's layout: WTC2, the lengths, the source, the code twice). */
const codeOf = (file: Buffer) =>
  file.subarray(12 + file.readUInt32LE(4), 12 + file.readUInt32LE(4) + file.readUInt32LE(8));

describe('install from dist/bundle/install.cjs and its code cache', () => {
  it('the cache the build made is taken, and the install runs whole from CommonJS files', async () => {
    const r = await install();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.cache).toBe('accepted');
    await activeIs(r.v);
    // What the install loaded (the require cache at exit): install.cjs, not read.cjs nor full.js.
    const hook = path.join(ROOT, 'test', 'fixtures', 'record-loads.mjs');
    const archive = await writeSampleArchive(archives, 'TV', `5.${++version}`);
    const loads = await execa(
      process.execPath,
      ['--import', hook, path.join(pkg, 'bin', 'webtree.js'), '--config', sb.config, 'install', archive],
      { reject: false },
    );
    expect(loads.exitCode, loads.stderr).toBe(0);
    const files = loads.stderr
      .split('\n')
      .filter((l) => l.startsWith('LOAD '))
      .map((l) => new URL(l.slice(5)).pathname);
    expect(files).toContain(path.join(bundle(), 'install.cjs'));
    expect(files).toContain(path.join(bundle(), 'archive', 'warm.cjs'));
    expect(files.filter((f) => f.startsWith(bundle()) && !f.endsWith('.cjs'))).toEqual([]);
    expect(files.filter((f) => /read\.cjs|undici\.cjs/.test(f))).toEqual([]);
  });

  it('a damaged cache (bytes changed, cut short) is not given to V8: the install runs from the source', async () => {
    const file = path.join(bundle(), 'install.cjs.cache');
    const good = fs.readFileSync(file);
    try {
      const flipped = Buffer.from(good);
      for (let i = 64; i < flipped.length; i += 4099) flipped[i] ^= 0xff;
      for (const bytes of [flipped, good.subarray(0, good.length - 1)]) {
        fs.writeFileSync(file, bytes);
        const r = await install();
        expect(r.exitCode, r.stderr).toBe(0);
        expect(r.cache).toBe('damaged');
        await activeIs(r.v);
      }
      // Made by another V8 (its version hash changed in the code's header, in both copies): refused by V8.
      const code = Buffer.from(codeOf(good));
      code[4] ^= 0xff;
      const head = good.subarray(0, 12 + good.readUInt32LE(4));
      fs.writeFileSync(file, Buffer.concat([head, code, code]));
      const rejected = await install();
      expect(rejected.exitCode, rejected.stderr).toBe(0);
      expect(rejected.cache).toBe('rejected');
      await activeIs(rejected.v);
      fs.rmSync(file);
      const missing = await install();
      expect(missing.exitCode, missing.stderr).toBe(0);
      expect(missing.cache).toBe('missing');
      await activeIs(missing.v);
    } finally {
      fs.writeFileSync(file, good);
    }
  });

  it("undici.cjs (the fetch's parts of undici) loads from its cache, and from its source when the cache is damaged", async () => {
    const file = path.join(bundle(), 'undici.cjs.cache');
    const good = fs.readFileSync(file);
    const load = async () => {
      const script = `import { requireCached } from ${JSON.stringify(pathToFileURL(path.join(pkg, 'dist', 'core', 'code-cache.js')).href)};
const { exports, cache } = requireCached(${JSON.stringify(path.join(bundle(), 'undici.cjs'))});
console.log(JSON.stringify({ cache, agent: typeof exports.Agent, proxy: typeof exports.ProxyAgent, request: typeof exports.request }));`;
      const r = await execa(process.execPath, ['--input-type=module', '-e', script], { reject: false });
      expect(r.exitCode, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as Record<string, string>;
    };
    const functions = { agent: 'function', proxy: 'function', request: 'function' };
    expect(await load()).toEqual({ cache: 'accepted', ...functions });
    try {
      const flipped = Buffer.from(good);
      flipped[flipped.length >> 1] ^= 0x01;
      fs.writeFileSync(file, flipped);
      expect(await load()).toEqual({ cache: 'damaged', ...functions });
    } finally {
      fs.writeFileSync(file, good);
    }
  });

  it('import() from a file compiled from its cache works (through dist/bundle/import.cjs)', async () => {
    // A V8 of Node 20 brings a cached script's dynamic import callback back as the build's: every
    // import() in install.cjs must go through import.cjs (scripts/bundle.mjs checks it at build).
    const text = fs.readFileSync(path.join(bundle(), 'install.cjs'), 'utf8');
    expect(text).toContain('require("./import.cjs")("node:net")');
    expect(text).not.toMatch(/(?<![\w$.])import\("/);
    const script = `import { requireCached } from ${JSON.stringify(pathToFileURL(path.join(pkg, 'dist', 'core', 'code-cache.js')).href)};
const { cache } = requireCached(${JSON.stringify(path.join(bundle(), 'install.cjs'))});
const importer = (await import('node:module')).createRequire(${JSON.stringify(path.join(bundle(), 'install.cjs'))})('./import.cjs');
console.log(cache, typeof (await importer('node:net')).createServer);`;
    const r = await execa(process.execPath, ['--input-type=module', '-e', script], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('accepted function');
  });
});
