#!/usr/bin/env node
// Responsiveness: what `webtree status` costs over a bare Node start, on a site with many
// versions (issue 5, benchmark 3; target: under 150 ms over `node -e 0`, small growth from 20 to
// 200 versions, none with the number of files).
//
// Builds two sandbox sites, each with the 8 installable products: one with 20 versions of each,
// one with 200. Each product's first version is installed by the CLI from a real archive; the
// other versions are copies of that version directory and its manifest under other names, with
// an `install --no-activate` entry each in the history, as 199 more installs would leave them;
// TV's last one is such an install, for real, last: as on a site, a change was the last to touch
// the tree, and it wrote the listing memo status reads (src/state/listing-memo.ts).
// Then times, N rounds, the order rotating every round so that a noisy machine hits every side:
//   node -e 0      node bin/webtree.js --config <20-site> status      … --config <200-site> status
// and prints the medians, the overhead over `node -e 0` and the growth from 20 to 200 versions.
//
// Then the scale figure (issue 15): status, list and verify on 20 products x 500 versions. The
// catalog has 8 installable products; the 12 more are copies of TV's descriptor (P01..P12) in a
// copy of the package made for the run (bin, dist, products; its own catalog cache), which the
// CLI finds as its package root.
// Target (issue 15): status at most 40 ms over node -e 0 at 8 x 200 versions.
//
// --before DIR: another built checkout of webtree (its bin/webtree.js), timed as more sides in the
// same alternated rounds, for before/after figures measured under the same load, each on sites of
// its own built the same way by its own CLI: the memos status reads are kept for the build that
// wrote them (src/state/listing-memo.ts), so on this checkout's sites the other build would list
// every directory and read the whole history, as no site it ran on would make it. Both builds'
// status, list and history outputs are compared on all four sites, byte for byte.
// CPU time (user + system of the child, from /proc/self/stat: bench/lib/cpu.mjs) is printed beside
// the wall time: on a shared machine it moves less with the load.
//
// Usage: npm run build && node bench/status.mjs [--rounds 20] [--scale-rounds 5] [--no-scale] [--keep] [--json]
//          [--before DIR]
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FIRST_VERSIONS, writeSampleArchive } from '../dist/demo/samples.js';
import { childCpu } from './lib/cpu.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'webtree.js');
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    'scale-rounds': { type: 'string', default: '5' },
    // Smaller sites, to try the script quickly: --versions 3,5 --scale-versions 4.
    versions: { type: 'string', default: '20,200' },
    'scale-versions': { type: 'string', default: '500' },
    'no-scale': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    before: { type: 'string' },
  },
});
const BEFORE = values.before && path.join(path.resolve(values.before), 'bin', 'webtree.js');
const TARGET_MS = 40;
const log = values.json ? () => {} : (...a) => console.log(...a);
const rounds = Number(values.rounds);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'webtree-bench-status-'));
// Run as root, webtree works in the site as the service account (src/core/privilege.ts).
fs.chmodSync(dir, 0o755);

