/**
 * switch_web_tools.sh's shim (src/plan/shims.ts) run by bash, with echo standing for node: with
 * two servers it switches to the other one; with three it names the choices; a server given is
 * passed on. The whole adopt-and-run path is in test/security/guide-habits.test.ts.
 */
import { execa } from 'execa';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shimText } from '../../src/plan/shims.js';
import type { Site } from '../../src/site/types.js';

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-shim-'));
afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

async function run(servers: string[], active: string, args: string[]) {
  const site = {
    file: '/site/web tree.yaml',
    database: { servers: servers.map((name) => ({ name })) },
  } as unknown as Site;
  const link = path.join(tmp, `active-${servers.length}`);
  await fs.rm(link, { force: true });
  await fs.symlink(active, link);
  const script = path.join(tmp, `shim-${servers.length}.sh`);
  await fs.writeFile(
    script,
    shimText(site, { node: '/bin/echo', script: '/opt/webtree.js' }, 'switch_web_tools.sh', '/attic/x', link),
  );
  return execa('bash', [script, ...args], { reject: false });
}

describe("switch_web_tools.sh's shim", () => {
  it('two servers: the other one; a server given: that one; options pass on', async () => {
    expect((await run(['server3', 'server2'], 'server3', ['--no-restart'])).stdout).toBe(
      '/opt/webtree.js --config /site/web tree.yaml switch-web server2 --no-restart',
    );
    expect((await run(['server3', 'server2'], '/x/servers/server2', [])).stdout).toBe(
      '/opt/webtree.js --config /site/web tree.yaml switch-web server3',
    );
    expect((await run(['server3', 'server2'], 'server3', ['server3', '--no-check-db'])).stdout).toBe(
      '/opt/webtree.js --config /site/web tree.yaml switch-web server3 --no-check-db',
    );
  });

  it('three servers: no guess; it names the choices (exit 2)', async () => {
    const r = await run(['server3', 'server2', 'server1'], 'server3', []);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/the web tools use server3; say which server to switch to: server2 server1/);
  });
});
