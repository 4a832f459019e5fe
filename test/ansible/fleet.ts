/**
 * A fleet of web hosts for the Ansible tests: one real sshd on loopback (sshd.ts), and several
 * inventory names that all reach 127.0.0.1 over SSH, each with its own sandbox site
 * (`webtree init --prefix`). The collection is built with ansible-galaxy and installed into a
 * temporary collections path, as an operator would; the playbooks run as child processes with
 * argument arrays.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, it } from 'vitest';
import { BIN, ROOT, serviceUser, runCli } from '../helpers/cli.js';
import { SSHD, startSshd, type Sshd } from './sshd.js';

export const ANSIBLE_INSTALL = 'apt-get install ansible-core openssh-server';
export const COLLECTION_SRC = path.join(ROOT, 'ansible');

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(path.join(d, cmd)));
}

/** Why the tests cannot run here (undefined: they can). */
export const ansibleMissing: string | undefined =
  !onPath('ansible-playbook') || !onPath('ansible-galaxy') || !existsSync(SSHD)
    ? `ansible-core and openssh-server not found (ansible-playbook, ansible-galaxy, ${SSHD}): ${ANSIBLE_INSTALL}`
    : process.getuid?.() !== 0
      ? 'these tests run as root: Ansible logs in over SSH as root and webtree runs the sites as codemanager'
      : undefined;

/** Call at the top of a test file; true when its tests must be skipped (never under CI=true: there they fail). */
export function skipWithoutAnsible(what: string): boolean {
  if (!ansibleMissing) return false;
  if (process.env.CI === 'true') {
    const why = ansibleMissing;
    describe(`${what} (over SSH)`, () =>
      it('needs ansible-core and openssh-server, as root', () => {
        throw new Error(why);
      }));
  } else console.warn(`skipping the ${what} tests: ${ansibleMissing}`);
  return true;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Recap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
}

/** PLAY RECAP of the default callback: one line per host that the play reached. */
export function recap(stdout: string): Record<string, Recap> {
  const out: Record<string, Recap> = {};
  const tail = stdout.slice(stdout.lastIndexOf('PLAY RECAP'));
  for (const m of tail.matchAll(
    /^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)/gm,
  )) {
    out[m[1]] = { ok: +m[2], changed: +m[3], unreachable: +m[4], failed: +m[5], skipped: +m[6] };
  }
  return out;
}

/** Each `fatal: [host]: FAILED! => {...}` result of the default callback, parsed. */
export function fatals(stdout: string): Record<string, any> {
  const out: Record<string, any> = {};
  for (const m of stdout.matchAll(/^fatal: \[([^\]]+)\]: FAILED! => (\{.*\})$/gm)) out[m[1]] = JSON.parse(m[2]);
  return out;
}

/** Build the collection from ansible/ and install the tarball into dir/collections. */
export async function buildAndInstall(dir: string): Promise<{ tarball: string; collections: string }> {
  const build = path.join(dir, 'build');
  const collections = path.join(dir, 'collections');
  await fs.mkdir(build, { recursive: true });
  const b = await execa('ansible-galaxy', ['collection', 'build', COLLECTION_SRC, '--output-path', build, '--force'], {
    cwd: dir,
    env: ansibleEnv(dir, collections),
  });
  const tarball = path.join(
    build,
    (await fs.readdir(build)).find((f) => f.endsWith('.tar.gz'))!,
  );
  if (!b.stdout.includes(tarball)) throw new Error(`ansible-galaxy build said: ${b.stdout}`);
  await execa('ansible-galaxy', ['collection', 'install', tarball, '-p', collections, '--force'], {
    cwd: dir,
    env: ansibleEnv(dir, collections),
  });
  return { tarball, collections };
}

