/**
 * The collection as an operator gets it: `ansible-galaxy collection build ansible/`, installed
 * from the tarball into a collections path of its own; `ansible-doc` renders every module with
 * its options, examples and return values, and every example (the playbooks and each module's
 * EXAMPLES) passes `ansible-playbook --syntax-check`. No SSH needed here.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../helpers/cli.js';
import { ansibleEnv, buildAndInstall, COLLECTION_SRC, skipWithoutAnsible } from './fleet.js';

const missing = skipWithoutAnsible('Ansible collection');
const MODULES = ['release', 'facts', 'switch_web', 'apache'];

describe.skipIf(missing)('the sispi.webtree collection', () => {
  let dir: string;
  let collections: string;
  let tarball: string;
  const run = (cmd: string, args: string[]) =>
    execa(cmd, args, { cwd: dir, reject: false, stdin: 'ignore', env: ansibleEnv(dir, collections) });

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-collection-'));
    ({ tarball, collections } = await buildAndInstall(dir));
  }, 120_000);

  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('builds as sispi-webtree-<version>.tar.gz and installs with its modules, module_utils, role and playbooks', async () => {
    const galaxy = await fs.readFile(path.join(COLLECTION_SRC, 'galaxy.yml'), 'utf8');
    const version = /^version: (\S+)$/m.exec(galaxy)![1];
    expect(path.basename(tarball)).toBe(`sispi-webtree-${version}.tar.gz`);
    const installed = path.join(collections, 'ansible_collections', 'sispi', 'webtree');
    for (const m of MODULES) await fs.access(path.join(installed, 'plugins', 'modules', `${m}.py`));
    for (const f of [
      'plugins/module_utils/webtree.py',
      'plugins/doc_fragments/common.py',
      'roles/host/tasks/main.yml',
      'playbooks/release.yml',
      'MANIFEST.json',
      'README.md',
    ]) {
      await fs.access(path.join(installed, f));
    }
    const manifest = JSON.parse(await fs.readFile(path.join(installed, 'MANIFEST.json'), 'utf8'));
    expect(manifest.collection_info).toMatchObject({ namespace: 'sispi', name: 'webtree', version });
    const list = await run('ansible-galaxy', ['collection', 'list', '-p', collections]);
    expect(list.stdout).toMatch(new RegExp(`^sispi\\.webtree\\s+${version.replace(/\./g, '\\.')}\\s*$`, 'm'));
  });

  it('ansible-doc renders every module with its options, examples and return values, without a warning', async () => {
    const listed = await run('ansible-doc', ['-t', 'module', '-l', 'sispi.webtree']);
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(
      listed.stdout
        .split('\n')
        .map((l) => l.split(/\s+/)[0])
        .filter(Boolean)
        .sort(),
    ).toEqual(MODULES.map((m) => `sispi.webtree.${m}`).sort());
    // One ansible-doc for every module: each start costs seconds on a busy machine.
    const r = await run(
      'ansible-doc',
      MODULES.map((m) => `sispi.webtree.${m}`),
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/WARNING|ERROR/);
    const pages = r.stdout.split(/^(?=> SISPI\.WEBTREE\.)/m).filter((p) => p.startsWith('> '));
    expect(pages.map((p) => /^> SISPI\.WEBTREE\.(\S+)/.exec(p)![1].toLowerCase())).toEqual(MODULES);
    for (const [i, page] of pages.entries()) {
      for (const section of ['OPTIONS', 'EXAMPLES:', 'RETURN VALUES:'])
        expect(page, `${MODULES[i]} ${section}`).toContain(section);
      // The common parameters, from the doc fragment, on every module.
      expect(page, MODULES[i]).toMatch(/^- webtree\n/m);
      expect(page, MODULES[i]).toMatch(/^- config\n/m);
    }
    const role = await run('ansible-doc', ['-t', 'role', 'sispi.webtree.host']);
    expect(role.exitCode, role.stderr).toBe(0);
    expect(role.stdout).toContain('webtree_package');
  });

  it("the playbooks and every module's EXAMPLES pass ansible-playbook --syntax-check", async () => {
    const books = (await fs.readdir(path.join(COLLECTION_SRC, 'playbooks'))).filter((f) => f.endsWith('.yml'));
    expect(books).toEqual(expect.arrayContaining(['release.yml', 'host.yml']));
    const examples = path.join(dir, 'examples.yml');
    const plays: string[] = [];
    for (const m of MODULES) {
      // The EXAMPLES string as the module holds it, read by Python itself.
      const ex = await execa('python3', [
        '-c',
        'import ast,sys\nfor n in ast.parse(open(sys.argv[1]).read()).body:\n  if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "EXAMPLES": print(n.value.value)',
        path.join(COLLECTION_SRC, 'plugins', 'modules', `${m}.py`),
      ]);
      expect(ex.stdout, m).toContain(`sispi.webtree.${m}:`);
      plays.push(
        `- name: ${m} examples\n  hosts: localhost\n  gather_facts: false\n  tasks:\n${ex.stdout
          .split('\n')
          .map((l) => `    ${l}`)
          .join('\n')}\n`,
      );
    }
    await fs.writeFile(examples, plays.join(''));
    // One run for all of them (ansible-playbook takes several playbooks); each is named in its output.
    const all = [...books.map((b) => path.join(COLLECTION_SRC, 'playbooks', b)), examples];
    const r = await run('ansible-playbook', ['--syntax-check', ...all]);
    expect(r.exitCode, `${r.stdout}${r.stderr}`).toBe(0);
    for (const b of all) expect(r.stdout).toContain(`playbook: ${b}`);
  });

  it('README\'s "More than one web host" shows the playbook the collection ships', async () => {
    const readme = await fs.readFile(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## More than one web host'));
    const block = /```yaml\n(- name: Every web host to one release\n[\s\S]*?)```/.exec(section);
    expect(block, 'the playbook block in README.md').not.toBeNull();
    const shipped = parse(await fs.readFile(path.join(COLLECTION_SRC, 'playbooks', 'release.yml'), 'utf8'));
    expect(parse(block![1])).toEqual(shipped);
    expect(shipped[0]).toMatchObject({ serial: 1, max_fail_percentage: 0 });
    expect(JSON.stringify(shipped)).not.toMatch(/handlers|notify/);
  });

  it('the modules refuse bad input with a message that names it and the fix (an unquoted version, a missing webtree)', async () => {
    // Input checks happen before any host is touched: the implicit localhost is enough here.
    const adhoc = (module: string, args: unknown) =>
      run('ansible', ['localhost', '-m', module, '-a', JSON.stringify(args), '-o']);
    const number = await adhoc('sispi.webtree.release', {
      webtree: '/bin/true',
      products: { TV: { version: 3.1, archive: '/srv/tv-3.10.tar.gz', sha256: 'a'.repeat(64) } },
    });
    expect(number.exitCode).toBe(2);
    expect(number.stdout).toContain('TV: version 3.1 is not a string; quote the version as written');
    const nowhere = await adhoc('sispi.webtree.facts', { webtree: 'webtree-not-installed' });
    expect(nowhere.exitCode).toBe(2);
    expect(nowhere.stdout).toMatch(/webtree-not-installed is not on the PATH of \S+/);
    expect(nowhere.stdout).toContain('the role sispi.webtree.host does');
  });
});
