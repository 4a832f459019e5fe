#!/usr/bin/env node
// `npm run bench`: the benchmarks of docs/benchmarks.md, one after the other, each in its own
// process (so that none inherits another's warm caches or memory), then every figure with its
// target and whether it is met. `npm run bench -- install status` runs some of them; each
// bench/NAME.mjs takes its own options when run alone.
//
//   install   webtree install against tar -xzf + sync -f + ln + mv -T, on tmpfs (the ratio that
//             counts; --tmpfs DIR, default /dev/shm) and on the disk (the system's temporary
//             directory), 12 rounds each
//   status    status over node -e 0 at 8 x 200 versions; status, list, verify at 20 x 500
//   scale     install from 10 MB to 1 GiB (time, peak RSS); verify against sha256sum -c
//   fetch     install URL --sha256 from a local HTTPS server (issue 12), on tmpfs (the ratio that
//             counts) and on the disk, as install
//   switch    switching under load (Apache + mod_wsgi), exit status only
//
// Sized to finish in about ten minutes on a quiet two-core machine (docs/benchmarks.md); the rounds
// are options: --rounds 12 (install, at least 12 for the figure), --status-rounds 20,
// --scale-rounds 3 (status/list/verify at 20 x 500), --verify-rounds 3 (verify vs sha256sum -c),
// --fetch-rounds 8 (fetch: four rounds were 1.18x once and 1.55x under load), --cycles 2
// (switch). The load average is printed at the start, after each benchmark and at the end: a
// figure taken beside a load well over the number of cores is not worth quoting.
//
// Exit status 1 when a benchmark failed to run or a target was not met.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const all = ['install', 'status', 'scale', 'fetch', 'switch'];
const chosen = args.filter((a) => all.includes(a));
const tmpfs = opt('tmpfs', '/dev/shm');
const figures = [];
let failed = 0;
const load = () =>
  os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');
const started = Date.now();
const loadAtStart = load();
console.log(`load average at the start: ${loadAtStart} (1, 5, 15 min; nproc ${os.availableParallelism()})`);