/** Ansible's settings for a test: everything it keeps under dir, nothing read from the machine's config. */
export function ansibleEnv(dir: string, collections: string): Record<string, string> {
  return {
    ANSIBLE_CONFIG: path.join(dir, 'no-ansible.cfg'),
    ANSIBLE_HOME: path.join(dir, 'ansible-home'),
    ANSIBLE_LOCAL_TEMP: path.join(dir, 'ansible-local-tmp'),
    ANSIBLE_COLLECTIONS_PATH: collections,
    ANSIBLE_COLLECTIONS_SCAN_SYS_PATH: 'False',
    ANSIBLE_ROLES_PATH: path.join(dir, 'roles'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
    ANSIBLE_STDOUT_CALLBACK: 'default',
    ANSIBLE_PIPELINING: 'True',
    ANSIBLE_HOST_KEY_CHECKING: 'True',
    // One master connection per host for the whole play; its socket lives under dir and
    // Fleet.stop closes it, so nothing of the test lingers after it.
    ANSIBLE_SSH_ARGS: '-o ControlMaster=auto -o ControlPersist=60s',
    ANSIBLE_SSH_CONTROL_PATH_DIR: path.join(dir, 'cp'),
    ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
    ANSIBLE_DEPRECATION_WARNINGS: 'False',
  };
}

export interface Host {
  name: string;
  /** The sandbox's site directory and its site file. */
  site: string;
  config: string;
  port: number;
}

export class Fleet {
  private constructor(
    readonly dir: string,
    readonly sshd: Sshd,
    readonly collections: string,
    readonly hosts: Host[],
  ) {}

  /**
   * sshd, the collection, and one sandbox site per name; `ports` gives each site's Apache port.
   * With `init: false` the sites are only named (the role test makes them with webtree init).
   */
  static async start(names: string[], ports: number[] = [], opts: { init?: boolean } = {}): Promise<Fleet> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-ansible-'));
    // The sandboxes below are read by the service account the apps run as.
    await fs.chmod(dir, 0o755);
    const sshd = await startSshd(path.join(dir, 'ssh'));
    try {
      const { collections } = await buildAndInstall(dir);
      const hosts: Host[] = [];
      for (const [i, name] of names.entries()) {
        const site = path.join(dir, 'sites', name);
        const config = path.join(site, 'webtree.yaml');
        const port = ports[i] ?? 18080 + i;
        if (opts.init !== false) {
          const r = await runCli(['init', '--prefix', site, '--listen', `127.0.0.1:${port}`, ...(await serviceUser())]);
          if (r.exitCode !== 0) throw new Error(`init of ${name} failed: ${r.stderr}`);
        }
        hosts.push({ name, site, config, port });
      }
      const fleet = new Fleet(dir, sshd, collections, hosts);
      await fleet.writeInventory();
      return fleet;
    } catch (err) {
      await sshd.stop();
      throw err;
    }
  }

  get inventory(): string {
    return path.join(this.dir, 'inventory.yml');
  }

  /** The inventory: group webhosts, every host 127.0.0.1 over SSH; `hostVars` adds to a host's variables. */
  async writeInventory(hostVars: Record<string, Record<string, unknown>> = {}): Promise<void> {
    const ssh = this.sshd;
    const hosts = Object.fromEntries(
      this.hosts.map((h) => [h.name, { webtree_config: h.config, ...(hostVars[h.name] ?? {}) }]),
    );
    const inventory = {
      webhosts: {
        hosts,
        vars: {
          ansible_connection: 'ssh',
          ansible_host: '127.0.0.1',
          ansible_port: ssh.port,
          ansible_user: ssh.user,
          ansible_ssh_private_key_file: ssh.clientKey,
          ansible_ssh_common_args: `-o UserKnownHostsFile=${ssh.knownHosts} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes`,
          ansible_remote_tmp: path.join(this.dir, 'remote-tmp'),
          webtree_command: BIN,
        },
      },
    };
    // JSON is YAML: the inventory plugin reads it as the YAML an operator would write.
    await fs.writeFile(this.inventory, JSON.stringify(inventory, null, 2));
  }

  host(name: string): Host {
    return this.hosts.find((h) => h.name === name)!;
  }

  /** ansible-playbook -i INVENTORY PLAYBOOK ARGS, from dir, with the test's Ansible settings. */
  async playbook(playbook: string, args: string[] = []): Promise<RunResult> {
    const r = await execa('ansible-playbook', ['-i', this.inventory, playbook, ...args], {
      cwd: this.dir,
      reject: false,
      stdin: 'ignore',
      env: ansibleEnv(this.dir, this.collections),
    });
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  /** A playbook written from tasks (JSON is YAML) for every host of webhosts; returns its path. */
  async tasksPlaybook(name: string, tasks: unknown[], play: Record<string, unknown> = {}): Promise<string> {
    const file = path.join(this.dir, `${name}.yml`);
    await fs.writeFile(
      file,
      JSON.stringify([{ name, hosts: 'webhosts', gather_facts: false, ...play, tasks }], null, 2),
    );
    return file;
  }

  /** Close the master connections, stop sshd, remove everything. */
  async stop(): Promise<void> {
    const cp = path.join(this.dir, 'cp');
    for (const sock of existsSync(cp) ? await fs.readdir(cp) : []) {
      await execa('ssh', ['-o', `ControlPath=${path.join(cp, sock)}`, '-O', 'exit', 'webtree-test'], { reject: false });
    }
    await this.sshd.stop();
    for (const h of this.hosts) if (existsSync(h.config)) await runCli(['--config', h.config, 'apache', 'stop']);
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/** The sandboxes' bytes: every entry's type, mode, content hash or link target, to show a tree untouched. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const { createHash } = await import('node:crypto');
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const st = await fs.lstat(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (e.isSymbolicLink()) out[p] = `link ${await fs.readlink(p)}`;
      else if (e.isDirectory()) {
        out[p] = `dir ${mode} ${st.uid}:${st.gid}`;
        await walk(p);
      } else
        out[p] = `file ${mode} ${st.uid}:${st.gid} ${createHash('sha256')
          .update(await fs.readFile(p))
          .digest('hex')}`;
    }
  };
  await walk(dir);
  return out;
}

/** A task that prints `value` (a Jinja expression) as JSON, for `reported` to read back. */
export const report = (value: string) => ({
  name: 'report',
  'ansible.builtin.debug': { msg: `{{ ${value} | to_json }}` },
});

/** What each host's `report` task printed, parsed. */
export function reported(stdout: string): Record<string, any> {
  const out: Record<string, any> = {};
  for (const m of stdout.matchAll(/^ok: \[([^\]]+)\] => \{\n\s+"msg": (".*")\n\}$/gm))
    out[m[1]] = JSON.parse(JSON.parse(m[2]));
  return out;
}
