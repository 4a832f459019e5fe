#!/usr/bin/env node
// Benchmark 4: fetch and install from a loopback HTTPS server. `webtree install URL --sha256 HEX`
// against what a careful operator types: curl -o, sha256sum -c, then the careful shell install
// of bench/shell-install.sh, on the same archive in the same run (rounds alternate which side
// goes first, each after a full sync). The figure is the median of the rounds' own ratios.
//
// --before DIR adds a third side, the same install by another checkout's build (DIR/bin/webtree.js,
// e.g. a copy of main), so that a change is measured against what it replaces in the same run.
//
// Usage: npm run build && node bench/fetch.mjs [--mb 120] [--files 8000] [--rounds 4] [--dir DIR] [--before DIR] [--json]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
} from './lib/install-setup.mjs';
import { childCpu } from './lib/cpu.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values, mb, files, rounds, log } = benchOptions(4, { before: { type: 'string' } });
const beforeCli = values.before && path.join(path.resolve(values.before), 'bin', 'webtree.js');
if (beforeCli && !fs.existsSync(beforeCli))
  throw new Error(`--before: ${beforeCli} does not exist (build that checkout first)`);
/** Runs fn, its wall time pushed onto walls and its children's CPU time onto cpus. */
const measure = (walls, cpus, fn) => {
  const c0 = childCpu();
  walls.push(timed(fn));
  cpus.push(childCpu() - c0);
};
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join('/');

