/**
 * Is this database server the master? Failover (switch-web) must never point the web tools at
 * a standby, so before switching we ask the server itself: `pg_is_in_recovery()` is true on a
 * streaming standby until it is promoted (the guide's trigger file / `pg_ctl promote`).
 *
 * Passwords never come through the site file or the command line: like psql, we take PGPASSWORD,
 * else the pgpass file (PGPASSFILE or ~/.pgpass). node-postgres 8 can read pgpass itself, but
 * prints a DeprecationWarning when it does and drops it in pg@9, so we hand it a password
 * function that follows libpq's rules instead (asked only when the server wants a password).
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import type pg from 'pg';
import { notPostgres } from './protocol.js';
import { envPassword, passwordFromPgpass, pgpassFile } from './pgpass.js';
import { WebtreeError } from '../core/errors.js';
import { withRoot } from '../core/privilege.js';
import type { DbServer } from '../site/types.js';

export interface DbTarget {
  name: string;
  user: string;
  connectTimeoutSec: number;
}

export interface PrimaryCheck {
  server: string;
  primary: boolean;
  version: string;
}

/** `server2 (host:port)`: every message names the server the operator knows and where we looked. */
export function describeServer(s: DbServer): string {
  const host = s.host.includes(':') ? `[${s.host}]` : s.host; // IPv6 literal
  return `${s.name} (${host}:${s.port})`;
}

/**
 * One connection to `server` with webtree's timeouts and password rules, handed to `fn`; every
 * failure (connect, auth, a query) comes back as one EDB error naming the server.
 */
