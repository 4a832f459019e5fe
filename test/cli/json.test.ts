/**
 * --json on every command that reports, parsed: the shapes docs/json.md documents, and a failure
 * as {error: {code, message, hint, details}, exit} on stdout. One sandbox, the real CLI.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { makeSandbox, runCli, serviceUser, type Sandbox } from '../helpers/cli.js';
import { freePort } from '../helpers/http.js';

let sb: Sandbox;
let arch: string;

/** Run with --json; stdout must be exactly one JSON document, whatever the exit status. */
async function json(args: string[], exit = 0): Promise<any> {
  const r = await sb.run([...args, '--json']);
  expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(exit);
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  sb = await makeSandbox([], { listen: `127.0.0.1:${await freePort()}` });
  arch = path.join(sb.dir, 'archives');
  await fs.mkdir(arch);
  for (const v of ['3.3a', '3.4', '3.5']) await writeSampleArchive(arch, 'TV', v);
});
afterAll(async () => {
  await sb.run(['apache', 'stop']);
  await sb.cleanup();
});

describe('--json shapes', () => {
  it('init', async () => {
    const prefix = path.join(sb.dir, 'other');
    const r = await runCli([
      '--config',
      path.join(prefix, 'webtree.yaml'),
      'init',
      '--prefix',
      prefix,
      ...(await serviceUser()),
      '--json',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      siteFile: path.join(prefix, 'webtree.yaml'),
      www: path.join(prefix, 'www'),
      products: path.join(prefix, 'dbwebtools'),
      runtime: path.join(prefix, 'local', 'web_logs'),
      added: expect.any(Number),
      sandbox: true,
    });
  });

  it('install, again (no change), and --dry-run (the plan)', async () => {
    const sha = /^[0-9a-f]{64}$/;
    expect(await json(['install', path.join(arch, 'tv-3.3a.tar.gz')])).toEqual({
      product: 'TV',
      version: '3.3a',
      sha256: expect.stringMatching(sha),
      changed: true,
      summary: 'install TV 3.3a and activate it',
    });
    expect(await json(['install', path.join(arch, 'tv-3.3a.tar.gz')])).toMatchObject({
      product: 'TV',
      version: '3.3a',
      changed: false,
    });
    const plan = await json(['install', path.join(arch, 'tv-3.4.tar.gz'), '--dry-run']);
    expect(plan).toMatchObject({
      dryRun: true,
      command: 'install TV 3.4',
      summary: 'install TV 3.4 and activate it (was 3.3a)',
      notes: [],
    });
    expect(plan.operations.map((o: { kind: string }) => o.kind)).toContain('swap-link');
    for (const v of ['3.4', '3.5'])
      expect((await json(['install', path.join(arch, `tv-${v}.tar.gz`)])).changed).toBe(true);
  });

  it('activate, rollback, prune', async () => {
    expect(await json(['activate', 'TV', '3.4'])).toEqual({
      product: 'TV',
      changed: true,
      summary: 'point TV at 3.4 (was 3.5)',
    });
    expect(await json(['rollback', 'TV'])).toEqual({
      product: 'TV',
      changed: true,
      summary: 'point TV at 3.5 (was 3.4)',
    });
    const pruned = await json(['prune', 'TV', '--keep', '0']);
    expect(pruned).toMatchObject({ product: 'TV', changed: true });
    expect(pruned.summary).toMatch(/3\.3a/);
  });

  it('list, status, history', async () => {
    const tv = { name: 'TV', current: '3.5', previous: '3.4', versions: ['3.4', '3.5'] };
    const list = await json(['list', 'TV']);
    expect(list).toEqual({ products: [tv] });
    const st = await json(['status']);
    expect(Object.keys(st)).toEqual(['site', 'products', 'server', 'apache', 'pending', 'damaged']);
    expect(st).toMatchObject({
      site: sb.config,
      server: 'server3',
      apache: { running: false, pid: null },
      pending: null,
      damaged: [],
    });
    expect(st.products[0]).toEqual(tv);
    expect(st.products.map((p: { name: string }) => p.name)).toEqual([
      'TV',
      'ConstantsDB',
      'AV',
      'QE',
      'EXPO',
      'ChartDirector',
      'dbiapp_pylib',
      'wsgi_py',
    ]);
    const h = await json(['history', 'TV']);
    expect(h.entries.map((e: { action: string }) => e.action)).toEqual([
      'install',
      'install',
      'install',
      'activate',
      'rollback',
      'prune',
    ]);
    expect(h.entries[3]).toMatchObject({
      id: expect.any(String),
      time: expect.any(String),
      user: expect.any(String),
      product: 'TV',
      from: '3.5',
      to: '3.4',
      outcome: 'ok',
    });
  });

  it('verify: ok and findings (exit 1 with the result, not an error)', async () => {
    expect(await json(['verify'])).toEqual({ ok: true, findings: [] });
    const link = path.join(sb.dir, 'site', 'www', 'html', 'TV');
    const target = await fs.readlink(link);
    await fs.rm(link);
    try {
      const bad = await json(['verify'], 1);
      expect(bad.ok).toBe(false);
      expect(bad.findings[0]).toEqual({ what: expect.any(String), problem: expect.any(String) });
    } finally {
      await fs.symlink(target, link);
    }
  });

  it('render --diff (exit 3, then 0), render, apache configtest', async () => {
    const diff = await json(['render', '--diff'], 3);
    expect(diff.pending).toBe(true);
    expect(diff.changes[0]).toEqual({
      path: expect.stringContaining('/www/'),
      kind: expect.stringMatching(/^(create|update|remove|mode)$/),
      handEdited: false,
      diff: expect.stringContaining('+++ '),
    });
    const done = await json(['render']);
    expect(done).toMatchObject({
      changed: true,
      summary: expect.stringMatching(/^render /),
      apache: expect.stringContaining('not running'),
    });
    expect(done.files[0]).toEqual({ path: expect.any(String), kind: expect.any(String), handEdited: false });
    expect(await json(['render', '--diff'])).toEqual({ pending: false, changes: [] });
    expect(await json(['apache', 'configtest'])).toEqual({ ok: true, output: expect.stringContaining('Syntax OK') });
  });

  it('apache start, status (exit 1 when stopped), stop', async () => {
    expect(await json(['apache', 'status'], 1)).toEqual({ running: false, pid: null, uptimeSec: null, apps: [] });
    const started = await json(['apache', 'start']);
    expect(started).toMatchObject({ verb: 'start', running: true, pid: expect.any(Number) });
    expect(started.apps.length).toBeGreaterThan(0);
    for (const a of started.apps) expect(a).toEqual({ url: expect.stringMatching(/^http:/), ok: true, status: 200 });
    const st = await json(['apache', 'status']);
    expect(st).toMatchObject({ running: true, pid: started.pid, uptimeSec: expect.any(Number) });
    expect(await json(['apache', 'stop'])).toEqual({ verb: 'stop', running: false, wasRunning: true, killed: [] });
  });

  it('switch-web and adopt', async () => {
    const sw = await json(['switch-web', 'server2', '--no-check-db', '--no-restart']);
    expect(sw).toMatchObject({
      server: 'server2',
      from: 'server3',
      changed: true,
      restart: expect.stringContaining('not restarted'),
    });
    expect(sw.checks).toContain('database not checked (--no-check-db)');
    expect(sw.runbook.length).toBeGreaterThan(3);
    expect(await json(['switch-web', 'server2', '--no-check-db'])).toEqual({
      server: 'server2',
      from: 'server2',
      changed: false,
      checks: [],
      restart: null,
      runbook: [],
    });
    const adopt = await json(['adopt']);
    expect(adopt).toMatchObject({
      changed: false,
      notes: expect.any(Array),
      summary: expect.stringContaining('nothing to adopt'),
    });
  });
});

