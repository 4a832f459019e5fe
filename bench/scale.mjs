#!/usr/bin/env node
// Scale (issue 15): `webtree install` of archives from 10 MB to 1 GiB unpacked (1,000 to 100,000
// files of ~10.5 KiB, half text, half random), each into a sandbox site of its own: wall time and
// peak RSS of the whole command (GNU time's %M: every thread of the process). Targets: time
// grows linearly with the archive (the time per MiB at 1 GiB at most 1.25x that at 100 MB), peak
// RSS at most 150 MB at every size. Then `webtree verify` of the 100,000-file version, whose
// files it hashes on several threads, against `sha256sum -c` of the same files (the manifest's
// hashes as a checksum list), rounds alternated after one warm-up read of each; target: the
// median of the rounds' ratios at most 1.0.
//
// The archives are written as a tar stream by this script (ustar headers) through `gzip -1`,
// so that making a 1 GiB archive does not first create 100,000 files.
//
// Usage: npm run build && node bench/scale.mjs [--dir DIR (default: the system's temporary
//          directory)] [--sizes 10,100,1024 (MiB)] [--verify-rounds 3] [--json]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'webtree.js');
const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    sizes: { type: 'string', default: '10,100,1024' },
    'verify-rounds': { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const log = values.json ? () => {} : (...a) => console.log(...a);
const sizes = values.sizes.split(',').map(Number);
const FILE_BYTES = 10_737; // 1 GiB / 100,000
const RSS_TARGET_MB = 150;
const LINEAR_TARGET = 1.25;
const VERIFY_TARGET = 1.0;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One ustar header block. */
function header(name, size, mode, type = '0') {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(mode.toString(8).padStart(7, '0') + '\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write('14000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\0' + '00', 257);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

/** tv-1.0.tar.gz of `files` files under tv-1.0/product/data/dNNN/, written through gzip -1. */
async function makeArchive(file, files) {
  const gz = spawn('gzip', ['-1'], { stdio: ['pipe', fs.openSync(file, 'w'), 'inherit'] });
  const done = new Promise((resolve, reject) =>
    gz.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`gzip exited ${c}`)))),
  );
  const random = randomBytes(4 << 20);
  let pending = [];
  let pendingBytes = 0;
  const write = async (b) => {
    pending.push(b);
    pendingBytes += b.length;
    if (pendingBytes < 1 << 20) return;
    const chunk = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    if (!gz.stdin.write(chunk)) await new Promise((r) => gz.stdin.once('drain', r));
  };
  const pad = (n) => Buffer.alloc((512 - (n % 512)) % 512);
  await write(header('tv-1.0/', 0, 0o755, '5'));
  await write(header('tv-1.0/product/', 0, 0o755, '5'));
  const wsgi = Buffer.from(
    'def application(environ, start_response):\n    start_response("200 OK", [])\n    return [b"TV"]\n',
  );
  await write(header('tv-1.0/product/tv.wsgi', wsgi.length, 0o644));
  await write(wsgi);
  await write(pad(wsgi.length));
  const perDir = 1000;
  for (let i = 0; i < files - 1; i++) {
    const d = `tv-1.0/product/data/d${String(Math.floor(i / perDir)).padStart(3, '0')}/`;
    if (i % perDir === 0) await write(header(d, 0, 0o755, '5'));
    const body =
      i % 2
        ? random.subarray(
            (i * 7919) % (random.length - FILE_BYTES),
            ((i * 7919) % (random.length - FILE_BYTES)) + FILE_BYTES,
          )
        : Buffer.alloc(FILE_BYTES, `line ${i} of a text file\n`);
    await write(header(`${d}f${i}.dat`, body.length, 0o644));
    await write(body);
    await write(pad(body.length));
  }
  await write(Buffer.alloc(1024));
  gz.stdin.end(Buffer.concat(pending));
  await done;
}