export async function withClient<T>(server: DbServer, db: DbTarget, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const timeoutMs = Math.max(1, db.connectTimeoutSec) * 1000;
  // Loaded here, not at start-up: only the commands that reach a database pay for pg.
  const { default: pgLib } = await import('pg');
  const client = new pgLib.Client({
    host: server.host,
    port: server.port,
    database: db.name,
    user: db.user,
    password: () => findPassword(server, db),
    connectionTimeoutMillis: timeoutMs, // covers TCP connect, auth and startup
    statement_timeout: timeoutMs, // server side: a wedged backend cancels the query
    query_timeout: timeoutMs + 1000, // client side: a frozen server never answers at all
    application_name: 'webtree',
  });
  // A socket error after connect would otherwise be an unhandled 'error' event (a crash).
  client.on('error', () => {});
  try {
    await client.connect();
    return await fn(client);
  } catch (err) {
    throw await toDbError(server, db, err);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function checkPrimary(server: DbServer, db: DbTarget): Promise<PrimaryCheck> {
  return withClient(server, db, async (client) => {
    const res = await client.query<{ rec: boolean; version: string }>(
      "SELECT pg_is_in_recovery() AS rec, current_setting('server_version') AS version",
    );
    const row = res.rows[0];
    return { server: server.name, primary: row.rec === false, version: row.version };
  });
}

/** The refusal of a standby as a failover target, naming it and what to do instead. */
export const standbyRefusal = (server: DbServer) =>
  new WebtreeError(
    'EDB',
    `${describeServer(server)} is a standby (pg_is_in_recovery() = true): promote it first, or switch to the master`,
    { hint: `promote it (failover.sh or pg_ctl promote on ${server.name}) and run the command again` },
  );

/** The guard for failover: refuse a standby, naming it, and say what to do instead. */
export async function requirePrimary(server: DbServer, db: DbTarget): Promise<PrimaryCheck> {
  const check = await checkPrimary(server, db);
  if (!check.primary) throw standbyRefusal(server);
  return check;
}

/** Thrown by the password callback; carries why no password was found. */
class NoPasswordError extends Error {}

async function findPassword(server: DbServer, db: DbTarget): Promise<string> {
  // libpq's order and rules (src/db/pgpass.ts): a non-empty PGPASSWORD, then the password file.
  const fromEnv = envPassword(process.env);
  if (fromEnv !== undefined) return fromEnv;
  const file = pgpassFile(process.env, homedir());
  let text: string;
  try {
    // Root's own ~/.pgpass, read as root while the process works as the service account
    // (core/privilege.ts): one synchronous read, outside the tree.
    const st = withRoot(() => statSync(file));
    // libpq ignores a password file that group or others may access; so do we, and say so.
    if (!st.isFile() || (st.mode & 0o077) !== 0) {
      throw new NoPasswordError(`${file} is ignored: it must be a plain file with mode 0600 or less`);
    }
    text = withRoot(() => readFileSync(file, 'utf8'));
  } catch (err) {
    if (err instanceof NoPasswordError) throw err;
    throw new NoPasswordError(`PGPASSWORD is not set (or empty) and ${file} cannot be read`);
  }
  const target = { host: server.host, port: server.port, database: db.name, user: db.user };
  const found = passwordFromPgpass(text, target);
  if (found !== undefined) return found;
  throw new NoPasswordError(
    `PGPASSWORD is not set (or empty) and ${file} has no line with a password for ${[server.host, server.port, db.name, db.user].join(':')}`,
  );
}

/** Turn whatever pg or the socket threw into one plain sentence and a hint. */
async function toDbError(server: DbServer, db: DbTarget, err: unknown): Promise<WebtreeError> {
  if (err instanceof WebtreeError) return err;
  const who = describeServer(server);
  const e = err as { code?: string; message?: string; detail?: string; errors?: { code?: string }[] };
  // Node's happy-eyeballs connect throws an AggregateError whose parts carry the errno code.
  const code = e?.code ?? e?.errors?.[0]?.code;
  const msg = String(e?.message ?? err);
  const make = (message: string, hint: string) => new WebtreeError('EDB', message, { hint, cause: err });
  const notPg = (what: string) =>
    make(
      `${who} is not PostgreSQL: ${what}`,
      `check the port of ${server.name} in the site file and what listens there (PostgreSQL's port is 5442 at CTIO)`,
    );
  const reach = `check that PostgreSQL runs on ${server.name} and listens on port ${server.port} (listen_addresses, port), and the host and port in the site file`;

  if (err instanceof NoPasswordError) {
    return make(
      `${who} asks for a password for user "${db.user}" and none was found: ${msg}`,
      `export PGPASSWORD, or add "${server.host}:${server.port}:${db.name}:${db.user}:PASSWORD" to ~/.pgpass (chmod 0600)`,
    );
  }
  if (/timeout expired|connection timeout/i.test(msg)) {
    const foreign = await notPostgres(server);
    if (foreign) return notPg(foreign);
    return make(
      `${who} did not answer within ${db.connectTimeoutSec} s`,
      `check that ${server.name} is up and reachable from this host (network, firewall), or raise database.connectTimeout in the site file`,
    );
  }
  switch (code) {
    case 'ECONNREFUSED':
      return make(`${who} refused the connection: nothing listens on that port`, reach);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return make(
        `${who}: the host name "${server.host}" cannot be resolved`,
        "check the host in the site file and this host's DNS",
      );
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
      return make(`${who} cannot be reached (${code})`, `check the network between this host and ${server.name}`);
    case 'ECONNRESET':
      return make(`${who} reset the connection`, reach);
    case '28P01':
      return make(
        `${who}: password authentication failed for user "${db.user}"`,
        `check the password in PGPASSWORD or ~/.pgpass for ${server.host}:${server.port}:${db.name}:${db.user}`,
      );
    case '28000':
      return make(`${who} rejected user "${db.user}": ${msg}`, `check the role and pg_hba.conf on ${server.name}`);
    case '3D000':
      return make(`${who} has no database "${db.name}"`, 'check database.name in the site file');
    case '57P03':
      // PostgreSQL's own detail tells a server starting up from a standby with hot_standby = off.
      if (/hot standby mode is disabled/i.test(e.detail ?? '')) {
        return make(
          `${who} is not accepting connections: ${msg} (${e.detail}): it is a standby with hot_standby = off`,
          `a standby cannot serve the web tools: promote it first (pg_ctl promote on ${server.name}), or switch to the master`,
        );
      }
      return make(
        `${who} is not accepting connections: ${msg}${e.detail ? ` (${e.detail})` : ''}`,
        `wait for ${server.name} to finish starting, or check its log`,
      );
    case '53300':
      return make(
        `${who} has no free connection slots: ${msg}`,
        `check max_connections and the clients of ${server.name}`,
      );
    case '57014':
      return make(
        `${who} connected but did not answer within ${db.connectTimeoutSec} s`,
        `check the load and the log of ${server.name}`,
      );
  }
  if (/Query read timeout/.test(msg)) {
    return make(
      `${who} connected but did not answer within ${db.connectTimeoutSec} s`,
      `check the load and the log of ${server.name}`,
    );
  }
  // Something answered that does not speak PostgreSQL's protocol (a web server on the port, say).
  const foreign = await notPostgres(server);
  if (foreign) return notPg(foreign);
  if (/terminated/i.test(msg)) {
    return make(`${who} closed the connection unexpectedly`, `check the log of ${server.name}`);
  }
  return make(`${who}: ${msg}`, reach);
}
