/**
 * checkPrimary/requirePrimary against real PostgreSQL servers (the major installed here): a primary, a streaming
 * standby that we then promote (the failover of the guide), and servers that cannot be reached.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkPrimary, requirePrimary } from '../../src/db/primary.js';
import { WebtreeError } from '../../src/core/errors.js';
import { freePort } from '../helpers/http.js';
import {
  DB_NAME,
  DB_USER,
  pgBinOrSkip,
  pgMajor,
  promote,
  startPrimary,
  startStandby,
  type PgCluster,
} from '../helpers/pg-cluster.js';

const db = { name: DB_NAME, user: DB_USER, connectTimeoutSec: 3 };
const pgBin = pgBinOrSkip(); // throws in CI when PostgreSQL is missing

/** Run fn, expect an EDB WebtreeError, hand it back for more checks. */
async function edb(fn: () => Promise<unknown>): Promise<WebtreeError> {
  const err = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WebtreeError);
  expect((err as WebtreeError).code).toBe('EDB');
  return err as WebtreeError;
}

// Each test chooses its password source; nothing may leak in from the shell running the tests.
let scratch: string;
const savedEnv = { PGPASSWORD: process.env.PGPASSWORD, PGPASSFILE: process.env.PGPASSFILE };
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'webtree-pgpass-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});
beforeEach(() => {
  delete process.env.PGPASSWORD;
  process.env.PGPASSFILE = join(scratch, 'none'); // not ~/.pgpass of whoever runs the tests
});
afterEach(() => {
  for (const [k, v] of Object.entries(savedEnv))
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
});

describe.skipIf(!pgBin)('checkPrimary on real servers', () => {
  let primary: PgCluster;
  let standby: PgCluster;
  beforeAll(async () => {
    primary = await startPrimary('server3');
    standby = await startStandby(primary, 'server2');
  }, 120_000);
  afterAll(async () => {
    await standby?.stop();
    await primary?.stop();
  });

  it('reports the primary as primary, with its version', async () => {
    process.env.PGPASSWORD = primary.password;
    const r = await checkPrimary(primary.server, db);
    expect(r).toMatchObject({ server: 'server3', primary: true });
    expect(r.version).toMatch(new RegExp(`^${pgMajor(pgBin!)}\\.`));
    await expect(requirePrimary(primary.server, db)).resolves.toMatchObject({ primary: true });
  });

  it('reports a standby as not primary, and requirePrimary refuses it by name', async () => {
    process.env.PGPASSWORD = standby.password;
    expect(await checkPrimary(standby.server, db)).toMatchObject({ server: 'server2', primary: false });
    const err = await edb(() => requirePrimary(standby.server, db));
    expect(err.message).toContain(`server2 (127.0.0.1:${standby.server.port}) is a standby`);
    expect(err.message).toContain('promote it first');
  });

  it('reads the password from a 0600 pgpass file named by PGPASSFILE', async () => {
    const file = join(scratch, 'pgpass');
    await writeFile(file, `# test\n127.0.0.1:${primary.server.port}:${DB_NAME}:${DB_USER}:${primary.password}\n`, {
      mode: 0o600,
    });
    process.env.PGPASSFILE = file;
    expect(await checkPrimary(primary.server, db)).toMatchObject({ primary: true });
    // Like libpq, a file that others can read is ignored, and the error says so.
    await chmod(file, 0o644);
    const err = await edb(() => checkPrimary(primary.server, db));
    expect(err.message).toMatch(/asks for a password.*must be a plain file with mode 0600/);
  });

  it('says when no password can be found at all', async () => {
    const err = await edb(() => checkPrimary(primary.server, db));
    expect(err.message).toContain('asks for a password for user "webtree"');
    expect(err.hint).toContain('PGPASSWORD');
  });

  it('says authentication failed for a wrong password', async () => {
    process.env.PGPASSWORD = 'not-the-password';
    const err = await edb(() => checkPrimary(primary.server, db));
    expect(err.message).toBe(
      `server3 (127.0.0.1:${primary.server.port}): password authentication failed for user "webtree"`,
    );
    expect(err.hint).toMatch(/PGPASSWORD or ~\/\.pgpass/);
  });

  it('names a missing database', async () => {
    process.env.PGPASSWORD = primary.password;
    const err = await edb(() => checkPrimary(primary.server, { ...db, name: 'decam_nope' }));
    expect(err.message).toContain('has no database "decam_nope"');
  });

  it('reports the promoted standby as primary', async () => {
    await promote(standby);
    process.env.PGPASSWORD = standby.password;
    expect(await checkPrimary(standby.server, db)).toMatchObject({ server: 'server2', primary: true });
  }, 60_000);
});

describe('checkPrimary on servers that cannot be reached', () => {
  it('names host:port when nothing listens there', async () => {
    const port = await freePort(); // bound then closed: nothing listens now
    const t0 = Date.now();
    const err = await edb(() => checkPrimary({ name: 'server2', host: '127.0.0.1', port }, db));
    expect(Date.now() - t0).toBeLessThan((db.connectTimeoutSec + 2) * 1000);
    expect(err.message).toContain(`server2 (127.0.0.1:${port}) refused the connection`);
    expect(err.hint).toBeTruthy();
  });

  // A listener that accepts and never speaks: what a hung server or a half-open link looks like.
  let silent: Server;
  const sockets: Socket[] = [];
  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise((res) => (silent ? silent.close(res) : res(undefined)));
  });

  it('gives up after connectTimeout when the server never answers', async () => {
    silent = createServer((s) => sockets.push(s));
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
    const port = (silent.address() as { port: number }).port;
    const t0 = Date.now();
    const err = await edb(() =>
      checkPrimary({ name: 'server2', host: '127.0.0.1', port }, { ...db, connectTimeoutSec: 1 }),
    );
    const elapsed = Date.now() - t0;
    expect(err.message).toBe(`server2 (127.0.0.1:${port}) did not answer within 1 s`);
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan((1 + 2) * 1000);
  });

  it('says when the host name does not resolve', async () => {
    const err = await edb(() => checkPrimary({ name: 'server9', host: 'no-such-host.invalid', port: 5442 }, db));
    expect(err.message).toContain(
      'server9 (no-such-host.invalid:5442): the host name "no-such-host.invalid" cannot be resolved',
    );
  });
});
