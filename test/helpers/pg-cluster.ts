/**
 * Real PostgreSQL clusters for tests: a primary and a streaming standby, each in its own temp
 * dir, on 127.0.0.1 only, on a free port. Slower than a mock, but the point is to see what the
 * server really says (pg_is_in_recovery, auth failures) before we trust failover to it.
 *
 * postgres refuses to run as root, so when the tests run as root every server command goes
 * through `runuser -u postgres --` and the temp dir is handed to that user.
 */
import { execFileSync } from 'node:child_process';
import { freePort } from '../../src/core/net.js';
import { randomBytes } from 'node:crypto';
import { appendFile, chown, mkdtemp, rm } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import type { DbServer } from '../../src/site/types.js';

export const DB_NAME = 'decam_prd';
export const DB_USER = 'webtree';

export interface PgCluster {
  /** name/host/port as the site file would hold them. */
  server: DbServer;
  /** The webtree role's password (scram-sha-256 over TCP). */
  password: string;
  dir: string;
  dataDir: string;
  socketDir: string;
  /** Stop (immediate) and remove the temp dir; safe to call twice. */
  stop(): Promise<void>;
}

/** The PostgreSQL bin dir, or undefined. pg_config may belong to libpq-dev alone, so check initdb. */
export function findPgBin(): string | undefined {
  const dirs: string[] = [];
  try {
    dirs.push(
      execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
    );
  } catch {
    /* no pg_config on PATH */
  }
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    // Newest major first.
    for (const v of readdirSync(root).sort((a, b) => Number(b) - Number(a))) dirs.push(join(root, v, 'bin'));
  }
  return dirs.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_basebackup')));
}

/**
 * The major version of the server the tests start from `bindir` (findPgBin), as the server
 * itself reports it (`postgres --version`: "postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)"):
 * tests compare what webtree reports with this, not with the major of one Debian release.
 */
export function pgMajor(bindir: string): number {
  const out = execFileSync(join(bindir, 'postgres'), ['--version'], { encoding: 'utf8' });
  const m = /\(PostgreSQL\) (\d+)/.exec(out);
  if (!m)
    throw new Error(`cannot read the major version from \`${join(bindir, 'postgres')} --version\`: ${out.trim()}`);
  return Number(m[1]);
}

/**
 * For the top of a test file: the bin dir, or undefined to skip. In CI a missing server must
 * fail loudly, never turn into a quiet skip that hides untested failover code.
 */
export function pgBinOrSkip(): string | undefined {
  const bin = findPgBin();
  if (bin) return bin;
  const msg =
    'PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) not found via pg_config --bindir or /usr/lib/postgresql/*/bin';
  if (process.env.CI === 'true') throw new Error(`${msg}; CI must run the database tests: apt-get install postgresql`);
  console.warn(`skipping real-server tests: ${msg} (apt-get install postgresql)`);
  return undefined;
}

const asRoot = process.getuid?.() === 0;
let binDir: string | undefined; // looked up once: pg_config is a process spawn

/** Run a server binary as the postgres OS user (directly when we are not root). */
async function run(bin: string, args: string[]): Promise<void> {
  const bindir = (binDir ??= findPgBin());
  if (!bindir) throw new Error('PostgreSQL binaries not found (apt-get install postgresql)');
  const exe = join(bindir, bin);
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
  await execa(file, argv, { cwd: tmpdir(), stdin: 'ignore' });
}

async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    await chown(dir, uid, gid);
  }
  return dir;
}

/** Settings for a throwaway server: loopback only, our own socket dir, no durability. */
async function configure(dataDir: string, port: number, socketDir: string, extra: string[] = []): Promise<void> {
  // Appended, so for a standby these win over the lines copied from the primary.
  await appendFile(
    join(dataDir, 'postgresql.conf'),
    [
      '',
      '# webtree test cluster',
      "listen_addresses = '127.0.0.1'",
      `port = ${port}`,
      `unix_socket_directories = '${socketDir}'`,
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'shared_buffers = 16MB',
      'max_connections = 30',
      ...extra,
      '',
    ].join('\n'),
  );
}

