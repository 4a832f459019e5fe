/**
 * The read commands' CommonJS path (bin/webtree.js -> dist/bundle/cli.cjs -> read.cjs) and its V8
 * code cache (src/core/code-cache.ts, made by scripts/code-cache.mjs): the cache the build made
 * is taken by this Node; a damaged, stale, foreign or missing one is left aside and the command
 * runs the same from the source; and the path runs as the service account itself. Real processes
 * on a copy of the package (its cache file is spoiled there, never in the tree the other tests
 * run); nothing here is timed (bench/status.mjs measures what the cache saves).
 */
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSite } from '../../src/site/load.js';
import { BIN, copyPackage, makeSandbox, ROOT, type Sandbox } from '../helpers/cli.js';
import { SERVICE_USER } from '../helpers/service-account.js';

let sb: Sandbox;
let pkg: string;
let cacheFile: string;
let good: Buffer;
let expected: string;

beforeAll(async () => {
  sb = await makeSandbox();
  pkg = copyPackage(path.join(sb.dir, 'pkg'));
  cacheFile = path.join(pkg, 'dist', 'bundle', 'read.cjs.cache');
  good = fs.readFileSync(cacheFile);
  const r = await sb.run(['status']);
  expect(r.exitCode).toBe(0);
  expected = r.stdout;
}, 120_000);
afterAll(async () => sb?.cleanup());

/** status --debug from the copy: its exit, its output and what it says of the cache. */
async function status(bin = path.join(pkg, 'bin', 'webtree.js'), argv0: string[] = []) {
  const cmd = [...argv0, process.execPath, bin, '--config', sb.config, 'status', '--debug'];
  const r = await execa(cmd[0], cmd.slice(1), { reject: false, stdin: 'ignore' });
  return {
    exitCode: r.exitCode,
    stdout: r.stdout,
    cache: /read\.cjs loaded, code cache (\w+)/.exec(r.stderr)?.[1],
    stderr: r.stderr,
  };
}

/** The cache file as code-cache.ts writes it: WTC2, the lengths, the source, the code twice. */
function cacheOf(code: Buffer, source = fs.readFileSync(path.join(pkg, 'dist', 'bundle', 'read.cjs'))): Buffer {
  const head = Buffer.alloc(12);
  head.write('WTC2', 0, 'latin1');
  head.writeUInt32LE(source.length, 4);
  head.writeUInt32LE(code.length, 8);
  return Buffer.concat([head, source, code, code]);
}

/** V8's code in the cache the build made. */
const codeOf = (file: Buffer) =>
  file.subarray(12 + file.readUInt32LE(4), 12 + file.readUInt32LE(4) + file.readUInt32LE(8));

