#!/usr/bin/env node
// What `webtree check` costs beyond its probes (issue 14; target: under 1 s plus the probes'
// own time). On the full demo site: every product installed (ChartDirector with its licence),
// ECL, the tree rendered and Apache running as the service account on a free loopback port, the
// two database servers on closed loopback ports (refused at once: the check's database part is
// then only its connection attempts; a live server adds one round trip each). Times N rounds of
//   node -e 0        node bin/webtree.js --config <site> check --json
// and prints the medians: the check's wall time, the probes' own time it reports (probeSeconds),
// the difference, and the difference over a bare Node start.
//
// Usage (as root: Apache runs as codemanager): npm run build && node bench/check.mjs [--rounds 10] [--keep]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ECL_SAMPLE_APP, FIRST_VERSIONS, writeSampleArchive } from '../dist/demo/samples.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'webtree.js');
const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '10' }, keep: { type: 'boolean', default: false } },
});
const rounds = Number(values.rounds);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'webtree-bench-check-'));
fs.chmodSync(dir, 0o755);
const config = path.join(dir, 'webtree.yaml');

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
function webtree(args, ok = [0]) {
  const r = spawnSync(process.execPath, [BIN, '--config', config, ...args], { encoding: 'utf8' });
  if (!ok.includes(r.status)) throw new Error(`webtree ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const user = process.getuid?.() === 0 ? 'codemanager' : os.userInfo().username;
webtree([
  'init',
  '--prefix',
  dir,
  '--user',
  user,
  '--listen',
  `127.0.0.1:${await freePort()}`,
  '--server',
  `server3=127.0.0.1:${await freePort()}`,
  '--server',
  `server2=127.0.0.1:${await freePort()}`,
]);
const archives = path.join(dir, 'archives');
fs.mkdirSync(archives);
const lic = path.join(archives, 'chartdir.lic');
fs.writeFileSync(lic, 'licence\n');
for (const [product, version] of FIRST_VERSIONS) {
  webtree([
    'install',
    await writeSampleArchive(archives, product, version),
    ...(product === 'ChartDirector' ? ['--license', lic] : []),
  ]);
}
const ecl = path.join(dir, 'www', 'wsgi', 'ECL', 'decam', 'ecl.wsgi');
fs.writeFileSync(ecl, ECL_SAMPLE_APP, { mode: 0o644 });
const owner = fs.statSync(path.dirname(ecl));
fs.chownSync(ecl, owner.uid, owner.gid);
webtree(['render']);
webtree(['apache', 'start']);
try {
  webtree(['check', '--json'], [0, 1]); // warm the page cache and the daemons
  const base = [];
  const wall = [];
  const probes = [];
  for (let i = 0; i < rounds; i++) {
    let t0 = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0']);
    base.push(ms(t0));
    t0 = process.hrtime.bigint();
    const out = JSON.parse(webtree(['check', '--json'], [0, 1]));
    wall.push(ms(t0));
    probes.push(out.apps.reduce((m, a) => Math.max(m, a.seconds * 1000), 0));
  }
  const w = median(wall);
  const p = median(probes);
  const b = median(base);
  console.log(`webtree check on the demo site, ${rounds} rounds (medians):`);
  console.log(`  node -e 0                    ${b.toFixed(0)} ms`);
  console.log(`  check, wall                  ${w.toFixed(0)} ms`);
  console.log(`  probes (slowest app)         ${p.toFixed(0)} ms`);
  console.log(`  check minus probes           ${(w - p).toFixed(0)} ms (target < 1000 ms)`);
  console.log(`  check minus probes minus node ${(w - p - b).toFixed(0)} ms`);
} finally {
  webtree(['apache', 'stop'], [0, 1]);
  if (!values.keep) fs.rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}
