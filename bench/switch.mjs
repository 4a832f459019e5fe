#!/usr/bin/env node
// Switching under load (issue 5, benchmark 2). A sandbox site served by the real Apache 2.4 +
// mod_wsgi of this host on 127.0.0.1, every app (TV, ConstantsDB, AV, QE, ECL and the static
// EXPO pages) kept busy by a Node load loop, while webtree runs, in turn and several times:
//   activate TV <new>, rollback TV, activate X <new>, rollback X (X: ConstantsDB, AV, QE in turn),
//   activate dbiapp_pylib <new>, rollback dbiapp_pylib (the python library every app imports),
//   switch-web server2, switch-web server3 (odd cycles start with the two switches).
// Every request is recorded (app, start, end, status, error, the version and server its body
// names); for each command the time until every app it changes answers from the new version or
// server, polled per app, and the command's own exit time.
// The sandbox has no database: switch-web runs with --no-check-db, as the demo does.
// Usage: npm run build && node bench/switch.mjs [--cycles 5] [--workers 3] [--pause 1000] [--keep]
//        [--only WORD]   (only the commands whose kind holds WORD: activate, TV, dbiapp_pylib, switch-web …)
//        [--rate 0]      (most requests a second per client; 0: back to back, as fast as Apache answers)
//        [--idle 1]      (cycles run first without load: what the commands cost on their own)
//        [--records FILE] (every request as a JSON line: app, source, start, end, status, error, …)
// Needs root (Apache runs as the service account codemanager) or runs Apache as the caller.
// Exit status 0 when no request failed and every command converged within 2 s, else 1.
// Results and what they mean: docs/benchmarks.md, section 2.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { findOurProcesses } from '../dist/apache/process.js';
import { apacheLayout } from '../dist/plan/apache-layout.js';
import { ECL_SAMPLE_APP, FIRST_VERSIONS, writeSampleArchive } from '../dist/demo/samples.js';
import { freePort } from '../dist/core/net.js';
import { loadSite } from '../dist/site/load.js';

const { values: opt } = parseArgs({
  options: {
    cycles: { type: 'string', default: '5' },
    workers: { type: 'string', default: '3' },
    pause: { type: 'string', default: '1000' },
    timeout: { type: 'string', default: '5000' },
    keep: { type: 'boolean', default: false },
    only: { type: 'string' },
    idle: { type: 'string', default: '1' },
    rate: { type: 'string', default: '0' },
    records: { type: 'string' },
  },
});
const RATE = Number(opt.rate);
const CYCLES = Number(opt.cycles),
  WORKERS = Number(opt.workers),
  PAUSE_MS = Number(opt.pause),
  REQ_TIMEOUT_MS = Number(opt.timeout);
const CONVERGE_LIMIT_MS = 30_000;
const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'webtree.js');
const HTTPD = '/usr/sbin/apache2',
  WSGI = '/usr/lib/apache2/modules/mod_wsgi.so';

/** The apps under load; `server`: its body names the database server (switch-web changes it). */
const APPS = [
  { name: 'TV', path: '/TV', server: true },
  { name: 'ConstantsDB', path: '/ConstantsDB', server: true },
  { name: 'AV', path: '/AV', server: true },
  { name: 'QE', path: '/QE/DECam', server: true },
  { name: 'ECL', path: '/ECL', server: true },
  { name: 'EXPO', path: '/EXPO/', server: false },
];
const OLD = Object.fromEntries(FIRST_VERSIONS);
const NEW = { TV: '3.4', ConstantsDB: '1.6', AV: '1.2', QE: '2.1', dbiapp_pylib: 'v1_4b' };
const OTHERS = ['ConstantsDB', 'AV', 'QE'];

/** What a body says (version, server, dbiapp library): "TV 3.4 server=server3 dbiapp v1_4a", "ECL server=server2", "<h1>Exposure Browser 1.0</h1>". */
function marker(body) {
  let m = /^(\S+) (\S+) server=(\S+) dbiapp (\S+)/.exec(body);
  if (m) return { version: m[2], server: m[3], lib: m[4] };
  m = /^ECL server=(\S+)/.exec(body);
  if (m) return { server: m[1] };
  m = /Exposure Browser (\S+)<\/h1>/.exec(body);
  if (m) return { version: m[1] };
  return {};
}

