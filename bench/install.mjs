#!/usr/bin/env node
// Benchmark 1: `webtree install` against the careful shell way (bench/shell-install.sh: tar -xzf
// into a new directory, sync -f, ln -s a temporary link, mv -T it over current), on the same
// archive, in the same run. Rounds alternate which side goes first and each starts after a full
// sync, so that neither pays for the other's dirty pages; medians are quoted, and the ratio is
// the figure (the machines are shared and noisy). Then a breakdown of where webtree's time goes.
//
// The figure is the median of the rounds' own ratios (webtree / shell in the same round, one right
// after the other), which cancels what a shared disk does to both in a given moment; the ratio
// of the two medians is printed too.
//
// Usage: npm run build && node bench/install.mjs [--mb 120] [--files 8000] [--rounds 12]
//          [--dir DIR (default: the system's temporary directory)] [--before DIR] [--json]
// --before DIR: another built checkout of webtree (its bin/webtree.js), installed as a third side
// in the same rounds, for before/after figures measured under the same load.
// Targets (issue 15): at most 0.8x the shell way on tmpfs, at most 1.0x on a disk.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { extractArchive } from '../dist/archive/extract.js';
import { childCpu } from './lib/cpu.mjs';
import {
  benchOptions,
  cli,
  makeArchive,
  makeSite,
  median,
  ms,
  run,
  settle,
  shellInstall,
  shellProductDir,
  timed,
  webtreeEnv,
  caCost,
} from './lib/install-setup.mjs';

const { values, mb, files, rounds, log } = benchOptions(12, { before: { type: 'string' } });

