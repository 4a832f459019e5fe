/**
 * Permission denied: the CLI run as the service account codemanager (its uid and gid) against a
 * site where one directory belongs to root. Each time: exit 1, one message naming the path, what
 * needed it and the account (name and uid), with the chown that fixes it; nothing half-done (the
 * listing of the whole site the same before and after: no journal, no staging, no lock). And
 * `apache start` when the runtime directory is not the account's: refused before Apache runs,
 * whether root or the account asks. Needs root (to chown and to act as the account), as in CI.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOurProcesses } from '../../src/apache/process.js';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { BIN, ensureBuilt, makeSandbox, type CliResult, type Sandbox } from '../helpers/cli.js';
import { freePort } from '../helpers/http.js';
import { ensureServiceAccount, SERVICE_USER } from '../helpers/service-account.js';
import { listing } from './tree.js';

const isRoot = process.getuid?.() === 0;
// Outside CI a non-root run may skip; under CI=true it runs (and fails without root).
const run = isRoot || process.env.CI === 'true';

let account: { uid: number; gid: number; group: string };
let sb: Sandbox;
let site: string;
let tv34: string;
let av: string;

/** webtree as the service account itself, not through root. */
async function asAccount(args: string[]): Promise<CliResult> {
  const r = await execa(process.execPath, [BIN, '--config', sb.config, ...args], {
    uid: account.uid,
    gid: account.gid,
    reject: false,
    stdin: 'ignore',
    env: { WEBTREE_LOCK_WAIT: '5', USER: SERVICE_USER, LOGNAME: SERVICE_USER, HOME: '/tmp' },
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Give `rel` (one directory, not its content) to root for the length of `fn`. */
async function rootOwned<T>(rel: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = path.join(site, rel);
  await fs.chown(dir, 0, 0);
  try {
    return await fn(dir);
  } finally {
    await fs.chown(dir, account.uid, account.gid);
  }
}

const accountText = () => `${SERVICE_USER} (uid ${account.uid})`;

describe.runIf(run)('permission denied, run as the service account', () => {
  beforeAll(async () => {
    ensureBuilt();
    account = await ensureServiceAccount();
    sb = await makeSandbox([], { listen: `127.0.0.1:${await freePort()}` });
    site = path.join(sb.dir, 'site');
    const arch = path.join(sb.dir, 'archives');
    await fs.mkdir(arch);
    const first = await asAccount(['install', await writeSampleArchive(arch, 'TV', '3.3a')]);
    expect(first.exitCode, first.stderr).toBe(0);
    tv34 = await writeSampleArchive(arch, 'TV', '3.4');
    av = await writeSampleArchive(arch, 'AV', '1.1');
  });
  afterAll(async () => {
    if (sb) await sb.run(['apache', 'stop']);
    await sb?.cleanup();
  });

  const cases: [string, string, () => string[], RegExp][] = [
    [
      'the products root (a new product)',
      'dbwebtools',
      () => ['install', av],
      /: make directory \S+\/dbwebtools\/des_alarms/,
    ],
    [
      'a product directory',
      'dbwebtools/tv',
      () => ['install', tv34],
      /: unpack \S+tv-3\.4\.tar\.gz into \S+; rename \S+ to \S+\/tv\/3\.4; point \S+\/tv\/current -> 3\.4/,
    ],
    [
      'the document root (html)',
      'www/html',
      () => ['install', av],
      /: point \S+\/www\/html\/AV -> \S+\/dbwebtools\/des_alarms\/current\/product/,
    ],
    ['conf.d', 'www/conf.d', () => ['render'], /: write \S+\/www\/conf\.d\/\S+\.conf/],
    [
      'the failover indirection (servers)',
      'www/servers',
      () => ['switch-web', 'server2', '--no-check-db', '--no-restart'],
      /: point \S+\/www\/servers\/active -> server2/,
    ],
  ];

  for (const [name, rel, args, why] of cases) {
    it(`${name}: refused before anything is written, naming the path, the operation, the account and the chown`, async () => {
      await rootOwned(rel, async (dir) => {
        const before = await listing(site);
        const r = await asAccount(args());
        expect(r.exitCode, r.stderr).toBe(1);
        expect(r.stderr).toMatch(
          new RegExp(
            `^webtree: permission denied: ${accountText().replace(/[()]/g, '\\$&')} may not write a directory that \`${args()[0]}[^\`]*\` needs; nothing was changed\n`,
          ),
        );
        expect(r.stderr).toContain(`\n  ${dir} (owner root:root, mode 0755): `);
        expect(r.stderr).toMatch(why);
        expect(r.stderr).toContain(
          `hint: give it to ${SERVICE_USER}: \`chown -R ${SERVICE_USER}:${account.group} ${dir}\`, or run webtree as root`,
        );
        expect(r.stderr).not.toMatch(/^\s+at /m);
        // Nothing half-done: the whole site as it was (no journal, no staging, the lock released).
        expect(await listing(site)).toEqual(before);
      });
    });
  }

  it("the state directory: taking webtree's lock is refused in those words, not with a stack trace", async () => {
    await rootOwned('www/state', async (dir) => {
      const before = await listing(site);
      const r = await asAccount(['install', tv34]);
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toBe(
        [
          `webtree: permission denied: ${accountText()} may not take webtree's lock in ${dir}`,
          `  hint: give the account access (as root: \`chown -R ${SERVICE_USER}:${account.group} ${dir}\`) or run webtree as root`,
        ].join('\n'),
      );
      expect(await listing(site)).toEqual(before);
    });
  });

  it('with the access given back, the same install works', async () => {
    const r = await asAccount(['install', tv34]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await fs.readlink(path.join(site, 'dbwebtools/tv/current'))).toBe('3.4');
    expect((await asAccount(['verify'])).exitCode).toBe(0);
  });

  describe("apache start when the runtime directory is not the account's", () => {
    beforeAll(async () => {
      const r = await sb.run(['render']);
      expect(r.exitCode, r.stderr).toBe(0);
    });

    for (const who of ['root', SERVICE_USER]) {
      it(`asked by ${who}: refused before Apache runs, naming the directory, the account Apache runs as and the chown`, async () => {
        await rootOwned('local/web_logs', async (dir) => {
          const r = who === 'root' ? await sb.run(['apache', 'start']) : await asAccount(['apache', 'start']);
          expect(r.exitCode, r.stderr).toBe(1);
          expect(r.stderr).toBe(
            [
              `webtree: permission denied: ${accountText()}, the account Apache runs as, may not write where Apache writes; Apache was not started`,
              `  ${dir} (owner root:root, mode 0755): logs, Mutex and mod_wsgi sockets`,
              `  hint: as root: \`chown -R ${SERVICE_USER}:${account.group} ${dir}\` (running webtree as root does not help: Apache itself runs as ${SERVICE_USER})`,
            ].join('\n'),
          );
          expect(await findOurProcesses(path.join(site, 'www'))).toEqual([]);
          expect(await fs.readdir(path.join(site, 'www/state'))).not.toContain('lock');
        });
      });
    }
  });
});