const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

let port = 0;
/** Every request through Apache, load and polls alike. */
const records = [];

/** One GET on agent; resolves to its record (never rejects). */
function request(app, agent, source) {
  return new Promise((resolve) => {
    const rec = {
      app: app.name,
      source,
      start: now(),
      end: 0,
      status: 0,
      error: null,
      reused: false,
      version: undefined,
      server: undefined,
    };
    let done = false;
    const finish = (error) => {
      if (done) return;
      done = true;
      rec.end = now();
      if (error) rec.error = error.code ?? error.message;
      records.push(rec);
      resolve(rec);
    };
    const req = http.get({ host: '127.0.0.1', port, path: app.path, agent, timeout: REQ_TIMEOUT_MS }, (res) => {
      rec.status = res.statusCode;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        Object.assign(rec, marker(body.trim()));
        if (rec.status !== 200) rec.body = body.slice(0, 300);
        finish();
      });
      res.on('error', finish);
      res.on('aborted', () => finish({ code: 'ABORTED' }));
    });
    req.on('socket', () => (rec.reused = req.reusedSocket));
    req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'TIMEOUT' })));
    req.on('error', finish);
  });
}

/** WORKERS clients per app, back to back on keep-alive connections, until stopped. */
function startLoad() {
  let running = true;
  const agents = [];
  const loops = APPS.flatMap((app) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: WORKERS });
    agents.push(agent);
    return Array.from({ length: WORKERS }, async () => {
      while (running) {
        const r = await request(app, agent, 'load');
        if (r.error)
          await sleep(20); // a refused port must not become a busy loop
        else if (RATE > 0) await sleep(Math.max(0, 1000 / RATE - (r.end - r.start)));
      }
    });
  });
  return async () => {
    running = false;
    await Promise.all(loops);
    for (const a of agents) a.destroy();
  };
}

/** Poll app (its own connection) until its body says `want`; ms from t0, or undefined after the limit. */
async function converge(app, want, t0) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    while (now() - t0 < CONVERGE_LIMIT_MS) {
      const r = await request(app, agent, 'poll');
      if (r.status === 200 && Object.entries(want).every(([k, v]) => r[k] === v)) return r.end - t0;
      await sleep(10);
    }
    return undefined;
  } finally {
    agent.destroy();
  }
}

// ---- the sandbox ------------------------------------------------------------------------------

