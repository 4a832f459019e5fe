/**
 * Apache's logs through rotatelogs with a tiny rotation size, on the real Apache: under ab load
 * no request fails (rotating needs no restart), the number of log files stays bounded, the
 * stable names always hold the file being written, and webtree's error-log excerpt follows a
 * rotation (the rest of the old file, then the new one).
 */
import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, stop } from '../../src/apache/control.js';
import { errorLogOffset, errorLogSince } from '../../src/apache/error-log.js';
import { apacheLayout } from '../../src/plan/apache-layout.js';
import { findOurProcesses } from '../../src/apache/process.js';
import type { Site } from '../../src/site/types.js';
import { APACHE_MODULES, HTTPD, skipWithoutApache } from '../helpers/apache-env.js';
import { get } from '../helpers/http.js';
import { ensureServiceAccount } from '../helpers/service-account.js';
import { makeSite } from './fixtures.js';
import { buildSandbox, freePort } from './sandbox.js';

const missing = skipWithoutApache('log rotation');
const FILES = 3;
const REQUESTS = Number(process.env.WEBTREE_ROTATE_REQUESTS ?? 3000);

describe.skipIf(missing)('rotatelogs under load (end to end)', () => {
  let root: string;
  let site: Site;
  const L = () => apacheLayout(site);

  beforeAll(async () => {
    const account = await ensureServiceAccount();
    root = await mkdtemp(path.join(tmpdir(), 'webtree rotate '));
    await chmod(root, 0o755);
    site = makeSite(root, {
      listen: { host: '127.0.0.1', port: await freePort() },
      httpd: HTTPD,
      modulesDir: APACHE_MODULES,
      logSize: '4K',
      logFiles: FILES,
    });
    await buildSandbox(site, account);
    await start(site);
  }, 60_000);

  afterAll(async () => {
    if (!site) return;
    await stop(site).catch(() => undefined);
    for (const pid of await findOurProcesses(L().serverRoot)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await rm(root, { recursive: true, force: true });
  }, 60_000);

  it(`${REQUESTS} requests under ab: none fails, at most ${FILES} files per log`, async () => {
    const url = `http://127.0.0.1:${site.apache.listen.port}/TV`;
    const ab = await execa('ab', ['-q', '-n', String(REQUESTS), '-c', '8', url], { reject: false, all: true });
    expect(ab.exitCode, ab.all).toBe(0);
    expect(ab.stdout).toMatch(new RegExp(`Complete requests:\\s+${REQUESTS}\\b`));
    expect(ab.stdout).toMatch(/Failed requests:\s+0\b/);
    expect(ab.stdout).not.toMatch(/Non-2xx responses/);
    const names = (await readdir(L().logDir)).sort();
    // Each request's line is ~100 bytes: the access log went round its ring many times.
    expect(names).toEqual(
      ['access_log', ...Array.from({ length: FILES - 1 }, (_, i) => `access_log.${i + 1}`)]
        .concat(names.filter((n) => n.startsWith('error_log')))
        .sort(),
    );
    expect(names.filter((n) => n.startsWith('error_log')).length).toBeLessThanOrEqual(FILES);
    for (const n of names) expect((await stat(path.join(L().logDir, n))).size).toBeLessThan(4096 + 4096);
    // The stable name is the file being written: the newest of the ring.
    const link = await stat(L().accessLog);
    const inRing = await Promise.all(
      names.filter((n) => n.startsWith('access_log')).map((n) => stat(path.join(L().logDir, n))),
    );
    expect(inRing.some((s) => s.ino === link.ino)).toBe(true);
    expect(link.mtimeMs).toBeGreaterThanOrEqual(Math.max(...inRing.map((s) => s.mtimeMs)));
  }, 120_000);

  it("webtree's error-log excerpt follows a rotation", async () => {
    const base = `http://127.0.0.1:${site.apache.listen.port}`;
    const mark = await errorLogOffset(site);
    // Each denied .ht* request logs one AH01630 line (~250 bytes) at LogLevel warn.
    expect((await get(`${base}/.ht-first`)).status).toBe(403);
    for (let i = 0; i < 25; i++) await get(`${base}/.ht-${i}`);
    expect((await get(`${base}/.ht-last`)).status).toBe(403);
    let text = '';
    for (let i = 0; i < 50 && !text.includes('.ht-last'); i++) {
      text = await errorLogSince(site, mark, 1000);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await stat(L().errorLog)).ino).not.toBe(mark.ino); // it did rotate
    expect(text).toContain('/.ht-first');
    expect(text).toContain('/.ht-last');
    expect(text.split('\n').filter((l) => /AH01630/.test(l)).length).toBe(27);
  }, 60_000);
});