async function timedAsync(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const root = fs.mkdtempSync(path.join(values.dir ?? os.tmpdir(), 'webtree-bench-install-'));
// Run as root, webtree works in the site as the service account (src/core/privilege.ts): it must
// be able to reach the site and read the archives.
fs.chmodSync(root, 0o755);
try {
  const { prefix, env } = makeSite(root);
  const master = path.join(root, 'tv-master.tar.gz');
  const archiveSize = makeArchive(root, master, { mb, files, log });
  const { productsRoot, shellDir } = shellProductDir(prefix);
  await settle(3000);

  // The checkout before, if any, installs into a site of its own (its layout may differ).
  let beforeEnv;
  if (values.before) {
    const p2 = path.join(root, 'site-before');
    run(
      process.execPath,
      [path.join(values.before, 'bin', 'webtree.js'), 'init', '--prefix', p2, '--listen', '127.0.0.1:18081'],
      webtreeEnv(),
    );
    beforeEnv = webtreeEnv({ WEBTREE_CONFIG: path.join(p2, 'webtree.yaml') });
  }
  // Every round's archive is the same file under a new version's name, while its top directory
  // says tv-1.0: --force takes the name's version (the check compares names only).
  const shell = [],
    webtree = [],
    before = [];
  // Each side's CPU (user + system of the command and its threads and children) beside its wall
  // time: on a shared host the wall time moves with the other load, the CPU much less.
  const cpu = { shell: [], webtree: [], before: [] };
  const timedCpu = (cpus, fn) => {
    const c0 = childCpu();
    const t = timed(fn);
    cpus.push(childCpu() - c0);
    return t;
  };
  for (let r = 0; r < rounds; r++) {
    const version = `1.${r + 1}`;
    const archive = path.join(root, `tv-${version}.tar.gz`);
    fs.linkSync(master, archive);
    const sides = [
      () => shell.push(timedCpu(cpu.shell, () => run('bash', [shellInstall, archive, shellDir, version]))),
      () => webtree.push(timedCpu(cpu.webtree, () => run(process.execPath, [cli, 'install', archive, '--force'], env))),
    ];
    if (beforeEnv)
      sides.push(() =>
        before.push(
          timedCpu(cpu.before, () =>
            run(
              process.execPath,
              [path.join(values.before, 'bin', 'webtree.js'), 'install', archive, '--force'],
              beforeEnv,
            ),
          ),
        ),
      );
    // Each side goes first in turn.
    for (let i = 0; i < r % sides.length; i++) sides.push(sides.shift());
    for (const side of sides) {
      execFileSync('sync');
      side();
    }
    log(
      `round ${r + 1}: shell ${ms(shell.at(-1))}, webtree ${ms(webtree.at(-1))}, ratio ${(webtree.at(-1) / shell.at(-1)).toFixed(2)}${beforeEnv ? `; before ${ms(before.at(-1))}, ratio ${(before.at(-1) / shell.at(-1)).toFixed(2)}` : ''}` +
        `; CPU ${ms(cpu.shell.at(-1))} / ${ms(cpu.webtree.at(-1))}${beforeEnv ? ` / ${ms(cpu.before.at(-1))}` : ''}`,
    );
  }
  const status = JSON.parse(run(process.execPath, [cli, 'status', '--json'], env));
  const tv = JSON.stringify(status).includes(`1.${rounds}`);
  if (!tv)
    throw new Error(`webtree status does not show TV 1.${rounds} active after the rounds:\n${JSON.stringify(status)}`);
  run(process.execPath, [cli, 'verify'], env);

  // Where the time goes: each part alone, in this process (medians of 3).
  const parts = {};
  const part = async (name, fn) => {
    const xs = [];
    for (let i = 0; i < 3; i++) {
      execFileSync('sync');
      let exclude = 0;
      xs.push(
        (await timedAsync(async () => {
          exclude = (await fn()) ?? 0;
        })) - exclude,
      );
    }
    parts[name] = median(xs);
  };
  await part('node start (node -e 0)', () => void run(process.execPath, ['-e', '0'], env));
  await part('webtree start (webtree --help)', () => void run(process.execPath, [cli, '--help'], env));
  await part('sha256 of the archive', async () => {
    const h = createHash('sha256');
    await pipeline(fs.createReadStream(master, { highWaterMark: 1 << 20 }), h);
  });
  await part('inflate only (node zlib)', () =>
    pipeline(
      fs.createReadStream(master, { highWaterMark: 1 << 20 }),
      createGunzip({ chunkSize: 1 << 18 }),
      new Writable({ write: (_c, _e, cb) => cb() }),
    ),
  );
  await part('inflate only (gzip -dc)', () => void run('gzip', ['-dc', master], process.env, true));
  let n = 0;
  const limits = { maxBytes: 4 * 1024 ** 3, maxEntries: 200_000, maxDepth: 64, maxRatio: 200 };
  const scratch = [];
  const syncs = [];
  await part('unpack + hash + check (extractArchive, one writer)', async () => {
    const d = path.join(productsRoot, `x${n++}`);
    fs.mkdirSync(d);
    process.env.WEBTREE_WRITERS = '1';
    try {
      await extractArchive(master, d, { limits, layout: 'single-top' });
    } finally {
      delete process.env.WEBTREE_WRITERS;
    }
  });
  await part('unpack + hash + check (extractArchive)', async () => {
    const d = path.join(productsRoot, `x${n++}`);
    fs.mkdirSync(d);
    scratch.push(d);
    await extractArchive(master, d, { limits, layout: 'single-top' });
    // Timed on its own, right after the unpack that dirtied the pages.
    const s = timed(() => run('sync', ['-f', d]));
    syncs.push(s);
    return s;
  });
  parts['sync -f of the tree just unpacked'] = median(syncs);
  await part('tar -xzf alone, the same place (GNU tar + gzip)', () => {
    const d = path.join(productsRoot, `x${n++}`);
    fs.mkdirSync(d);
    run('tar', ['-xzf', master, '-C', d]);
    const s = timed(() => run('sync', ['-f', d]));
    return s;
  });

  const ca = caCost();
  const fsType = run('stat', ['-f', '-c', '%T', root]).trim();
  const onTmpfs = fsType === 'tmpfs';
  const target = onTmpfs ? 0.8 : 1.0;
  const result = {
    fs: fsType,
    target,
    machine: {
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      node: process.version,
      date: new Date().toISOString(),
      dir: root,
      fs: run('stat', ['-f', '-c', '%T', root]).trim(),
      load: os.loadavg(),
    },
    archive: { mb, files, compressedBytes: archiveSize },
    rounds,
    shellMedianS: median(shell),
    webtreeMedianS: median(webtree),
    ratio: median(webtree.map((w, i) => w / shell[i])),
    ratioOfMedians: median(webtree) / median(shell),
    ratioRange: [Math.min(...webtree.map((w, i) => w / shell[i])), Math.max(...webtree.map((w, i) => w / shell[i]))],
    met: median(webtree.map((w, i) => w / shell[i])) <= target,
    ...(beforeEnv
      ? { beforeMedianS: median(before), beforeRatio: median(before.map((b, i) => b / shell[i])), beforeS: before }
      : {}),
    shellS: shell,
    webtreeS: webtree,
    cpuMedianS: {
      shell: median(cpu.shell),
      webtree: median(cpu.webtree),
      ...(beforeEnv ? { before: median(cpu.before) } : {}),
    },
    cpuS: cpu,
    partsS: parts,
    ...(ca ? { removedNodeExtraCaCerts: ca.file, caCostS: ca.seconds } : {}),
  };
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else {
    log(
      `\narchive: ${(archiveSize / 1e6).toFixed(1)} MB compressed, ${mb} MB in ${files} files; ${rounds} rounds, alternating`,
    );
    log(`shell (tar -xzf, sync -f, ln -s, mv -T): median ${ms(result.shellMedianS)}`);
    log(`webtree install:                        median ${ms(result.webtreeMedianS)}`);
    if (beforeEnv)
      log(
        `webtree before (${values.before}):        median ${ms(result.beforeMedianS)}, ratio ${result.beforeRatio.toFixed(2)}x`,
      );
    log(
      `ratio webtree/shell: ${result.ratio.toFixed(2)}x, median of the rounds' ratios (${result.ratioRange.map((x) => x.toFixed(2)).join('–')}); ratio of the medians ${result.ratioOfMedians.toFixed(2)}x`,
    );
    log(`target on ${fsType}: ≤ ${target.toFixed(1)}x: ${result.met ? 'met' : 'NOT met'}`);
    log(
      `CPU (user + system), medians: shell ${ms(result.cpuMedianS.shell)}, webtree ${ms(result.cpuMedianS.webtree)}${beforeEnv ? `, before ${ms(result.cpuMedianS.before)}` : ''}`,
    );
    if (ca)
      log(
        `webtree ran without this environment's NODE_EXTRA_CA_CERTS=${ca.file} (no TLS in an install from a file); with it, every start costs ${ms(ca.seconds)} more (node -e 0, median of 7 pairs)`,
      );
    log('\nwhere the time goes (each part alone, median of 3):');
    for (const [k, v] of Object.entries(parts)) log(`  ${k.padEnd(42)} ${ms(v)}`);
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