describe('the read commands from dist/bundle/read.cjs and its code cache', () => {
  it('the cache the build made is taken by this Node, in the tree and in a copy', async () => {
    const here = await status(BIN);
    expect(here.exitCode).toBe(0);
    expect(here.cache).toBe('accepted');
    expect(here.stdout).toBe(expected);
    const copy = await status();
    expect(copy.cache).toBe('accepted');
    expect(copy.stdout).toBe(expected);
  });

  it('a damaged cache (bytes changed, cut short, garbage) is not given to V8: status runs from the source', async () => {
    expect(good.equals(cacheOf(codeOf(good)))).toBe(true); // the layout written above is the build's
    const flipped = Buffer.from(good);
    for (let i = 64; i < flipped.length; i += 997) flipped[i] ^= 0xff;
    // One byte changed in only one place: the source's copy, the code, the code's copy.
    const source = fs.readFileSync(path.join(pkg, 'dist', 'bundle', 'read.cjs'));
    const code = codeOf(good);
    const one = (b: Buffer, at: number) => (b[at] ^= 0x01);
    const inSource = Buffer.from(source);
    one(inSource, inSource.length >> 1);
    const inCode = Buffer.from(code);
    one(inCode, inCode.length >> 1);
    const damaged = [
      flipped,
      Buffer.concat([cacheOf(code, inSource).subarray(0, 12 + source.length), code, code]),
      Buffer.concat([good.subarray(0, 12 + source.length), inCode, code]),
      Buffer.concat([good.subarray(0, 12 + source.length), code, inCode]),
      good.subarray(0, good.length >> 1),
      good.subarray(0, good.length - 1),
      Buffer.from('garbage\n'),
    ];
    for (const bytes of damaged) {
      fs.writeFileSync(cacheFile, bytes);
      const r = await status();
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.cache).toBe('damaged');
      expect(r.stdout).toBe(expected);
    }
  });

  it('a cache V8 refuses (made by another V8) is compiled around, and list and history run too', async () => {
    const code = Buffer.from(codeOf(good));
    code[4] ^= 0xff; // V8's version hash, in the header of its code cache
    fs.writeFileSync(cacheFile, cacheOf(code));
    const r = await status();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.cache).toBe('rejected');
    expect(r.stdout).toBe(expected);
    for (const cmd of ['list', 'history']) {
      const mine = await execa(process.execPath, [path.join(pkg, 'bin', 'webtree.js'), '--config', sb.config, cmd], {
        reject: false,
      });
      const ref = await sb.run([cmd]);
      expect(mine.exitCode).toBe(0);
      expect(mine.stdout).toBe(ref.stdout);
    }
  });

  it('a missing cache, or a source changed after the build, runs from the source', async () => {
    fs.rmSync(cacheFile);
    const missing = await status();
    expect(missing.cache).toBe('missing');
    expect(missing.stdout).toBe(expected);
    fs.writeFileSync(cacheFile, good);
    const read = path.join(pkg, 'dist', 'bundle', 'read.cjs');
    const source = fs.readFileSync(read, 'utf8');
    // The same length, other text: V8 checks only the length, the file's own check catches it.
    fs.writeFileSync(read, source.replace('webtree: ', 'webtreE: '));
    try {
      const stale = await status();
      expect(stale.exitCode, stale.stderr).toBe(0);
      expect(stale.cache).toBe('damaged');
      expect(stale.stdout).toBe(expected);
    } finally {
      fs.writeFileSync(read, source);
    }
  });

  it('runs as the service account itself (root starts it with runuser), with the cache readable to it', async () => {
    fs.writeFileSync(cacheFile, good);
    fs.chmodSync(cacheFile, 0o644);
    const asAccount = process.getuid?.() === 0 ? ['runuser', '-u', SERVICE_USER, '--'] : [];
    const r = await status(path.join(pkg, 'bin', 'webtree.js'), asAccount);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.cache).toBe('accepted');
    expect(r.stdout).toBe(expected);
  });
});

describe('scripts/code-cache.mjs --warm', () => {
  it("runs the read commands on its own throw-away site, whatever the temporary directory's name", async () => {
    // ' #' starts a YAML comment and ': ' a mapping: unquoted, the site's paths ended there.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'webtree-warm #1: '));
    try {
      // A file whose main keeps the site file each command is given, as read.cjs's main would read it.
      const file = path.join(tmp, 'main.cjs');
      const seen = path.join(tmp, 'seen');
      fs.mkdirSync(seen);
      fs.writeFileSync(
        file,
        `const fs = require('node:fs');\nexports.main = async (argv) => { fs.copyFileSync(argv[1], ${JSON.stringify(seen)} + '/' + argv[2]); return 0; };\n`,
      );
      await execa(process.execPath, [path.join(ROOT, 'scripts', 'code-cache.mjs'), file, '--warm'], {
        env: { TMPDIR: tmp },
      });
      expect(fs.readdirSync(seen).sort()).toEqual(['history', 'list', 'status']);
      const { site, problems } = readSite(fs.readFileSync(path.join(seen, 'status'), 'utf8'), 'webtree.yaml');
      expect(problems).toEqual([]);
      for (const p of [site!.paths.www, site!.paths.products, site!.paths.runtime])
        expect(path.dirname(path.dirname(p))).toBe(tmp);
      expect(site!.apache.user).toBe(os.userInfo().username);
      // The throw-away site is gone; the cache is written.
      expect(fs.readdirSync(tmp).sort()).toEqual(['main.cjs', 'main.cjs.cache', 'seen']);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
