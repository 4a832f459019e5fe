/**
 * The role sispi.webtree.host over real SSH on a host without webtree: Node checked, webtree
 * installed from the tarball `npm pack` makes, the service account ensured, the site file written
 * from variables by `webtree init`; a second run changes nothing, and an old Node is a clear failure.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { ensureServiceAccount } from '../helpers/service-account.js';
import { COLLECTION_SRC, fatals, Fleet, recap, skipWithoutAnsible } from './fleet.js';

const missing = skipWithoutAnsible('role sispi.webtree.host');
const PLAYBOOK = path.join(COLLECTION_SRC, 'playbooks', 'host.yml');
// A playbook run is seconds on a quiet machine and much more on a shared, loaded one; npm install too.
const SLOW = 600_000;

describe.skipIf(missing)('role sispi.webtree.host over SSH', () => {
  let fleet: Fleet;
  let vars: Record<string, unknown>;
  const installed = () => path.join(fleet.dir, 'opt', 'node_modules', '.bin', 'webtree');

  beforeAll(async () => {
    await ensureServiceAccount();
    fleet = await Fleet.start(['fresh'], [18089], { init: false });
    // The package as it would be shipped; dist/ is already built by the test run.
    const pack = await execa('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', fleet.dir], {
      cwd: ROOT,
    });
    const tarball = path.join(fleet.dir, pack.stdout.trim().split('\n').pop()!);
    const host = fleet.host('fresh');
    vars = {
      webtree_package: tarball,
      webtree_install_dir: path.join(fleet.dir, 'opt'),
      webtree_bin_link: '',
      webtree_npm_args: ['--prefer-offline'],
      webtree_config: host.config,
      webtree_prefix: host.site,
      webtree_listen: '127.0.0.1:18089',
      webtree_servers: [
        { name: 'server3', host: 'localhost', port: 5442 },
        { name: 'server2', host: 'db2.example.org', port: 5443 },
      ],
    };
  }, 180_000);

  afterAll(async () => {
    if (fleet) await fleet.stop();
  }, 60_000);

  it(
    'installs webtree from the npm pack tarball and writes the site from variables; a second run changes nothing',
    async () => {
      const first = await fleet.playbook(PLAYBOOK, ['-e', JSON.stringify(vars)]);
      expect(first.exitCode, first.stdout + first.stderr).toBe(0);
      expect(recap(first.stdout).fresh).toMatchObject({ failed: 0 });
      expect(recap(first.stdout).fresh.changed).toBeGreaterThanOrEqual(4); // dir, tarball, npm install, init
      expect(existsSync(installed())).toBe(true);
      // The installed webtree reads the site the role made.
      const host = fleet.host('fresh');
      const st = await execa(installed(), ['--config', host.config, 'status', '--json'], { reject: false });
      expect(st.exitCode, st.stderr).toBe(0);
      expect(JSON.parse(st.stdout)).toMatchObject({ site: host.config, server: 'server3' });
      const site = await fs.readFile(host.config, 'utf8');
      expect(site).toContain('listen: 127.0.0.1:18089');
      expect(site).toMatch(/name: server2, host: db2\.example\.org, port: 5443/);
      expect(site).toMatch(/^\s+user: codemanager$/m);
      expect(site).toContain(`www: ${path.join(host.site, 'www')}`);

      const again = await fleet.playbook(PLAYBOOK, ['-e', JSON.stringify(vars)]);
      expect(again.exitCode, again.stdout + again.stderr).toBe(0);
      expect(recap(again.stdout).fresh).toMatchObject({ changed: 0, failed: 0 });
    },
    SLOW,
  );

  it(
    'a host whose Node is older than 20 fails at once, saying what it has and what to do',
    async () => {
      const old = path.join(fleet.dir, 'node18');
      await fs.writeFile(old, '#!/bin/sh\necho v18.19.0\n', { mode: 0o755 });
      const r = await fleet.playbook(PLAYBOOK, ['-e', JSON.stringify({ ...vars, webtree_node: old })]);
      expect(r.exitCode).toBe(2);
      const failure = fatals(r.stdout).fresh;
      expect(failure.msg).toMatch(/webtree needs Node\.js 20 or later, and fresh has v18\.19\.0: install Node\.js 20/);
      expect(recap(r.stdout).fresh).toMatchObject({ changed: 0, failed: 1 });
    },
    SLOW,
  );
});
