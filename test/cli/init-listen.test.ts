/**
 * init with a listen port the service account may not bind (issue 10: the production default
 * 0.0.0.0:80 with Apache run as an unprivileged account) warns at once, naming the port, the
 * account and both fixes, and still writes the tree (exit 0); a port the account may bind, or
 * Apache run as root, gets no warning.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli, serviceUser } from '../helpers/cli.js';

let dir: string;
let first: number;
beforeAll(async () => {
  ensureBuilt();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-init-listen-'));
  await fs.chmod(dir, 0o755);
  first =
    Number(await fs.readFile('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').catch(() => '1024')) || 1024;
}, 120_000);
afterAll(async () => fs.rm(dir, { recursive: true, force: true }));

async function init(name: string, args: string[]) {
  const prefix = path.join(dir, name);
  const r = await runCli(['init', '--prefix', prefix, ...args]);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(await fs.readFile(path.join(prefix, 'webtree.yaml'), 'utf8')).toMatch(
    new RegExp(`listen: ${args[args.indexOf('--listen') + 1].replace(/\./g, '\\.')}`),
  );
  return r;
}

describe('init and a port below the unprivileged ones', () => {
  it('0.0.0.0:80 with Apache as the service account: a warning with the fixes, exit 0', async () => {
    const user = await serviceUser();
    const r = await init('p80', ['--listen', '0.0.0.0:80', ...user]);
    const account = user[1];
    if (80 < first) {
      // What a Debian host (and CI) has: 1024. The binary has no cap_net_bind_service unless someone gave it.
      expect(r.stderr).toContain(
        `warning: apache.listen is 0.0.0.0:80 and Apache runs as ${account}: port 80 is below ${first}: ${account} may not listen on it; \`webtree apache start\` refuses until then: set apache.listen to a port of ${first} or more (8080) and forward 80 to it, or let systemd start it with the right to bind it (as root: webtree apache install-service --systemd, then systemctl start webtree-httpd), or let the binary bind it: setcap cap_net_bind_service=+ep `,
      );
      // the same words through --json, on stderr, without spoiling the result on stdout
      const j = await runCli([
        'init',
        '--prefix',
        path.join(dir, 'p80json'),
        '--listen',
        '0.0.0.0:80',
        ...user,
        '--json',
      ]);
      expect(j.exitCode).toBe(0);
      expect(JSON.parse(j.stdout).siteFile).toBe(path.join(dir, 'p80json', 'webtree.yaml'));
      expect(j.stderr).toContain(`port 80 is below ${first}`);
    } else {
      // A host where any account may bind 80 (ip_unprivileged_port_start lowered): nothing to warn about.
      expect(r.stderr).not.toContain('apache.listen');
    }
  });

  it('a port of the unprivileged range gets no warning', async () => {
    const r = await init('p18081', ['--listen', '127.0.0.1:18081', ...(await serviceUser())]);
    expect(r.stderr).not.toContain('apache.listen');
  });

  it('Apache run as root may bind 80: no warning', async () => {
    const r = await init('root80', ['--listen', '0.0.0.0:80', '--user', 'root', '--group', 'root']);
    expect(r.stderr).not.toContain('apache.listen');
  });
});
