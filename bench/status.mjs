#!/usr/bin/env node
// Responsiveness: what `webtree status` costs over a bare Node start, on a site with many
// versions (issue 5, benchmark 3; target: under 150 ms over `node -e 0`, small growth from 20 to
// 200 versions, none with the number of files).
//
// Builds two sandbox sites, each with the 8 installable products: one with 20 versions of each,
// one with 200. Each product's first version is installed by the CLI from a real archive; the
// other versions are copies of that version directory and its manifest under other names, with
// an `install --no-activate` entry each in the history, as 199 more installs would leave them.
// Then times, N rounds, the order rotating every round so that a noisy machine hits every side:
//   node -e 0      node bin/webtree.js --config <20-site> status      … --config <200-site> status
// and prints the medians, the overhead over `node -e 0` and the growth from 20 to 200 versions.
//
// Usage: npm run build && node bench/status.mjs [--rounds 20] [--keep]
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FIRST_VERSIONS, writeSampleArchive } from '../dist/demo/samples.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'webtree.js');
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' }, keep: { type: 'boolean', default: false } } });
const rounds = Number(values.rounds);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'webtree-bench-status-'));

function webtree(config, args) {
  const r = spawnSync(process.execPath, [BIN, '--config', config, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`webtree ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** A copy that keeps modes and owners, as install leaves them for the service account. */
function copyTree(from, to) {
  fs.cpSync(from, to, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  const walk = (src, dst) => {
    const st = fs.lstatSync(src);
    fs.lchownSync(dst, st.uid, st.gid);
    if (st.isDirectory()) for (const e of fs.readdirSync(src)) walk(path.join(src, e), path.join(dst, e));
  };
  if (process.getuid?.() === 0) walk(from, to);
}

async function buildSite(name, versions) {
  const prefix = path.join(dir, name);
  const config = path.join(prefix, 'webtree.yaml');
  const user = process.getuid?.() === 0 ? 'codemanager' : os.userInfo().username;
  webtree(config, ['init', '--prefix', prefix, '--user', user]);
  const archives = path.join(dir, `${name}-archives`);
  fs.mkdirSync(archives);
  const catalog = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e',
    `import { loadCatalog } from '${path.join(ROOT, 'dist', 'catalog', 'load.js')}'; console.log(JSON.stringify(await loadCatalog()))`], { encoding: 'utf8' }));
  const stateDir = path.join(prefix, 'www', 'state');
  const history = path.join(stateDir, 'history.jsonl');
  const added = [];
  for (const [product, first] of FIRST_VERSIONS) {
    webtree(config, ['install', await writeSampleArchive(archives, product, first)]);
    const d = catalog.find((p) => p.name === product);
    const productDir = path.join(d.base === 'webpylib' ? path.join(prefix, 'dbwebtools', 'webpylib') : path.join(prefix, 'dbwebtools'), d.dir);
    const versionDir = (v) => path.join(productDir, d.versionDir.split('{v}').join(v));
    const manifestDir = path.join(stateDir, 'manifests', product);
    const manifest = JSON.parse(fs.readFileSync(path.join(manifestDir, `${first}.json`), 'utf8'));
    const entry = JSON.parse(fs.readFileSync(history, 'utf8').trim().split('\n').reverse().find((l) => JSON.parse(l).product === product));
    for (let i = 1; i < versions; i++) {
      // Older than the first version in webtree's order (0.x < anything the samples use), so current stays the newest.
      const v = `0.${i}`;
      copyTree(versionDir(first), versionDir(v));
      const m = path.join(manifestDir, `${v}.json`);
      fs.writeFileSync(m, JSON.stringify({ ...manifest, version: v }));
      if (process.getuid?.() === 0) fs.chownSync(m, fs.statSync(manifestDir).uid, fs.statSync(manifestDir).gid);
      const { from: _f, to: _t, ...rest } = entry;
      added.push(JSON.stringify({ ...rest, id: `bench-${product}-${i}`, version: v }));
    }
  }
  fs.appendFileSync(history, added.join('\n') + '\n');
  const st = JSON.parse(webtree(config, ['status', '--json']));
  const counts = st.products.map((p) => p.versions.length);
  if (counts.length !== 8 || counts.some((c) => c !== versions)) throw new Error(`${name}: status sees ${counts.join(',')} versions, not ${versions} each`);
  const files = Number(execFileSync('find', [prefix, '-type', 'f', '-printf', '.'], { encoding: 'utf8' }).length);
  return { config, files };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function timeMs(argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
  return ms;
}

try {
  const t0 = Date.now();
  const small = await buildSite('site20', 20);
  const big = await buildSite('site200', 200);
  console.log(`built two sites in ${((Date.now() - t0) / 1000).toFixed(1)} s: 8 x 20 versions (${small.files} files), 8 x 200 versions (${big.files} files)`);
  const sides = {
    'node -e 0': [process.execPath, '-e', '0'],
    'status, 8 x 20 versions': [process.execPath, BIN, '--config', small.config, 'status'],
    'status, 8 x 200 versions': [process.execPath, BIN, '--config', big.config, 'status'],
  };
  const names = Object.keys(sides);
  const loadBefore = os.loadavg()[0];
  const times = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) timeMs(sides[n]); // warm the page cache once
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(r + k) % names.length];
      times[n].push(timeMs(sides[n]));
    }
  }
  const med = Object.fromEntries(names.map((n) => [n, median(times[n])]));
  console.log(`\nmedians of ${rounds} rounds (ms):`);
  for (const n of names) console.log(`  ${n.padEnd(28)} ${med[n].toFixed(1).padStart(7)}   (min ${Math.min(...times[n]).toFixed(1)}, max ${Math.max(...times[n]).toFixed(1)})`);
  const over20 = med[names[1]] - med[names[0]];
  const over200 = med[names[2]] - med[names[0]];
  console.log(`\noverhead over node -e 0:  ${over20.toFixed(1)} ms at 20 versions, ${over200.toFixed(1)} ms at 200 versions (target: under 150 ms)`);
  console.log(`growth from 20 to 200 versions per product (1,440 more versions): ${(over200 - over20).toFixed(1)} ms`);
  console.log(`\nmachine: nproc ${execFileSync('nproc', { encoding: 'utf8' }).trim()}, ${os.cpus()[0]?.model}, Node ${process.version}, ${new Date().toISOString()}`);
  // Other work on the machine slows both sides; the load says how much there was.
  console.log(`load average (1 min) before/after timing: ${loadBefore.toFixed(2)} / ${os.loadavg()[0].toFixed(2)}`);
  if (values.keep) console.log(`sites kept in ${dir}`);
} finally {
  if (!values.keep) fs.rmSync(dir, { recursive: true, force: true });
}