/** Wall seconds and peak RSS (MiB) of one command, by GNU time. */
function timed(argv, env) {
  const out = path.join(os.tmpdir(), `webtree-bench-time-${process.pid}`);
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', out, ...argv], {
    env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const [wall, rssKb] = fs.readFileSync(out, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
  fs.rmSync(out, { force: true });
  return { status: r.status, wall, rssMb: rssKb / 1024, stderr: r.stderr };
}

const root = fs.mkdtempSync(path.join(values.dir ?? os.tmpdir(), 'webtree-bench-scale-'));
// Run as root, webtree works in the site as the service account (src/core/privilege.ts): it must
// be able to reach the site and read the archives.
fs.chmodSync(root, 0o755);
const result = {
  sizes: [],
  machine: {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model,
    node: process.version,
    date: new Date().toISOString(),
    fs: execFileSync('stat', ['-f', '-c', '%T', root], { encoding: 'utf8' }).trim(),
    load: os.loadavg()[0],
  },
};
try {
  let last;
  for (const mib of sizes) {
    const files = Math.max(2, Math.round((mib * 1024 * 1024) / FILE_BYTES));
    const dir = path.join(root, `s${mib}`);
    fs.mkdirSync(dir);
    const archive = path.join(dir, 'tv-1.0.tar.gz');
    const t0 = Date.now();
    await makeArchive(archive, files);
    log(
      `${mib} MiB in ${files} files: archive of ${(fs.statSync(archive).size / 1e6).toFixed(0)} MB made in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    const prefix = path.join(dir, 'site');
    execFileSync(process.execPath, [BIN, 'init', '--prefix', prefix, '--listen', '127.0.0.1:18082']);
    const env = { ...process.env, WEBTREE_CONFIG: path.join(prefix, 'webtree.yaml') };
    execFileSync('sync');
    const r = timed([process.execPath, BIN, 'install', archive], env);
    if (r.status !== 0) throw new Error(`install of ${mib} MiB failed: ${r.stderr}`);
    const row = { mib, files, wallS: r.wall, rssMb: r.rssMb, sPerMib: r.wall / mib };
    result.sizes.push(row);
    log(
      `  install: ${r.wall.toFixed(2)} s (${((r.wall / mib) * 1000).toFixed(1)} ms per MiB), peak RSS ${r.rssMb.toFixed(0)} MB (target ≤ ${RSS_TARGET_MB})`,
    );
    // The smaller sizes are not needed any more: room for the next.
    if (last) fs.rmSync(last.dir, { recursive: true, force: true });
    last = { dir, env, prefix, mib, files };
  }
  const big = result.sizes.at(-1);
  const mid = result.sizes.at(-2) ?? big;
  result.linear = {
    ratio: big.sPerMib / mid.sPerMib,
    target: LINEAR_TARGET,
    met: big.sPerMib / mid.sPerMib <= LINEAR_TARGET,
  };
  result.rss = {
    maxMb: Math.max(...result.sizes.map((s) => s.rssMb)),
    target: RSS_TARGET_MB,
    met: result.sizes.every((s) => s.rssMb <= RSS_TARGET_MB),
  };
  log(
    `linear: ${result.linear.ratio.toFixed(2)}x the time per MiB at ${big.mib} MiB as at ${mid.mib} MiB (target ≤ ${LINEAR_TARGET}): ${result.linear.met ? 'met' : 'NOT met'}`,
  );
  log(
    `peak RSS: at most ${result.rss.maxMb.toFixed(0)} MB (target ≤ ${RSS_TARGET_MB}): ${result.rss.met ? 'met' : 'NOT met'}`,
  );

  // verify of the largest version against sha256sum -c of the same files.
  const manifestDir = path.join(last.prefix, 'www', 'state', 'manifests', 'TV');
  const manifest = JSON.parse(fs.readFileSync(path.join(manifestDir, '1.0.json'), 'utf8'));
  const versionDir = path.join(last.prefix, 'dbwebtools', 'tv', '1.0');
  const list = path.join(last.dir, 'sha256sums');
  fs.writeFileSync(list, manifest.files.map((f) => `${f.sha256}  ${f.path}\n`).join(''));
  const sides = {
    'webtree verify': () => timed([process.execPath, BIN, 'verify'], last.env),
    'sha256sum -c': () => timed(['bash', '-c', `cd "$1" && sha256sum -c --quiet "$2"`, 'sha256sum', versionDir, list]),
  };
  for (const s of Object.values(sides)) s(); // warm: both read from the page cache alike
  const times = { 'webtree verify': [], 'sha256sum -c': [] };
  const rounds = Number(values['verify-rounds']);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? ['sha256sum -c', 'webtree verify'] : ['webtree verify', 'sha256sum -c'];
    for (const n of order) {
      const t = sides[n]();
      if (t.status !== 0) throw new Error(`${n} failed: ${t.stderr}`);
      times[n].push(t.wall);
    }
  }
  const ratio = median(times['webtree verify'].map((w, i) => w / times['sha256sum -c'][i]));
  result.verify = {
    files: manifest.files.length,
    webtreeS: median(times['webtree verify']),
    sha256sumS: median(times['sha256sum -c']),
    ratio,
    target: VERIFY_TARGET,
    met: ratio <= VERIFY_TARGET,
    rounds,
  };
  log(
    `verify of ${manifest.files.length} files: webtree ${result.verify.webtreeS.toFixed(2)} s, sha256sum -c ${result.verify.sha256sumS.toFixed(2)} s; ratio ${ratio.toFixed(2)} (median of ${rounds} rounds; target ≤ ${VERIFY_TARGET}): ${result.verify.met ? 'met' : 'NOT met'}`,
  );
  log(
    `machine: nproc ${result.machine.nproc}, ${result.machine.cpu}, Node ${process.version}, ${result.machine.fs}, ${result.machine.date}, load ${result.machine.load.toFixed(1)}`,
  );
  if (values.json) console.log(JSON.stringify(result, null, 2));
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