function webtree(config, args, bin = BIN) {
  const r = spawnSync(process.execPath, [bin, '--config', config, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
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

/** A copy of the package with `extra` more products, copies of TV's descriptor: its bin/webtree.js. */
function packageWith(extra) {
  const pkg = path.join(dir, `package-${extra}`);
  for (const d of ['bin', 'dist', 'products', 'conf-templates', 'scripts'])
    fs.cpSync(path.join(ROOT, d), path.join(pkg, d), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkg, 'node_modules'));
  const tv = fs.readFileSync(path.join(ROOT, 'products', 'TV.yaml'), 'utf8');
  const names = [];
  for (let i = 1; i <= extra; i++) {
    const n = `P${String(i).padStart(2, '0')}`;
    const lower = n.toLowerCase();
    names.push([n, lower]);
    const text = tv
      .replace(/^name: TV$/m, `name: ${n}`)
      .replace(/^title: .*$/m, `title: Copy ${i} of TV`)
      .replace(/tv-\{v\}/g, `${lower}-{v}`)
      .replace(/^dir: tv$/m, `dir: ${lower}`)
      .replace(/path: TV,/, `path: ${n},`)
      .replace(/mount: \/TV, link: TV, cfg: des_tv.cfg/, `mount: /${n}, link: ${n}, cfg: des_${lower}.cfg`);
    fs.writeFileSync(path.join(pkg, 'products', `${n}.yaml`), text);
  }
  execFileSync(process.execPath, [path.join(pkg, 'scripts', 'cache-catalog.mjs')]);
  return { bin: path.join(pkg, 'bin', 'webtree.js'), root: pkg, names };
}

async function buildSite(name, versions, pkg = { bin: BIN, root: ROOT, names: [] }) {
  const prefix = path.join(dir, name);
  const config = path.join(prefix, 'webtree.yaml');
  const user = process.getuid?.() === 0 ? 'codemanager' : os.userInfo().username;
  const run = (args) => webtree(config, args, pkg.bin);
  run(['init', '--prefix', prefix, '--user', user]);
  const archives = path.join(dir, `${name}-archives`);
  fs.mkdirSync(archives);
  const catalog = JSON.parse(
    execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { loadCatalog } from '${path.join(pkg.root, 'dist', 'catalog', 'load.js')}'; console.log(JSON.stringify(await loadCatalog()))`,
      ],
      { encoding: 'utf8' },
    ),
  );
  const stateDir = path.join(prefix, 'www', 'state');
  const history = path.join(stateDir, 'history.jsonl');
  const added = [];
  const products = [...FIRST_VERSIONS, ...pkg.names.map(([n]) => [n, '3.3a'])];
  for (const [product, first] of products) {
    let archive;
    if (product.startsWith('P')) {
      archive = path.join(archives, `${product.toLowerCase()}-${first}.tar.gz`);
      fs.renameSync(await writeSampleArchive(archives, 'TV', first), archive);
    } else archive = await writeSampleArchive(archives, product, first);
    // A TV archive renamed for the synthetic products P01…: --force, as install refuses a top directory naming another product.
    run(['install', archive, ...(product.startsWith('P') ? ['--force'] : [])]);
    const d = catalog.find((p) => p.name === product);
    const productDir = path.join(
      d.base === 'webpylib' ? path.join(prefix, 'dbwebtools', 'webpylib') : path.join(prefix, 'dbwebtools'),
      d.dir,
    );
    const versionDir = (v) => path.join(productDir, d.versionDir.split('{v}').join(v));
    const manifestDir = path.join(stateDir, 'manifests', product);
    const manifest = JSON.parse(fs.readFileSync(path.join(manifestDir, `${first}.json`), 'utf8'));
    const entry = JSON.parse(
      fs
        .readFileSync(history, 'utf8')
        .trim()
        .split('\n')
        .reverse()
        .find((l) => JSON.parse(l).product === product),
    );
    // TV's last version is installed for real below, after the others.
    for (let i = 1; i < (product === 'TV' ? versions - 1 : versions); i++) {
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
  // The last version by a real install, as a site gets its versions: every change ends by writing
  // the listing memo status reads while the directories stay as they are (src/state/listing-memo.ts).
  if (versions > 1) run(['install', await writeSampleArchive(archives, 'TV', `0.${versions - 1}`), '--no-activate']);
  const st = JSON.parse(run(['status', '--json']));
  const counts = st.products.map((p) => p.versions.length);
  if (counts.length !== products.length || counts.some((c) => c !== versions))
    throw new Error(`${name}: status sees ${counts.join(',')} versions, not ${versions} each`);
  const files = Number(execFileSync('find', [prefix, '-type', 'f', '-printf', '.'], { encoding: 'utf8' }).length);
  return { config, files };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** A side's command; `findings`: exit 1 (verify found something) is an answer too. Its wall and CPU ms. */
function timeMs(argv) {
  const cmd = argv.filter((a) => a !== FINDINGS_OK);
  const c0 = childCpu();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && !(r.status === 1 && argv.includes(FINDINGS_OK)))
    throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, cpuMs: (childCpu() - c0) * 1000 };
}

const FINDINGS_OK = '<findings are an answer>';

function timeSides(sides, rounds, cpu = {}) {
  const names = Object.keys(sides);
  const times = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) cpu[n] = [];
  for (const n of names) timeMs(sides[n]); // warm the page cache once
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(r + k) % names.length];
      const { ms, cpuMs } = timeMs(sides[n]);
      times[n].push(ms);
      cpu[n].push(cpuMs);
    }
  }
  return times;
}

/** The read commands' outputs of this checkout against the checkout before: the names of those that differ. */
function compareOutputs(configs) {
  const differ = [];
  for (const config of configs)
    for (const cmd of [
      ['status'],
      ['status', '--json'],
      ['list'],
      ['list', '--json'],
      ['history'],
      ['history', '--json'],
    ]) {
      const a = webtree(config, cmd);
      const b = webtree(config, cmd, BEFORE);
      // The JSON of status carries the time it was taken at; everything else must match byte for byte.
      const strip = (t) => t.replace(/"(now|at|checkedAt|generatedAt)":\s*"[^"]*"/g, '"$1":"-"');
      if (cmd[1] === '--json' ? strip(a) !== strip(b) : a !== b) differ.push(`${cmd.join(' ')} (${config})`);
    }
  return differ;
}

const result = {};
try {
  const t0 = Date.now();
  const [v1, v2] = values.versions.split(',').map(Number);
  const small = await buildSite('site20', v1);
  const big = await buildSite('site200', v2);
  const beforePkg = BEFORE && { bin: BEFORE, root: path.resolve(values.before), names: [] };
  const smallBefore = BEFORE && (await buildSite('site20-before', v1, beforePkg));
  const bigBefore = BEFORE && (await buildSite('site200-before', v2, beforePkg));
  log(
    `built ${BEFORE ? 'four sites (two for each build)' : 'two sites'} in ${((Date.now() - t0) / 1000).toFixed(1)} s: 8 x 20 versions (${small.files} files), 8 x 200 versions (${big.files} files)`,
  );
  const sides = {
    'node -e 0': [process.execPath, '-e', '0'],
    'status, 8 x 20 versions': [process.execPath, BIN, '--config', small.config, 'status'],
    'status, 8 x 200 versions': [process.execPath, BIN, '--config', big.config, 'status'],
    ...(BEFORE
      ? {
          'before: status, 8 x 20': [process.execPath, BEFORE, '--config', smallBefore.config, 'status'],
          'before: status, 8 x 200': [process.execPath, BEFORE, '--config', bigBefore.config, 'status'],
        }
      : {}),
  };
  const names = Object.keys(sides);
  if (BEFORE) {
    const differ = compareOutputs([small.config, big.config, smallBefore.config, bigBefore.config]);
    log(
      differ.length
        ? `outputs that differ from ${values.before}'s: ${differ.join(', ')}`
        : `status, list and history (plain and --json) on all four sites: the same bytes as ${values.before}'s`,
    );
    result.sameOutputs = differ.length === 0;
  }
  const loadBefore = os.loadavg()[0];
  const cpu = {};
  const times = timeSides(sides, rounds, cpu);
  const med = Object.fromEntries(names.map((n) => [n, median(times[n])]));
  // Per round, each status minus the node -e 0 of the same round: what the load did to both cancels.
  const over = (n) => median(times[n].map((t, i) => t - times['node -e 0'][i]));
  log(`\nmedians of ${rounds} rounds (ms):`);
  for (const n of names)
    log(
      `  ${n.padEnd(28)} ${med[n].toFixed(1).padStart(7)}   (min ${Math.min(...times[n]).toFixed(1)}, max ${Math.max(...times[n]).toFixed(1)})`,
    );
  // CPU time comes in 10 ms clock ticks: a median of such steps is a step too, the mean is finer.
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const overCpu = (n) => mean(cpu[n].map((t, i) => t - cpu['node -e 0'][i]));
  log(
    `CPU (user + system) means: ${names.map((n) => `${n} ${mean(cpu[n]).toFixed(0)}`).join(', ')} ms; over node -e 0: ${names
      .slice(1)
      .map((n) => `${n} ${overCpu(n).toFixed(0)}`)
      .join(', ')} ms`,
  );
  if (BEFORE) {
    const b200 = over('before: status, 8 x 200');
    log(
      `before (${values.before}), over node -e 0 in the same rounds: ${over('before: status, 8 x 20').toFixed(1)} ms at 20 versions, ${b200.toFixed(1)} ms at 200 versions`,
    );
    result.before = {
      dir: values.before,
      over20Ms: over('before: status, 8 x 20'),
      over200Ms: b200,
      status200Ms: med['before: status, 8 x 200'],
      cpuOver200Ms: overCpu('before: status, 8 x 200'),
    };
  }
  const over20 = over(names[1]);
  const over200 = over(names[2]);
  result.status = {
    nodeMs: med[names[0]],
    status20Ms: med[names[1]],
    status200Ms: med[names[2]],
    over20Ms: over20,
    over200Ms: over200,
    targetMs: TARGET_MS,
    met: over200 <= TARGET_MS,
    rounds,
    cpuOver20Ms: overCpu(names[1]),
    cpuOver200Ms: overCpu(names[2]),
  };
  log(
    `\noverhead over node -e 0 (median of the rounds' differences): ${over20.toFixed(1)} ms at 20 versions, ${over200.toFixed(1)} ms at 200 versions`,
  );
  log(`target: status at 8 x 200 versions ≤ ${TARGET_MS} ms over node -e 0: ${result.status.met ? 'met' : 'NOT met'}`);
  log(`growth from 20 to 200 versions per product (1,440 more versions): ${(over200 - over20).toFixed(1)} ms`);
  // Every command's own start-up, as --debug prints it (the first operation's time).
  result.startup = {};
  for (const cmd of [['status'], ['list'], ['history'], ['verify'], ['help']]) {
    const xs = [];
    for (let r = 0; r < 5; r++) {
      const out = spawnSync(process.execPath, [BIN, '--config', small.config, ...cmd, '--debug'], { encoding: 'utf8' });
      const m = /(\d+) ms {2}\S+: started/.exec(out.stderr);
      if (m) xs.push(Number(m[1]));
    }
    if (xs.length) result.startup[cmd.join(' ')] = median(xs);
  }
  if (Object.keys(result.startup).length)
    log(
      `start-up (--debug: ms from the process's start to the command's first operation, median of 5): ${Object.entries(
        result.startup,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );

  if (!values['no-scale']) {
    const t1 = Date.now();
    const pkg = packageWith(12);
    const huge = await buildSite('site500x20', Number(values['scale-versions']), pkg);
    log(`\nbuilt 20 products x 500 versions in ${((Date.now() - t1) / 1000).toFixed(1)} s (${huge.files} files)`);
    const bin = pkg.bin;
    const scaleSides = {
      'node -e 0': [process.execPath, '-e', '0'],
      'status, 20 x 500': [process.execPath, bin, '--config', huge.config, 'status'],
      'list, 20 x 500': [process.execPath, bin, '--config', huge.config, 'list'],
      'verify, 20 x 500': [process.execPath, bin, '--config', huge.config, 'verify', FINDINGS_OK],
    };
    // The copies of TV have no per-server variants of their cfg (no render ran): verify says so,
    // with exit 1, after checking every version as usual. Its first findings, for the record:
    const v = spawnSync(process.execPath, [bin, '--config', huge.config, 'verify'], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    log(
      `verify at 20 x 500 exits ${v.status}; its output begins: ${(v.stdout + v.stderr).split('\n').slice(0, 3).join(' | ')}`,
    );
    const st = timeSides(scaleSides, Number(values['scale-rounds']));
    result.scale = { files: huge.files, rounds: Number(values['scale-rounds']) };
    for (const n of Object.keys(scaleSides)) {
      result.scale[n] = median(st[n]);
      log(
        `  ${n.padEnd(28)} ${median(st[n]).toFixed(1).padStart(8)} ms   (min ${Math.min(...st[n]).toFixed(1)}, max ${Math.max(...st[n]).toFixed(1)})`,
      );
    }
  }
  result.machine = {
    nproc: execFileSync('nproc', { encoding: 'utf8' }).trim(),
    cpu: os.cpus()[0]?.model,
    node: process.version,
    date: new Date().toISOString(),
    loadBefore,
    loadAfter: os.loadavg()[0],
  };
  log(
    `\nmachine: nproc ${result.machine.nproc}, ${result.machine.cpu}, Node ${process.version}, ${result.machine.date}`,
  );
  // Other work on the machine slows both sides; the load says how much there was.
  log(`load average (1 min) before/after timing: ${loadBefore.toFixed(2)} / ${os.loadavg()[0].toFixed(2)}`);
  if (values.json) console.log(JSON.stringify(result, null, 2));
  if (values.keep) log(`sites kept in ${dir}`);
} finally {
  if (!values.keep) fs.rmSync(dir, { recursive: true, force: true });
}