/** Configure and start on a free port, retrying when another process grabbed the port first. */
async function startOn(dir: string, dataDir: string, socketDir: string, extra: string[] = []): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    await configure(dataDir, port, socketDir, extra);
    try {
      await run('pg_ctl', ['start', '-w', '-t', '60', '-D', dataDir, '-l', join(dir, 'server.log')]);
      return port;
    } catch (err) {
      if (attempt >= 3) throw new Error(`pg_ctl start failed (see ${join(dir, 'server.log')}): ${String(err)}`);
    }
  }
}

/** A superuser connection over the unix socket (trust), for the helper's own set-up. */
export async function adminQuery(c: PgCluster, sql: string, db = 'postgres'): Promise<pg.QueryResult> {
  const client = new pg.Client({ host: c.socketDir, port: c.server.port, user: 'postgres', database: db });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

function makeCluster(name: string, dir: string, port: number, password: string): PgCluster {
  const dataDir = join(dir, 'data');
  let stopped = false;
  return {
    server: { name, host: '127.0.0.1', port },
    password,
    dir,
    dataDir,
    socketDir: dir,
    async stop() {
      if (stopped) return;
      stopped = true;
      // immediate: a test cluster has nothing worth a checkpoint; ignore "not running".
      await run('pg_ctl', ['stop', '-m', 'immediate', '-w', '-D', dataDir]).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * initdb + start: local (socket) connections trust, TCP needs scram-sha-256, so the role
 * `webtree` with database `decam_prd` can only get in with its password.
 */
export async function startPrimary(name = 'server3', opts: { password?: string } = {}): Promise<PgCluster> {
  const dir = await makeTempDir('webtree-pg-');
  const dataDir = join(dir, 'data');
  try {
    await run('initdb', [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    const port = await startOn(dir, dataDir, dir);
    const password = opts.password ?? `wt-${randomBytes(9).toString('hex')}`;
    const c = makeCluster(name, dir, port, password);
    await adminQuery(c, `CREATE ROLE ${DB_USER} LOGIN PASSWORD '${password}'`);
    await adminQuery(c, `CREATE DATABASE ${DB_NAME} OWNER ${DB_USER}`);
    return c;
  } catch (err) {
    await run('pg_ctl', ['stop', '-m', 'immediate', '-D', dataDir]).catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A streaming standby of `primary` (pg_basebackup -R writes standby.signal + primary_conninfo). */
/** `conf`: extra postgresql.conf lines (hot_standby = off, say). */
export async function startStandby(primary: PgCluster, name = 'server2', conf: string[] = []): Promise<PgCluster> {
  const dir = await makeTempDir('webtree-pg-');
  const dataDir = join(dir, 'data');
  try {
    // -c fast: without it pg_basebackup waits for the next checkpoint (95 s on an idle primary).
    await run('pg_basebackup', [
      '-D',
      dataDir,
      '-R',
      '-c',
      'fast',
      '-X',
      'stream',
      '--no-sync',
      '-h',
      primary.socketDir,
      '-p',
      String(primary.server.port),
      '-U',
      'postgres',
    ]);
    const port = await startOn(dir, dataDir, dir, conf);
    return makeCluster(name, dir, port, primary.password);
  } catch (err) {
    await run('pg_ctl', ['stop', '-m', 'immediate', '-D', dataDir]).catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** What the guide's failover.sh does, the modern way; returns once the server takes writes. */
export async function promote(standby: PgCluster, timeoutMs = 30_000): Promise<void> {
  await run('pg_ctl', ['promote', '-w', '-D', standby.dataDir]);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await adminQuery(standby, 'SELECT pg_is_in_recovery() AS rec');
    if (r.rows[0].rec === false) return;
    if (Date.now() > deadline) throw new Error(`${standby.server.name} still in recovery after promote`);
    await new Promise((res) => setTimeout(res, 100));
  }
}
