// What bench/install.mjs and bench/fetch.mjs share: their options, the arithmetic of their figures,
// the sandbox site, the archive (the same ~120 MB in ~8,000 files for both, so that their figures
// speak of one archive) and the shell way's product directory beside webtree's. Not a benchmark
// itself: bench/run.mjs runs bench/NAME.mjs only.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const bench = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
export const cli = path.join(bench, '..', 'bin', 'webtree.js');
export const shellInstall = path.join(bench, 'shell-install.sh');

/** --mb, --files, --rounds (its default given), --dir, --json, and the bench's own `extra` options. */
export function benchOptions(rounds, extra = {}) {
  const { values } = parseArgs({
    options: {
      mb: { type: 'string', default: '120' },
      files: { type: 'string', default: '8000' },
      rounds: { type: 'string', default: String(rounds) },
      dir: { type: 'string' },
      ...extra,
      json: { type: 'boolean', default: false },
    },
  });
  const log = values.json ? () => {} : (...a) => console.log(...a);
  return { values, mb: Number(values.mb), files: Number(values.files), rounds: Number(values.rounds), log };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const ms = (s) => `${(s * 1000).toFixed(0)} ms`;

export function timed(fn) {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** A command's stdout; a failure throws with both outputs. `quiet`: stdout is not kept (gzip -dc). */
export function run(cmd, args, env = process.env, quiet = false) {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env,
    stdio: ['ignore', quiet ? 'ignore' : 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout ?? ''}\n${r.stderr}`);
  return r.stdout;
}

/**
 * The environment webtree runs in here: this one, less NODE_EXTRA_CA_CERTS. An install from a
 * file makes no TLS connection, but Node reads and parses the file that variable names at every
 * start, before any of webtree's code runs: where it names the system's whole bundle (as on the
 * machines these figures come from, /etc/ssl/certs/ca-certificates.crt) that is some 55 ms of
 * every start, which a web host without the variable does not pay. Each bench prints what it
 * removed and what a bare `node -e 0` costs with it (caCost). bench/fetch.mjs gives its own CA.
 */
export function webtreeEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** What NODE_EXTRA_CA_CERTS costs a bare `node -e 0` (median of `rounds` alternated pairs, s), or undefined when unset. */
export function caCost(rounds = 7) {
  if (!process.env.NODE_EXTRA_CA_CERTS) return undefined;
  const d = [];
  for (let i = 0; i < rounds; i++) {
    const withIt = timed(() => run(process.execPath, ['-e', '0']));
    const without = timed(() => run(process.execPath, ['-e', '0'], webtreeEnv()));
    d.push(withIt - without);
  }
  return { file: process.env.NODE_EXTRA_CA_CERTS, seconds: median(d) };
}

/** A sandbox site as `webtree init` makes it (as root, owned by the service account if it exists). */
export function makeSite(root) {
  // mkdtemp makes the directory 0700: run as root, init hands the tree to the service account,
  // which must reach it (the tests' sandboxes do the same).
  fs.chmodSync(root, 0o755);
  const prefix = path.join(root, 'site');
  run(process.execPath, [cli, 'init', '--prefix', prefix, '--listen', '127.0.0.1:18080'], webtreeEnv());
  const config = path.join(prefix, 'webtree.yaml');
  return { prefix, config, env: webtreeEnv({ WEBTREE_CONFIG: config }) };
}

/**
 * A TV archive like DESIGN.md's measurement: `mb` MB in `files` files, half random, half text,
 * written to `master` (its source tree under root/src).
 */
export function makeArchive(root, master, { mb, files, log }) {
  log(`making a ${mb} MB archive of ${files} files…`);
  const src = path.join(root, 'src');
  // A top directory that names no version: the one archive is installed under a new version's
  // name every round, and install refuses a top directory that names another version.
  const top = path.join(src, 'tv');
  const per = Math.floor((mb * 1024 * 1024) / files);
  fs.mkdirSync(path.join(top, 'product'), { recursive: true });
  fs.writeFileSync(
    path.join(top, 'product', 'tv.wsgi'),
    'def application(environ, start_response):\n    start_response("200 OK", [])\n    return [b"TV"]\n',
  );
  for (let i = 0; i < files - 1; i++) {
    const sub = path.join(top, 'product', 'data', `d${i % 40}`, `e${i % 7}`);
    fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(path.join(sub, `f${i}.dat`), i % 2 ? randomBytes(per) : Buffer.alloc(per, `line ${i}\n`));
  }
  execFileSync('tar', ['-czf', master, '-C', src, 'tv']);
  return fs.statSync(master).size;
}

/**
 * The shell's product directory beside webtree's, in the site's products root: the file system
 * allocates both alike (a directory elsewhere can land in emptier block groups, and creating
 * files there costs a different amount of system time).
 */
export function shellProductDir(prefix) {
  const productsRoot = path.join(prefix, 'dbwebtools');
  const shellDir = path.join(productsRoot, 'tv-shell');
  fs.mkdirSync(shellDir, { recursive: true });
  return { productsRoot, shellDir };
}

/**
 * Nothing is deleted until the end: freeing thousands of files makes the next creations slow
 * (for a while) on some file systems, whichever side comes next. Let what came before settle.
 */
export async function settle(ms) {
  execFileSync('sync');
  await new Promise((r) => setTimeout(r, ms));
}