let dir, config, site;
const env = () => ({ ...process.env, WEBTREE_CONFIG: config });
/** The webtree commands running now: an interrupt stops them before Apache and the sandbox go. */
const children = new Set();
function spawnWebtree(args) {
  const child = execa(process.execPath, [BIN, '--config', config, ...args], {
    reject: false,
    env: env(),
    stdin: 'ignore',
  });
  children.add(child);
  child.finally(() => children.delete(child)).catch(() => {});
  return child;
}
async function webtree(args) {
  const r = await spawnWebtree(args);
  if (r.exitCode !== 0) throw new Error(`webtree ${args.join(' ')} exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

async function serviceUser() {
  if (process.getuid?.() !== 0) return ['--user', os.userInfo().username];
  const r = await execa('id', ['-u', 'codemanager'], { reject: false });
  if (r.exitCode !== 0)
    throw new Error(
      'the service account codemanager is missing: groupadd -r sispi && useradd -r -g sispi -s /usr/sbin/nologin -M codemanager',
    );
  return ['--user', 'codemanager'];
}

async function buildSite() {
  for (const f of [HTTPD, WSGI])
    await fs.access(f).catch(() => {
      throw new Error(`${f} is missing: apt-get install apache2 libapache2-mod-wsgi-py3`);
    });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-bench-switch-'));
  await fs.chmod(dir, 0o755); // the service account must reach the tree
  const archives = path.join(dir, 'archives');
  await fs.mkdir(archives);
  config = path.join(dir, 'site', 'webtree.yaml');
  port = await freePort();
  await webtree([
    'init',
    '--prefix',
    path.join(dir, 'site'),
    '--listen',
    `127.0.0.1:${port}`,
    ...(await serviceUser()),
  ]);
  site = await loadSite(config);
  for (const [p, v] of FIRST_VERSIONS) await webtree(['install', await writeSampleArchive(archives, p, v)]);
  // The second version of each app is installed, then rolled back: the cycles go forth and back.
  for (const [p, v] of Object.entries(NEW)) {
    await webtree(['install', await writeSampleArchive(archives, p, v)]);
    await webtree(['rollback', p]);
  }
  const ecl = path.join(site.ecl.dir, 'ecl.wsgi');
  await fs.writeFile(ecl, ECL_SAMPLE_APP, { mode: 0o644 });
  const st = await fs.stat(site.ecl.dir);
  await fs.chown(ecl, st.uid, st.gid);
  await webtree(['render']);
  await webtree(['apache', 'start']);
}

let cleaning;
function cleanup() {
  cleaning ??= (async () => {
    if (!dir) return;
    for (const c of children) c.kill('SIGINT'); // webtree leaves the tree as it was on Ctrl-C
    await Promise.allSettled([...children]);
    if (config)
      await execa(process.execPath, [BIN, '--config', config, 'apache', 'stop'], {
        reject: false,
        env: env(),
        stdin: 'ignore',
      });
    if (site) {
      const left = await findOurProcesses(apacheLayout(site).serverRoot).catch(() => []);
      for (const pid of left)
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
    }
    if (opt.keep) console.log(`sandbox kept in ${dir} (remove it with: rm -rf ${dir})`);
    else await fs.rm(dir, { recursive: true, force: true });
  })();
  return cleaning;
}

process.on('SIGINT', () => {
  console.error('\ninterrupted: stopping Apache and removing the sandbox');
  cleanup().finally(() => process.exit(130));
});

// ---- the run ----------------------------------------------------------------------------------

/** One cycle's commands; `want` per app: what its body must say once the command took effect. */
function cycle(i) {
  const other = OTHERS[i % OTHERS.length];
  const servers = (name) => Object.fromEntries(APPS.filter((a) => a.server).map((a) => [a.name, { server: name }]));
  // The python library every sample app imports and names in its answer (ECL does not).
  const libs = (v) =>
    Object.fromEntries(APPS.filter((a) => a.server && a.name !== 'ECL').map((a) => [a.name, { lib: v }]));
  const steps = [
    { kind: 'activate TV', args: ['activate', 'TV', NEW.TV], want: { TV: { version: NEW.TV } } },
    { kind: 'rollback TV', args: ['rollback', 'TV'], want: { TV: { version: OLD.TV } } },
    {
      kind: 'activate ConstantsDB/AV/QE',
      label: `activate ${other} ${NEW[other]}`,
      args: ['activate', other, NEW[other]],
      want: { [other]: { version: NEW[other] } },
    },
    {
      kind: 'rollback ConstantsDB/AV/QE',
      label: `rollback ${other}`,
      args: ['rollback', other],
      want: { [other]: { version: OLD[other] } },
    },
    {
      kind: 'activate dbiapp_pylib',
      label: `activate dbiapp_pylib ${NEW.dbiapp_pylib}`,
      args: ['activate', 'dbiapp_pylib', NEW.dbiapp_pylib],
      want: libs(NEW.dbiapp_pylib),
    },
    {
      kind: 'rollback dbiapp_pylib',
      label: 'rollback dbiapp_pylib',
      args: ['rollback', 'dbiapp_pylib'],
      want: libs(OLD.dbiapp_pylib),
    },
    {
      kind: 'switch-web',
      label: 'switch-web server2',
      args: ['switch-web', 'server2', '--no-check-db'],
      want: servers('server2'),
    },
    {
      kind: 'switch-web',
      label: 'switch-web server3',
      args: ['switch-web', 'server3', '--no-check-db'],
      want: servers('server3'),
    },
  ];
  // Alternate the order: odd cycles switch the servers first.
  const ordered = i % 2 ? [...steps.slice(6), ...steps.slice(0, 6)] : steps;
  return opt.only ? ordered.filter((s) => s.kind.includes(opt.only)) : ordered;
}

async function runStep(step) {
  const t0 = now();
  const cmd = spawnWebtree(step.args);
  const exited = cmd.then((r) => ({ ms: now() - t0, r }));
  const apps = await Promise.all(
    Object.entries(step.want).map(async ([name, want]) => [
      name,
      await converge(
        APPS.find((a) => a.name === name),
        want,
        t0,
      ),
    ]),
  );
  const { ms: exitMs, r } = await exited;
  if (r.exitCode !== 0)
    throw new Error(`webtree ${step.args.join(' ')} exited ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
  const late = apps.filter(([, ms]) => ms === undefined).map(([n]) => n);
  if (late.length)
    throw new Error(
      `after webtree ${step.args.join(' ')}, ${late.join(', ')} did not answer from the new version/server within ${CONVERGE_LIMIT_MS / 1000} s`,
    );
  return { ...step, t0, exitMs, convergeMs: Math.max(...apps.map(([, ms]) => ms)), perApp: Object.fromEntries(apps) };
}

/** "ECONNRESET 12, 503 9": failures by error code or status. */
function causes(rs) {
  const n = new Map();
  for (const r of rs) n.set(r.error ?? String(r.status), (n.get(r.error ?? String(r.status)) ?? 0) + 1);
  return [...n]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

const failed = (r) => r.error !== null || r.status < 200 || r.status > 299;

async function main() {
  const machine = {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? '?',
    node: process.version,
    date: new Date().toISOString(),
    load: os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
  };
  const apacheVersion = execFileSync(HTTPD, ['-v'], { encoding: 'utf8' })
    .split('\n')[0]
    .replace(/^Server version:\s*/, '');
  console.log(`setting up a sandbox site (${APPS.length} apps) ...`);
  const tSetup = now();
  await buildSite();
  console.log(
    `site in ${dir}, Apache on 127.0.0.1:${port} as ${site.apache.user} (${((now() - tSetup) / 1000).toFixed(1)} s)`,
  );
  const errorLog = apacheLayout(site).errorLog;
  const logStart = (await fs.stat(errorLog).catch(() => ({ size: 0 }))).size;

  const idleSteps = [];
  for (let c = 0; c < Number(opt.idle); c++) {
    for (const step of cycle(c)) {
      idleSteps.push(await runStep(step));
      await sleep(PAUSE_MS / 2);
    }
  }
  const idleLine =
    idleSteps.length === 0
      ? []
      : [
          `without load (${opt.idle} cycle(s) before the load started, ${idleSteps.length} commands): exit median ${median(idleSteps.map((x) => x.exitMs)).toFixed(0)} ms, max ${Math.max(...idleSteps.map((x) => x.exitMs)).toFixed(0)} ms; every app on the new version or server: median ${median(idleSteps.map((x) => x.convergeMs)).toFixed(0)} ms, max ${Math.max(...idleSteps.map((x) => x.convergeMs)).toFixed(0)} ms`,
        ];
  if (idleSteps.length) console.log(idleLine[0]);

  const stopLoad = startLoad();
  const runStart = now();
  const steps = [];
  let runEnd;
  try {
    await sleep(PAUSE_MS); // load before the first command
    for (let c = 0; c < CYCLES; c++) {
      for (const step of cycle(c)) {
        const s = await runStep(step);
        steps.push(s);
        const per = Object.entries(s.perApp)
          .map(([n, ms]) => `${n} ${ms.toFixed(0)}`)
          .join(', ');
        console.log(
          `cycle ${c + 1}  ${(s.label ?? s.args.join(' ')).padEnd(26)} exit ${s.exitMs.toFixed(0).padStart(5)} ms  converged ${s.convergeMs.toFixed(0).padStart(5)} ms  (${per})`,
        );
        await sleep(PAUSE_MS);
      }
    }
  } finally {
    await stopLoad();
    runEnd = now();
  }

  // Each request belongs to the last command started before it (or to the load before the first).
  const stepOf = (t) => {
    let k = -1;
    for (let i = 0; i < steps.length && steps[i].t0 <= t; i++) k = i;
    return k;
  };
  const load = records.filter((r) => r.source === 'load');
  const polls = records.filter((r) => r.source === 'poll');
  const bad = records.filter(failed);
  // Stale: a load request started after its app had converged that still names the old version/server.
  let stale = 0;
  for (const r of load) {
    const k = stepOf(r.start);
    if (k < 0) continue;
    const s = steps[k];
    const want = s.perApp[r.app] !== undefined && s.want[r.app];
    if (
      want &&
      r.start > s.t0 + s.perApp[r.app] &&
      r.status === 200 &&
      !Object.entries(want).every(([key, v]) => r[key] === v)
    )
      stale++;
  }

  const kinds = [...new Set(steps.map((s) => s.kind))];
  const rows = kinds.map((kind) => {
    const ss = steps.filter((s) => s.kind === kind);
    const idx = new Set(ss.map((s) => steps.indexOf(s)));
    const during = bad.filter((r) => idx.has(stepOf(r.start)));
    const f = (xs) => `${median(xs).toFixed(0)} / ${Math.max(...xs).toFixed(0)}`;
    return `| ${kind} | ${ss.length} | ${f(ss.map((s) => s.exitMs))} | ${f(ss.map((s) => s.convergeMs))} | ${during.length}${during.length ? ` (${causes(during)})` : ''} |`;
  });
  const seconds = (runEnd - runStart) / 1000;
  const allConverge = steps.map((s) => s.convergeMs);
  const out = [
    `machine: ${machine.nproc} CPUs (nproc), ${machine.cpu}, Node ${machine.node}, ${apacheVersion}, load average at start ${machine.load}`,
    `date: ${machine.date}`,
    `command: npm run build && node bench/switch.mjs --cycles ${CYCLES} --workers ${WORKERS} --pause ${PAUSE_MS} --idle ${opt.idle}${RATE ? ` --rate ${RATE}` : ''}${opt.only ? ` --only ${opt.only}` : ''}`,
    '',
    '| command | runs | exit ms, median / max | every app on the new version or server, ms, median / max | failed requests in its window |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `requests: ${load.length} by the load loop (${WORKERS} keep-alive clients for each of ${APPS.length} apps${RATE ? `, at most ${RATE}/s each` : ', back to back'}, ${(load.length / seconds).toFixed(0)}/s over ${seconds.toFixed(1)} s) and ${polls.length} convergence polls`,
    `failed or non-2xx: ${bad.length}${bad.length ? ` (${causes(bad)}; ${bad.filter((r) => r.error && r.reused).length} of the errors on a reused keep-alive connection)` : ''}`,
    `stale answers (old version or server after the app had converged): ${stale}; 200s whose body names no version or server: ${load.filter((r) => r.status === 200 && r.version === undefined && r.server === undefined).length}`,
    `convergence: median ${median(allConverge).toFixed(0)} ms, max ${Math.max(...allConverge).toFixed(0)} ms over ${steps.length} commands (target: under 2000 ms)`,
    ...idleLine,
    '',
    'per app, requests (failed): ' +
      APPS.map(
        (a) =>
          `${a.name} ${load.filter((r) => r.app === a.name).length} (${bad.filter((r) => r.app === a.name).length})`,
      ).join(', '),
  ];
  console.log(`\n${out.join('\n')}`);
  if (bad.length) {
    console.log(
      '\nfailed requests (first 30): app, source, ms after the command started, error or status, reused keep-alive socket',
    );
    for (const r of bad.slice(0, 30)) {
      const k = stepOf(r.start);
      const s = steps[k];
      console.log(
        `  ${r.app} ${r.source} ${s ? `${s.label ?? s.args.join(' ')} +${(r.start - s.t0).toFixed(0)} ms` : 'before the first command'} ${r.error ?? r.status} reused=${r.reused} ${r.body ? JSON.stringify(r.body.slice(0, 120)) : ''}`,
      );
    }
  }
  if (opt.records) {
    await fs.writeFile(
      opt.records,
      records
        .map((r) =>
          JSON.stringify({
            ...r,
            step: steps[stepOf(r.start)]?.label ?? steps[stepOf(r.start)]?.args.join(' ') ?? null,
          }),
        )
        .join('\n') + '\n',
    );
    console.log(`\n${records.length} requests written to ${opt.records}`);
  }
  const log = (await fs.readFile(errorLog, 'utf8').catch(() => ''))
    .slice(logStart)
    .split('\n')
    .filter((l) => l && !/:notice\]|:info\]/.test(l));
  if (log.length)
    console.log(
      `\nApache's error_log during the run (${log.length} lines besides notices; last 30):\n${log.slice(-30).join('\n')}`,
    );
  return bad.length === 0 && Math.max(...allConverge) < 2000 ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error(`bench/switch: ${err.stack ?? err}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