describe('--json failures', () => {
  it('a refusal, a usage error and a bad site file: {error, exit} on stdout, with the exit status', async () => {
    expect(await json(['activate', 'TV', '9.9'], 1)).toEqual({
      error: { code: 'ENOTINSTALLED', message: 'TV 9.9 is not installed', hint: expect.any(String), details: null },
      exit: 1,
    });
    expect(await json(['activate', 'TV'], 2)).toMatchObject({
      error: { code: 'EUSAGE', message: expect.stringContaining('activate takes 2 arguments') },
      exit: 2,
    });
    expect(await json(['frobnicate'], 2)).toMatchObject({
      error: {
        code: 'EUSAGE',
        message: 'unknown command "frobnicate"',
        hint: expect.stringContaining('commands: init'),
      },
      exit: 2,
    });
    const missing = await runCli(['--config', '/nonexistent/webtree.yaml', 'status', '--json']);
    expect(missing.exitCode).toBe(2);
    expect(JSON.parse(missing.stdout)).toMatchObject({
      error: {
        code: 'ESITE',
        message: expect.stringContaining('/nonexistent/webtree.yaml'),
        hint: expect.stringContaining('webtree init'),
      },
      exit: 2,
    });
    expect(missing.stderr).toBe('');
  });

  it('commands that print text only refuse --json', async () => {
    expect(await json(['help'], 2)).toMatchObject({
      error: { code: 'EUSAGE', message: 'help prints text only; --json does not apply' },
      exit: 2,
    });
  });
});
