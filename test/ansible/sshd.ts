/**
 * A real OpenSSH server for the Ansible tests: its own config, host key and client key made at
 * test time in a temporary directory, listening on a free loopback port, run in the foreground as
 * our child and stopped by the test that started it. Ansible reaches the "web hosts" through it
 * exactly as it reaches a remote host.
 */
import { mkdirSync, existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { freePort } from '../helpers/http.js';

export const SSHD = '/usr/sbin/sshd';

export interface Sshd {
  port: number;
  user: string;
  /** The client's private key, trusted by this server only. */
  clientKey: string;
  /** known_hosts holding this server's host key for [127.0.0.1]:port, for StrictHostKeyChecking=yes. */
  knownHosts: string;
  stop(): Promise<void>;
}

async function keypair(file: string): Promise<string> {
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'webtree-test', '-f', file]);
  return (await fs.readFile(`${file}.pub`, 'utf8')).trim();
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** sshd's SetEnv line for this process's NODE_EXTRA_CA_CERTS, if it has one that needs no quoting. */
function caEnv(): string[] {
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  return ca && !/[\s"'\\]/.test(ca) ? [`SetEnv NODE_EXTRA_CA_CERTS=${ca}`] : [];
}

export async function startSshd(dir: string): Promise<Sshd> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  const clientKey = path.join(dir, 'id_ed25519');
  const hostPub = await keypair(hostKey);
  const clientPub = await keypair(clientKey);
  const authorized = path.join(dir, 'authorized_keys');
  await fs.writeFile(authorized, `${clientPub}\n`, { mode: 0o600 });
  const user = os.userInfo().username;
  // sshd refuses to start without its privilege-separation directory; the package's tmpfiles
  // entry makes it at boot, which a container that never started ssh.service has not done.
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = path.join(dir, 'sshd_config');
    await fs.writeFile(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${path.join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${authorized}`,
        `AllowUsers ${user}`,
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        user === 'root' ? 'PermitRootLogin prohibit-password' : 'PermitRootLogin no',
        // The temporary directory lives under /tmp, which StrictModes would reject for the key file.
        'StrictModes no',
        'Subsystem sftp /usr/lib/openssh/sftp-server',
        'LogLevel ERROR',
        'MaxStartups 20',
        'MaxSessions 20',
        // npm on the "host" (this machine, through sshd) trusts the registry as the tests' own npm
        // does: a registry reached through a proxy with a CA of its own is trusted through
        // NODE_EXTRA_CA_CERTS, which sshd does not pass on. Without it, role-ssh's npm install,
        // finding no packument of a dependency in the cache, retried the registry until the
        // test's timeout (SELF_SIGNED_CERT_IN_CHAIN, in npm's debug log).
        ...caEnv(),
        '',
      ].join('\n'),
    );
    await execa(SSHD, ['-t', '-f', config]);
    const child: ResultPromise = execa(SSHD, ['-D', '-e', '-f', config], { reject: false, stdin: 'ignore' });
    let exited = false;
    void child.then(() => {
      exited = true;
    });
    for (let i = 0; i < 100 && !exited && !(await accepts(port)); i++) await new Promise((r) => setTimeout(r, 50));
    if (exited || !(await accepts(port))) {
      child.kill('SIGTERM');
      const r = await child;
      if (attempt < 3) continue; // another process took the port between freePort and bind
      throw new Error(`sshd did not start on 127.0.0.1:${port}: ${String(r.stderr)}`);
    }
    const knownHosts = path.join(dir, 'known_hosts');
    await fs.writeFile(knownHosts, `[127.0.0.1]:${port} ${hostPub.split(' ').slice(0, 2).join(' ')}\n`);
    return {
      port,
      user,
      clientKey,
      knownHosts,
      async stop() {
        child.kill('SIGTERM');
        await child;
      },
    };
  }
}
