/**
 * Fetching archives by URL through the built CLI, from a real HTTPS server on loopback (a CA and
 * certificate made at test time): success, a resume after a cut connection, 500 then 200, a
 * redirect chain, a CONNECT proxy, ~/.netrc credentials, the cache; and refusals (one byte
 * changed, a truncated body, 404, a stall, a wrong sha256, too many redirects, https -> http, an
 * untrusted certificate, the size cap), each leaving the site byte for byte as it was.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { makeSandbox, type Sandbox } from '../helpers/cli.js';
import { makePki, startArchiveServer, startConnectProxy, type ArchiveServer, type Pki } from './https-server.js';
import { snapshotTree } from './tree-snapshot.js';

let sb: Sandbox;
let pki: Pki;
let srv: ArchiveServer;
const files: Record<string, Buffer> = {};
const sums: Record<string, string> = {};
/** Archive names by product-version (AV's is des_alarms-V.tar.gz). */
const N: Record<string, string> = {};
const site = () => path.join(sb.dir, 'site');
const cache = () => path.join(site(), 'www/state/cache');

beforeAll(async () => {
  sb = await makeSandbox();
  // Short timeouts and one retry: the refusals come quickly.
  const conf = await fs.readFile(sb.config, 'utf8');
  await fs.writeFile(
    sb.config,
    conf
      .replace(/idleTimeout: \d+/, 'idleTimeout: 1')
      .replace(/retries: \d+/, 'retries: 2')
      .replace(/connectTimeout: \d+/, 'connectTimeout: 3'),
  );
  for (const [p, v] of [
    ['TV', '1'],
    ['TV', '2'],
    ['TV', '3'],
    ['QE', '1'],
    ['AV', '1'],
    ['ConstantsDB', '1'],
    ['wsgi_py', '1'],
    ['EXPO', '1'],
  ]) {
    const f = await writeSampleArchive(sb.dir, p, v, { 'padding.bin': 'x'.repeat(200_000) + Math.random() });
    N[`${p}-${v}`] = path.basename(f);
    files[path.basename(f)] = await fs.readFile(f);
    sums[path.basename(f)] = createHash('sha256').update(files[path.basename(f)]).digest('hex');
  }
  pki = await makePki();
  srv = await startArchiveServer(pki, files);
}, 180_000);
afterAll(async () => {
  await srv?.close();
  await sb?.cleanup();
  if (pki) await fs.rm(pki.dir, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => ({ NODE_EXTRA_CA_CERTS: pki.ca, HOME: sb.dir, ...extra });
const install = (url: string, sha: string, extra: Record<string, string> = {}) =>
  sb.run(['install', url, '--sha256', sha], env(extra));
const cachedNames = async () => (await fs.readdir(cache()).catch(() => [] as string[])).flatMap((d) => [d]);

/** A refusal: exit 1, the message matched, the site (cache aside) and the cache unchanged. */
async function refused(run: () => Promise<{ exitCode: number; stderr: string }>, message: RegExp): Promise<string> {
  const before = await snapshotTree(site());
  const cached = await cachedNames();
  const r = await run();
  expect(r.exitCode, `${message}: ${r.stderr}`).toBe(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(await snapshotTree(site())).toEqual(before);
  expect(await cachedNames(), 'nothing half-downloaded stays in the cache').toEqual(cached);
  return r.stderr;
}

describe('install URL --sha256 from a real HTTPS server', () => {
  it('fetches, checks and installs; the cached archive is not fetched again', async () => {
    const r = await install(`${srv.base}/ok/tv-1.tar.gz`, sums['tv-1.tar.gz']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await fs.readlink(path.join(site(), 'dbwebtools/tv/current'))).toBe('1');
    expect(await fs.readFile(path.join(cache(), sums['tv-1.tar.gz'], 'tv-1.tar.gz'))).toEqual(files['tv-1.tar.gz']);
    // The release names it again (already installed, same bytes): nothing fetched, nothing done.
    const again = await install(`${srv.base}/ok/tv-1.tar.gz`, sums['tv-1.tar.gz']);
    expect(again.exitCode).toBe(0);
    expect(srv.hits('/ok/tv-1')).toHaveLength(1);
    const hist = await sb.run(['history', 'TV', '--json']);
    expect(JSON.parse(hist.stdout).entries?.[0]?.source ?? JSON.parse(hist.stdout)[0]?.source).toBe(
      `${srv.base}/ok/tv-1.tar.gz`,
    );
  });

  it('hashes a cached archive before using it: one torn by a crash (the download is not flushed) is fetched again', async () => {
    const n = N['TV-3'];
    const dir = path.join(cache(), sums[n]);
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, n), files[n].subarray(0, files[n].length >> 1));
    const owner = await fs.stat(cache());
    for (const p of [dir, path.join(dir, n)]) await fs.chown(p, owner.uid, owner.gid);
    const r = await install(`${srv.base}/ok/${n}`, sums[n], {});
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `the cached ${n} no longer has its sha256 (a crash while it was written?): fetching it again`,
    );
    expect(srv.hits(`/ok/${n.replace(/\.tar\.gz$/, '')}`)).toHaveLength(1);
    expect(await fs.readFile(path.join(dir, n))).toEqual(files[n]);
    expect(await fs.readlink(path.join(site(), 'dbwebtools/tv/current'))).toBe('3');
  });

  it('resumes with a Range request after the connection is cut mid-body', async () => {
    const r = await install(`${srv.base}/drop/tv-2.tar.gz`, sums['tv-2.tar.gz']);
    expect(r.exitCode, r.stderr).toBe(0);
    const hits = srv.hits('/drop/tv-2');
    expect(hits.length).toBe(2);
    expect(hits[1].range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(await fs.readlink(path.join(site(), 'dbwebtools/tv/current'))).toBe('2');
  });

  it('retries a 500, follows a redirect chain, goes through a CONNECT proxy', async () => {
    const flaky = await install(`${srv.base}/flaky/QEngine-1.tar.gz`, sums['QEngine-1.tar.gz']);
    expect(flaky.exitCode, flaky.stderr).toBe(0);
    expect(srv.hits('/flaky/QEngine-1').length).toBe(2);
    expect((await install(`${srv.base}/redir/4/${N['AV-1']}`, sums[N['AV-1']])).exitCode).toBe(0);
    expect(srv.hits('/redir/').length).toBe(4);
    const proxy = await startConnectProxy();
    try {
      const r = await install(`${srv.base}/ok/ConstantsDB-1.tar.gz`, sums['ConstantsDB-1.tar.gz'], {
        HTTPS_PROXY: proxy.url,
        NO_PROXY: 'example.org',
      });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(proxy.tunnels).toEqual([new URL(srv.base).host]);
    } finally {
      await proxy.close();
    }
  });

  it('sends ~/.netrc credentials and never prints them', async () => {
    const url = `${srv.base}/auth/wsgi_py-1.tar.gz`;
    const name = Object.keys(files).find((n) => n.startsWith('wsgi_py'))!;
    const u = url.replace('wsgi_py-1.tar.gz', name);
    await refused(() => install(u, sums[name]), /answered 401.*\n.*~\/\.netrc/);
    await fs.writeFile(path.join(sb.dir, '.netrc'), 'machine 127.0.0.1 login user password s3cret-pw\n', {
      mode: 0o600,
    });
    const r = await sb.run(['install', u, '--sha256', sums[name], '--debug'], env());
    await fs.rm(path.join(sb.dir, '.netrc'));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('s3cret-pw');
  });

  it('refuses one byte changed, a truncated body, 404, a stall and a wrong sha256 (naming both hashes)', async () => {
    const n = Object.keys(files).find((k) => k.startsWith('EXPO'))!;
    const other = 'd'.repeat(64);
    await refused(
      () => sb.run(['install', `${srv.base}/flip/${n}`, '--sha256', sums[n], '--version', '1'], env()),
      new RegExp(`expected ${sums[n]}, got [0-9a-f]{64}`),
    );
    await refused(
      () => sb.run(['install', `${srv.base}/short/${n}`, '--sha256', sums[n], '--version', '1'], env()),
      new RegExp(`expected ${sums[n]}, got`),
    );
    await refused(
      () => sb.run(['install', `${srv.base}/trunc/${n}`, '--sha256', sums[n], '--version', '1'], env()),
      /after 3 tries: the connection closed|after 3 tries/,
    );
    await refused(
      () => sb.run(['install', `${srv.base}/ok/EXPO-9.tar`, '--sha256', sums[n], '--version', '9'], env()),
      /answered 404/,
    );
    await refused(
      () => sb.run(['install', `${srv.base}/stall/${n}`, '--sha256', sums[n], '--version', '1'], env()),
      /stalled \(fetch\.idleTimeout\)/,
    );
    await refused(
      () => sb.run(['install', `${srv.base}/ok/${n}`, '--sha256', other, '--version', '1'], env()),
      new RegExp(`expected ${other}, got ${sums[n]}`),
    );
  }, 60_000);

  it('refuses more than 5 redirects, https -> http, an untrusted certificate, and an archive over the size cap', async () => {
    // An archive not in the cache yet (EXPO's fetches so far were all refused), so that each is fetched.
    const n = N['EXPO-1'];
    const fresh = (url: string) => sb.run(['install', url, '--sha256', sums[n], '--version', '7'], env());
    await refused(() => fresh(`${srv.base}/redir/6/${n}`), /more than 5 redirects/);
    await refused(() => fresh(`${srv.base}/tohttp/${n}`), /https to http is refused/);
    await refused(
      () => sb.run(['install', `${srv.base}/ok/${n}`, '--sha256', sums[n], '--version', '7'], { HOME: sb.dir }),
      /certificate is not trusted/,
    );
    // Node only warns when it cannot read NODE_EXTRA_CA_CERTS at start-up; the fetch says it.
    await refused(
      () =>
        sb.run(
          ['install', `${srv.base}/ok/${n}`, '--sha256', sums[n], '--version', '7'],
          env({ NODE_EXTRA_CA_CERTS: path.join(sb.dir, 'no-such-ca.pem') }),
        ),
      /cannot read the CA certificates of NODE_EXTRA_CA_CERTS/,
    );
    const conf = await fs.readFile(sb.config, 'utf8');
    // The CA from the site file instead of the environment, and a cap under the archive's size.
    await fs.writeFile(
      sb.config,
      conf.replace(/maxBytes: 2147483648/, 'maxBytes: 1000').replace(/# caFile:.*/, `caFile: ${pki.ca}`),
    );
    try {
      await refused(
        () => sb.run(['install', `${srv.base}/ok/${n}`, '--sha256', sums[n], '--version', '7'], { HOME: sb.dir }),
        /larger than fetch\.maxBytes/,
      );
    } finally {
      await fs.writeFile(sb.config, conf);
    }
  });

  it('apply fetches what is missing; a refused fetch changes nothing; prune --cache drops what no version needs', async () => {
    const rel = path.join(sb.dir, 'rel.yaml');
    const n = Object.keys(files).find((k) => k.startsWith('EXPO'))!;
    await fs.writeFile(
      rel,
      `products:\n  TV: { version: "1", archive: "${srv.base}/ok/tv-1.tar.gz", sha256: "${sums['tv-1.tar.gz']}" }\n  EXPO: { version: "1", archive: "${srv.base}/flip/${n}", sha256: "${sums[n]}" }\n`,
    );
    await refused(() => sb.run(['apply', rel], env()), /does not have the pinned sha256/);
    await fs.writeFile(
      rel,
      `products:\n  TV: { version: "1", archive: "${srv.base}/ok/tv-1.tar.gz", sha256: "${sums['tv-1.tar.gz']}" }\n  EXPO: { version: "1", archive: "${srv.base}/ok/${n}", sha256: "${sums[n]}" }\n`,
    );
    const check = await sb.run(['apply', rel, '--check', '--json'], env());
    expect(check.exitCode).toBe(3);
    const okBefore = srv.hits('/ok/').length;
    const r = await sb.run(['apply', rel, '--json'], env());
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).products).toEqual([
      { name: 'TV', from: '2', to: '1', action: 'activate' },
      { name: 'EXPO', from: null, to: '1', action: 'install' },
    ]);
    expect(srv.hits('/ok/').length - okBefore, 'only EXPO fetched').toBe(1);
    // Drop an installed version's need: its cached archive goes, the others stay.
    const extra = path.join(cache(), 'e'.repeat(64));
    await fs.mkdir(extra);
    await fs.writeFile(path.join(extra, 'AV-9.tar.gz'), 'stale');
    // As webtree would have left it: the service account's.
    const owner = await fs.stat(cache());
    for (const p of [extra, path.join(extra, 'AV-9.tar.gz')]) await fs.chown(p, owner.uid, owner.gid);
    const p = await sb.run(['prune', '--cache']);
    expect(p.exitCode, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/AV-9\.tar\.gz/);
    const left = await fs.readdir(cache());
    expect(left).not.toContain('e'.repeat(64));
    expect(left).toContain(sums['tv-1.tar.gz']);
  });
});