/** Run bench/NAME.mjs with --json; its JSON result, or undefined when it failed. */
function json(name, extra = []) {
  console.log(`\n== bench/${name}.mjs ${extra.join(' ')} (load ${load()}) ==`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [path.join(here, `${name}.mjs`), '--json', ...extra], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
  const start = r.stdout.indexOf('{');
  if (r.status !== 0 || start < 0) {
    failed++;
    console.log(r.stdout);
    console.log(`bench/${name}.mjs failed (exit ${r.status})`);
    return undefined;
  }
  if (start > 0) console.log(r.stdout.slice(0, start).trimEnd());
  console.log(`bench/${name}.mjs took ${((Date.now() - t0) / 1000).toFixed(0)} s; load ${load()}`);
  return JSON.parse(r.stdout.slice(start));
}

const fig = (what, value, target, met) => figures.push({ what, value, target, met });
const x = (n) => `${n.toFixed(2)}x`;

for (const name of chosen.length ? chosen : all) {
  if (name === 'install') {
    const where = [];
    if (fs.existsSync(tmpfs)) where.push([tmpfs, 'tmpfs']);
    where.push([os.tmpdir(), 'disk']);
    for (const [dir, label] of where) {
      const r = json('install', ['--dir', dir, '--rounds', opt('rounds', '12')]);
      if (!r) continue;
      fig(
        `install / shell way, ${label} (${r.fs}), median of ${r.rounds} rounds' ratios`,
        `${x(r.ratio)} (${r.ratioRange.map((n) => n.toFixed(2)).join('–')})`,
        `≤ ${r.target.toFixed(1)}x`,
        r.met,
      );
    }
  } else if (name === 'status') {
    const r = json('status', ['--rounds', opt('status-rounds', '20'), '--scale-rounds', opt('scale-rounds', '3')]);
    if (!r) continue;
    fig(
      'status over node -e 0, 8 x 200 versions',
      `${r.status.over200Ms.toFixed(1)} ms`,
      `≤ ${r.status.targetMs} ms`,
      r.status.met,
    );
    for (const [cmd, ms] of Object.entries(r.startup ?? {}))
      fig(`start-up of ${cmd} (--debug, from process start)`, `${ms} ms`, 'measured', true);
    if (r.scale)
      for (const k of ['status, 20 x 500', 'list, 20 x 500', 'verify, 20 x 500'])
        fig(k, `${r.scale[k].toFixed(0)} ms`, 'measured', true);
  } else if (name === 'scale') {
    const r = json('scale', [
      ...(opt('scale-dir') ? ['--dir', opt('scale-dir')] : []),
      '--verify-rounds',
      opt('verify-rounds', '3'),
    ]);
    if (!r) continue;
    for (const s of r.sizes)
      fig(
        `install ${s.mib} MiB / ${s.files} files: time, peak RSS`,
        `${s.wallS.toFixed(2)} s, ${s.rssMb.toFixed(0)} MB`,
        `RSS ≤ ${r.rss.target} MB`,
        s.rssMb <= r.rss.target,
      );
    fig(
      `time per MiB at ${r.sizes.at(-1).mib} MiB / at ${r.sizes.at(-2)?.mib ?? r.sizes.at(-1).mib} MiB (linear)`,
      x(r.linear.ratio),
      `≤ ${r.linear.target}x`,
      r.linear.met,
    );
    fig(
      `verify ${r.verify.files} files / sha256sum -c`,
      `${x(r.verify.ratio)} (${r.verify.webtreeS.toFixed(2)} s / ${r.verify.sha256sumS.toFixed(2)} s)`,
      `≤ ${r.verify.target.toFixed(1)}x`,
      r.verify.met,
    );
  } else if (name === 'fetch') {
    if (!fs.existsSync(path.join(here, 'fetch.mjs'))) {
      console.log('\n== bench/fetch.mjs: not here yet (issue 12) ==');
      continue;
    }
    // As install: on tmpfs, the ratio that counts (the disk's allocator swings a tar of this
    // archive from 0.8 to 4 s of system time after mass deletions: docs/benchmarks.md), and on
    // the disk beside it.
    const where = [];
    if (fs.existsSync(tmpfs)) where.push([tmpfs, 'tmpfs']);
    where.push([os.tmpdir(), 'disk']);
    for (const [dir, label] of where) {
      const r = json('fetch', ['--dir', dir, '--rounds', opt('fetch-rounds', '8')]);
      if (r?.figures) for (const f of r.figures) fig(`${label}: ${f.what}`, f.value, f.target, f.met);
    }
  } else if (name === 'switch') {
    console.log('\n== bench/switch.mjs ==');
    const r = spawnSync(process.execPath, [path.join(here, 'switch.mjs'), '--cycles', opt('cycles', '2')], {
      stdio: 'inherit',
    });
    fig(
      'switching under load: failed requests 0, convergence < 2 s',
      r.status === 0 ? 'yes' : 'no',
      'exit 0',
      r.status === 0,
    );
  }
}

console.log(
  `\n== every figure, with its target (machine: nproc ${os.availableParallelism()}, ${os.cpus()[0]?.model}, Node ${process.version}, ${new Date().toISOString()}) ==`,
);
console.log(
  `load average at the start: ${loadAtStart}; at the end: ${load()}; ${((Date.now() - started) / 60000).toFixed(1)} minutes in all`,
);
const w = Math.max(...figures.map((f) => f.what.length), 10);
for (const f of figures)
  console.log(
    `${f.what.padEnd(w)}  ${String(f.value).padEnd(28)} target ${String(f.target).padEnd(10)} ${f.met ? 'met' : 'NOT MET'}`,
  );
const missed = figures.filter((f) => !f.met).length;
process.exit(failed || missed ? 1 : 0);
