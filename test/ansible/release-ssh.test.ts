/**
 * ansible/playbooks/release.yml over real SSH on three inventory hosts (three sandbox sites, one
 * sshd on loopback): every host to one release, one host at a time. Where each host ends is read
 * with webtree itself, not taken from Ansible's word; check mode is held to the trees' bytes.
 * Depends on `webtree apply` (release file, --check, --json).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { runCli } from '../helpers/cli.js';
import { ensureServiceAccount } from '../helpers/service-account.js';
import { COLLECTION_SRC, fatals, Fleet, recap, skipWithoutAnsible, snapshot } from './fleet.js';

const missing = skipWithoutAnsible('ansible/playbooks/release.yml');
const HOSTS = ['web1', 'web2', 'web3'];
const PLAYBOOK = path.join(COLLECTION_SRC, 'playbooks', 'release.yml');
// A playbook run is seconds on a quiet machine and much more on a shared, loaded one.
const SLOW = 300_000;

describe.skipIf(missing)('release.yml: every web host to one release file over SSH', () => {
  let fleet: Fleet;
  const releases: Record<string, string> = {};
  const status = async (host: string) => {
    const r = await runCli(['--config', fleet.host(host).config, 'status', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };
  const current = async (host: string) =>
    Object.fromEntries(
      (await status(host)).products.filter((p: any) => p.current).map((p: any) => [p.name, p.current]),
    );
  const sites = async () =>
    Object.fromEntries(await Promise.all(HOSTS.map(async (h) => [h, await snapshot(fleet.host(h).site)])));
  const play = (release: string, args: string[] = []) =>
    fleet.playbook(PLAYBOOK, ['-e', `webtree_release=${releases[release]}`, ...args]);

  beforeAll(async () => {
    await ensureServiceAccount();
    fleet = await Fleet.start(HOSTS);
    const archives = path.join(fleet.dir, 'archives');
    await fs.mkdir(archives);
    const entry = async (product: string, version: string, sha?: string) => {
      const file = await writeSampleArchive(archives, product, version);
      const sha256 =
        sha ??
        createHash('sha256')
          .update(await fs.readFile(file))
          .digest('hex');
      return `  ${product}: { version: "${version}", archive: "${file}", sha256: "${sha256}" }\n`;
    };
    const write = async (name: string, entries: string[]) => {
      releases[name] = path.join(fleet.dir, `${name}.yaml`);
      await fs.writeFile(releases[name], `products:\n${entries.join('')}`);
    };
    const constants = await entry('ConstantsDB', '1.5d');
    await write('first', [await entry('TV', '3.3a'), constants]);
    await write('next', [await entry('TV', '3.4'), constants]);
    // The same archive as "next", announced with another hash: what a corrupted download looks like.
    await write('bad', [await entry('TV', '3.4', 'f'.repeat(64)), constants]);
  }, 180_000);

  afterAll(async () => {
    if (fleet) await fleet.stop();
  }, 60_000);

  it(
    'first run: changed on every host, one host at a time, and every host runs the release',
    async () => {
      const r = await play('first', ['--limit', 'web1,web2']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      const rec = recap(r.stdout);
      for (const h of ['web1', 'web2']) {
        expect(rec[h], h).toMatchObject({ changed: 1, failed: 0, unreachable: 0 });
        expect(await current(h), r.stdout + r.stderr).toEqual({ TV: '3.3a', ConstantsDB: '1.5d' });
      }
      // serial: 1 runs the play once per host, in inventory order.
      expect([...r.stdout.matchAll(/^PLAY \[Every web host to one release\]/gm)]).toHaveLength(2);
      expect([...r.stdout.matchAll(/^changed: \[(web\d)\]/gm)].map((m) => m[1])).toEqual(['web1', 'web2']);
    },
    SLOW,
  );

  it(
    'second run: changed=0 on every host',
    async () => {
      const r = await play('first', ['--limit', 'web1,web2']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      for (const h of ['web1', 'web2']) expect(recap(r.stdout)[h], h).toMatchObject({ changed: 0, failed: 0 });
    },
    SLOW,
  );

  it(
    '--check --diff with a release pending: changed on every host, the versions shown, every tree byte for byte as before',
    async () => {
      const before = await sites();
      const r = await play('next', ['--limit', 'web1,web2', '--check', '--diff']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      for (const h of ['web1', 'web2']) {
        expect(recap(r.stdout)[h], h).toMatchObject({ changed: 1, failed: 0 });
        expect(await current(h), r.stdout + r.stderr).toEqual({ TV: '3.3a', ConstantsDB: '1.5d' });
      }
      expect(await sites()).toEqual(before);
      // One diff per host: TV moves, ConstantsDB stays.
      const diffs = r.stdout.split(/^--- before: product versions\n\+\+\+ after: product versions\n/m).slice(1);
      expect(diffs, r.stdout).toHaveLength(2);
      for (const d of diffs) {
        expect(d).toMatch(/^-TV: 3\.3a\n\+TV: 3\.4$/m);
        expect(d).toMatch(/^ ConstantsDB: 1\.5d$/m);
      }
    },
    SLOW,
  );

  it(
    "a host whose release has a wrong sha256 stops the play there: the next host is not touched, and the failure is webtree's",
    async () => {
      // Per-host releases through the inventory (-e would override a host's variable). web3 ran
      // no release before: its tree is the one init made, and stays so.
      await fleet.writeInventory({
        web1: { webtree_release: releases.next },
        web2: { webtree_release: releases.bad },
        web3: { webtree_release: releases.next },
      });
      const web3 = await snapshot(fleet.host('web3').site);
      const r = await fleet.playbook(PLAYBOOK);
      await fleet.writeInventory();
      // The play's whole output (each failed task carries webtree's own stdout and stderr) with
      // every assertion on where the hosts ended: a host that failed says why.
      const said = `ansible-playbook exited ${r.exitCode}\n${r.stdout}\n${r.stderr}`;
      expect(r.exitCode, said).toBe(2);
      expect(await current('web1'), said).toEqual({ TV: '3.4', ConstantsDB: '1.5d' });
      expect(await current('web2'), said).toEqual({ TV: '3.3a', ConstantsDB: '1.5d' });
      expect(await current('web3'), said).toEqual({});
      expect(await snapshot(fleet.host('web3').site), said).toEqual(web3);
      expect(r.stdout).not.toMatch(/\[web3\]/);
      expect(r.stdout).toContain('NO MORE HOSTS LEFT');
      const rec = recap(r.stdout);
      expect(rec.web1, said).toMatchObject({ changed: 1, failed: 0 });
      expect(rec.web2, said).toMatchObject({ failed: 1 });
      expect(rec.web3, said).toBeUndefined();
      // Ansible's failure is webtree's own: the same message, code and hint as webtree apply --json says.
      const failure = fatals(r.stdout).web2;
      const direct = await runCli(['--config', fleet.host('web2').config, 'apply', releases.bad, '--json']);
      expect(direct.exitCode).toBe(1);
      const { error } = JSON.parse(direct.stdout);
      expect(error.message).toMatch(/sha256|SHA-256|checksum/i);
      expect(failure).toMatchObject({ msg: error.message, code: error.code, hint: error.hint, rc: 1 });
    },
    SLOW,
  );
});