const root = fs.mkdtempSync(path.join(values.dir ?? os.tmpdir(), 'webtree-bench-fetch-'));
// A root webtree works as the service account (issue 11): it must be able to reach the sandbox.
fs.chmodSync(root, 0o755);
let server;
try {
  const { prefix, env } = makeSite(root);

  // A CA and a server certificate for 127.0.0.1, made now.
  const pki = path.join(root, 'pki');
  fs.mkdirSync(pki);
  const p = (n) => path.join(pki, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
    '-days',
    '1',
    '-subj',
    '/CN=bench CA',
  ]);
  run('openssl', ['req', ...ec, '-keyout', p('srv.key'), '-out', p('srv.csr'), '-subj', '/CN=127.0.0.1']);
  fs.writeFileSync(p('ext'), 'subjectAltName=IP:127.0.0.1\n');
  run('openssl', [
    'x509',
    '-req',
    '-in',
    p('srv.csr'),
    '-CA',
    p('ca.pem'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-out',
    p('srv.pem'),
    '-days',
    '1',
    '-extfile',
    p('ext'),
  ]);

  // The archive of bench/install.mjs, served from its own directory.
  const served = path.join(root, 'served');
  fs.mkdirSync(served);
  const master = path.join(served, 'tv-master.tar.gz');
  const size = makeArchive(root, master, { mb, files, log });
  const sha = createHash('sha256').update(fs.readFileSync(master)).digest('hex');

  server = spawn(process.execPath, [path.join(here, 'fetch-server.mjs'), served, p('srv.key'), p('srv.pem')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve, reject) => {
    server.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    server.once('exit', (c) => reject(new Error(`the bench's HTTPS server exited ${c}`)));
  });

  const { shellDir } = shellProductDir(prefix);
  const downloads = path.join(root, 'downloads');
  fs.mkdirSync(downloads);
  await settle(2000);

  const shell = [],
    webtree = [],
    before = [];
  const cpu = { shell: [], webtree: [], before: [] };
  const loads = [];
  log(`load average at the start: ${load()}`);
  for (let r = 0; r < rounds; r++) {
    const version = `1.${r + 1}`;
    const name = `tv-${version}.tar.gz`;
    fs.linkSync(master, path.join(served, name));
    const url = `https://127.0.0.1:${port}/${name}`;
    // The other build installs its own version (2.R) of the same bytes: neither finds the other's download.
    const beforeName = `tv-2.${r + 1}.tar.gz`;
    if (beforeCli) fs.linkSync(master, path.join(served, beforeName));
    const sides = [
      () =>
        measure(shell, cpu.shell, () => {
          const file = path.join(downloads, name);
          run('curl', ['-sSf', '--cacert', p('ca.pem'), '-o', file, url]);
          const check = spawnSync('sha256sum', ['-c', '-'], {
            cwd: downloads,
            input: `${sha}  ${name}\n`,
            encoding: 'utf8',
          });
          if (check.status !== 0) throw new Error(`sha256sum -c: ${check.stdout}${check.stderr}`);
          run('bash', [shellInstall, file, shellDir, version]);
        }),
      () =>
        measure(webtree, cpu.webtree, () =>
          run(process.execPath, [cli, 'install', url, '--sha256', sha], { ...env, NODE_EXTRA_CA_CERTS: p('ca.pem') }),
        ),
    ];
    if (beforeCli)
      sides.push(() =>
        measure(before, cpu.before, () =>
          run(process.execPath, [beforeCli, 'install', `https://127.0.0.1:${port}/${beforeName}`, '--sha256', sha], {
            ...env,
            NODE_EXTRA_CA_CERTS: p('ca.pem'),
          }),
        ),
      );
    // Each side goes first in turn (two sides: alternating).
    for (let k = 0; k < r % sides.length; k++) sides.push(sides.shift());
    for (const side of sides) {
      execFileSync('sync');
      side();
    }
    loads.push(os.loadavg()[0]);
    log(
      `round ${r + 1}: curl + sha256sum + shell ${ms(shell.at(-1))}, webtree install URL ${ms(webtree.at(-1))}, ratio ${(webtree.at(-1) / shell.at(-1)).toFixed(2)}` +
        (beforeCli ? `; --before ${ms(before.at(-1))}, ratio ${(before.at(-1) / shell.at(-1)).toFixed(2)}` : '') +
        `; CPU ${ms(cpu.shell.at(-1))} / ${ms(cpu.webtree.at(-1))}${beforeCli ? ` / ${ms(cpu.before.at(-1))}` : ''}` +
        `; load ${load()}`,
    );
  }
  run(process.execPath, [cli, 'verify'], env);
  const result = {
    machine: {
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      node: process.version,
      date: new Date().toISOString(),
      load: os.loadavg(),
    },
    archive: { mb, files, compressedBytes: size },
    rounds,
    shellMedianS: median(shell),
    webtreeMedianS: median(webtree),
    ratio: median(webtree.map((w, i) => w / shell[i])),
    shellS: shell,
    webtreeS: webtree,
    // CPU (user + system) of each side's processes and threads, seconds; the server's is not in it.
    cpuShellMedianS: median(cpu.shell),
    cpuWebtreeMedianS: median(cpu.webtree),
    cpuRatio: median(cpu.webtree.map((w, i) => w / cpu.shell[i])),
    cpuShellS: cpu.shell,
    cpuWebtreeS: cpu.webtree,
    loadEachRound: loads,
    loadAtEnd: os.loadavg(),
  };
  if (beforeCli) {
    result.before = {
      cli: beforeCli,
      medianS: median(before),
      ratio: median(before.map((b, i) => b / shell[i])),
      s: before,
      // This build against the other one round by round: at a high load the medians of each side
      // move with the load; the pairs, run back to back, move together.
      webtreeOverBefore: median(webtree.map((w, i) => w / before[i])),
      cpuWebtreeOverBefore: median(cpu.webtree.map((w, i) => w / cpu.before[i])),
      cpuMedianS: median(cpu.before),
      cpuRatio: median(cpu.before.map((b, i) => b / cpu.shell[i])),
      cpuS: cpu.before,
    };
  }
  // For bench/run.mjs's table of every figure.
  result.figures = [
    {
      what: `install URL --sha256 / curl + sha256sum -c + shell install, ${mb} MB / ${files} files, median of ${rounds} rounds' ratios`,
      value: `${result.ratio.toFixed(2)}x`,
      target: '≤ 1.2x',
      met: result.ratio <= 1.2,
    },
  ];
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else {
    log(
      `\narchive: ${(size / 1e6).toFixed(1)} MB compressed, ${mb} MB in ${files} files, from https://127.0.0.1 (loopback); ${rounds} rounds, alternating`,
    );
    log(`curl -o, sha256sum -c, shell install: median ${ms(result.shellMedianS)}`);
    log(`webtree install URL --sha256:         median ${ms(result.webtreeMedianS)}`);
    log(`ratio webtree/shell: ${result.ratio.toFixed(2)}x, median of the rounds' ratios (target ≤ 1.2x)`);
    if (result.before)
      log(
        `--before ${values.before}: median ${ms(result.before.medianS)}, ratio ${result.before.ratio.toFixed(2)}x (same rounds)`,
      );
    log(
      `CPU (user + system): shell median ${ms(result.cpuShellMedianS)}, webtree ${ms(result.cpuWebtreeMedianS)} (ratio ${result.cpuRatio.toFixed(2)}x)` +
        (result.before
          ? `, --before ${ms(result.before.cpuMedianS)} (ratio ${result.before.cpuRatio.toFixed(2)}x)`
          : ''),
    );
    if (result.before)
      log(
        `this build / --before, median of the rounds' pairs: wall ${result.before.webtreeOverBefore.toFixed(2)}x, CPU ${result.before.cpuWebtreeOverBefore.toFixed(2)}x`,
      );
    log(`load average at the end: ${load()}`);
  }
} finally {
  server?.kill('SIGTERM');
  fs.rmSync(root, { recursive: true, force: true });
}
