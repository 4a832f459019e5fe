import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { makeSandbox, type Sandbox } from '../helpers/cli.js';
import { readHistory } from '../../src/state/history.js';

let sb: Sandbox;

/** Wait until a child holds the tree's lock (under load 800 ms may not be enough). */
async function lockHeldBy(pid: number | undefined): Promise<void> {
  const file = path.join(sb.dir, 'site/www/state/lock');
  for (let i = 0; i < 250; i++) {
    const holder = await fs.readFile(file, 'utf8').then(
      (t) => JSON.parse(t).pid as number,
      () => undefined,
    );
    if (holder === pid) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`pid ${pid} never took the lock`);
}

/**
 * Run `fn` while `child` is stopped (SIGSTOP) holding the lock, inside its change: the overlap
 * with another command is then certain, whatever the machine's speed. Its pause after planning
 * (WEBTREE_TEST_PAUSE_MS) keeps it there until the stop lands; SIGCONT lets it finish.
 */
async function whileHolding<T>(child: ReturnType<Sandbox['spawn']>, fn: () => Promise<T>): Promise<T> {
  await lockHeldBy(child.pid);
  process.kill(child.pid!, 'SIGSTOP');
  try {
    const holder = await fs.readFile(path.join(sb.dir, 'site/www/state/lock'), 'utf8').then(
      (t) => JSON.parse(t).pid as number,
      () => undefined,
    );
    expect(holder, 'the first was stopped after its change, not inside it').toBe(child.pid);
    return await fn();
  } finally {
    process.kill(child.pid!, 'SIGCONT');
  }
}

beforeAll(async () => {
  sb = await makeSandbox();
});
afterAll(async () => sb.cleanup());

describe('one lock for every change', () => {
  it('two installs of the same product at once: the second waits while the first is inside its change, then runs after it', async () => {
    const a = await writeSampleArchive(sb.dir, 'TV', '1.0');
    const b = await writeSampleArchive(sb.dir, 'TV', '2.0');
    const tvDir = path.join(sb.dir, 'site/dbwebtools/tv');
    // The overlap is forced, not hoped for: the first is stopped while it holds the lock, paused
    // after planning, before its apply; it stays inside its change until SIGCONT.
    const first = sb.spawn(['install', a], { WEBTREE_TEST_PAUSE_MS: '5000' });
    const { second } = await whileHolding(first, async () => {
      const second = sb.spawn(['install', b, '--debug'], { WEBTREE_LOCK_WAIT: '300' });
      let stderr = '';
      second.stderr!.on('data', (d: Buffer) => void (stderr += String(d)));
      let exited = false;
      void second.then(() => void (exited = true));
      // Either it says it waits for the first, or (without a lock) it goes ahead and finishes.
      while (!exited && !stderr.includes(`waiting for the lock held by pid ${first.pid} `))
        await new Promise((r) => setTimeout(r, 20));
      expect(exited, `the second ran while the first held the lock:\n${stderr}`).toBe(false);
      // While it waits, nothing of it is on disk.
      expect((await fs.readdir(tvDir).catch(() => [] as string[])).filter((n) => n.includes('2.0'))).toEqual([]);
      return { second }; // wrapped: returning the subprocess itself would wait for it, stopped first and all
    });
    const [ra, rb] = await Promise.all([first, second]);
    expect(ra.exitCode, String(ra.stderr)).toBe(0);
    expect(rb.exitCode, String(rb.stderr)).toBe(0);
    // One after the other: the second's install is recorded after the first's, and went live last.
    const installs = (await sb.json(['history', 'TV'])).entries.filter(
      (e: { action: string }) => e.action === 'install',
    );
    expect(installs.map((e: { version: string }) => e.version)).toEqual(['1.0', '2.0']);
    const tv = (await sb.json(['list', 'TV'])).products[0];
    expect(tv.versions).toEqual(['1.0', '2.0']);
    expect(tv.current).toBe('2.0');
    expect((await sb.run(['verify'])).exitCode).toBe(0);
  });

  it('a second command that cannot wait long enough fails naming the holder; the first succeeds', async () => {
    const a = await writeSampleArchive(sb.dir, 'TV', '3.0');
    const b = await writeSampleArchive(sb.dir, 'TV', '4.0');
    const first = sb.spawn(['install', a], { WEBTREE_TEST_PAUSE_MS: '5000' });
    const second = await whileHolding(first, () => sb.run(['install', b], { WEBTREE_LOCK_WAIT: '0.5' }));
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toMatch(
      new RegExp(`locked by pid ${first.pid} \\(user \\S+, \`install tv-3.0.tar.gz\`, since 20\\d\\d-`),
    );
    expect((await first).exitCode).toBe(0);
    const tv = (await sb.json(['list', 'TV'])).products[0];
    expect(tv.versions).toContain('3.0');
    expect(tv.versions).not.toContain('4.0');
    expect(await fs.readdir(path.join(sb.dir, 'site/dbwebtools/tv'))).not.toContain('4.0');
  });

  it('prune never takes a version that is still being installed: it waits for the install', async () => {
    const a = await writeSampleArchive(sb.dir, 'TV', '6.0');
    const install = sb.spawn(['install', a, '--no-activate'], { WEBTREE_TEST_OP_DELAY_MS: '150' });
    // wait until the install's staging directory exists, then prune as hard as possible
    const tvDir = path.join(sb.dir, 'site/dbwebtools/tv');
    for (let i = 0; i < 100 && !(await fs.readdir(tvDir)).some((n) => n.startsWith('.webtree-staging-6.0')); i++)
      await new Promise((r) => setTimeout(r, 20));
    const prune = await sb.run(['prune', 'TV', '--keep', '0']);
    expect(prune.exitCode, prune.stderr).toBe(0);
    expect((await install).exitCode).toBe(0);
    // prune ran after the install: 6.0 was the newest version then, and --keep 0 took it
    const tv = (await sb.json(['list', 'TV'])).products[0];
    expect(tv.versions).not.toContain('6.0');
    expect((await sb.json(['history', 'TV'])).entries.slice(-2).map((e: { action: string }) => e.action)).toEqual([
      'install',
      'prune',
    ]);
    expect((await sb.run(['verify'])).exitCode).toBe(0);
  });

  it('a lock left by a process that died is recovered without a human', async () => {
    const a = await writeSampleArchive(sb.dir, 'TV', '5.0');
    const child = sb.spawn(['install', a], { WEBTREE_TEST_PAUSE_MS: '5000' });
    await lockHeldBy(child.pid);
    const lock = JSON.parse(await fs.readFile(path.join(sb.dir, 'site/www/state/lock'), 'utf8'));
    expect(lock.pid).toBe(child.pid);
    child.kill('SIGKILL');
    await child;
    const tv = (await sb.json(['list', 'TV'])).products[0];
    const r = await sb.run(['activate', 'TV', tv.versions.find((v: string) => v !== tv.current)], {
      WEBTREE_LOCK_WAIT: '1',
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`took over the lock of pid ${child.pid}`));
  });
});

describe('eight changing commands started at the same moment against one site', () => {
  let site: Sandbox;
  beforeAll(async () => {
    site = await makeSandbox();
    // Each command below works on its own product, so that it succeeds in whatever order the lock lets it run.
    for (const [p, v, ...more] of [
      ['TV', '1.0'],
      ['AV', '1.1'],
      ['AV', '1.2', '--no-activate'],
      ['ConstantsDB', '1.5d'],
      ['ConstantsDB', '1.6'],
      ['QE', '1.0'],
      ['QE', '1.1'],
      ['QE', '1.2'],
    ]) {
      const r = await site.run(['install', await writeSampleArchive(site.dir, p, v), ...more]);
      expect(r.exitCode, r.stderr).toBe(0);
    }
  }, 120_000);
  afterAll(async () => site.cleanup());

  it('serialise on the lock: each exits 0, the history holds exactly their eight entries, verify is clean', async () => {
    const state = path.join(site.dir, 'site/www/state');
    const before = await readHistory(path.join(state, 'history.jsonl'));
    const commands: [string, string | undefined, string[]][] = [
      ['install', 'TV', ['install', await writeSampleArchive(site.dir, 'TV', '2.0')]],
      ['install', 'EXPO', ['install', await writeSampleArchive(site.dir, 'EXPO', '1.0')]],
      ['activate', 'AV', ['activate', 'AV', '1.2']],
      ['rollback', 'ConstantsDB', ['rollback', 'ConstantsDB']],
      ['prune', 'QE', ['prune', 'QE', '--keep', '1']],
      ['render', undefined, ['render']],
      ['switch-web', undefined, ['switch-web', 'server2', '--no-check-db', '--no-restart']],
      ['install', 'QE', ['install', await writeSampleArchive(site.dir, 'QE', '1.3'), '--no-activate']],
    ];
    // The pause holds the lock a moment after planning, so that every other command has to wait for it.
    const env = { WEBTREE_LOCK_WAIT: '300', WEBTREE_TEST_PAUSE_MS: '150' };
    const results = await Promise.all(commands.map(([, , args]) => site.spawn(args, env)));
    results.forEach((r, i) => expect(r.exitCode, `${commands[i][2].join(' ')}: ${String(r.stderr)}`).toBe(0));
    // Nobody found another's half-done apply: each ran on a tree the previous one had finished.
    for (const r of results) expect(String(r.stderr)).not.toMatch(/interrupted|took over the lock/);

    const after = await readHistory(path.join(state, 'history.jsonl'));
    const added = after.slice(before.length);
    expect(added.map((e) => `${e.action} ${e.product ?? ''}`.trim()).sort()).toEqual(
      commands.map(([a, p]) => `${a} ${p ?? ''}`.trim()).sort(),
    );
    expect(new Set(added.map((e) => e.id)).size, 'one entry per command, none doubled').toBe(8);
    expect(added.every((e) => e.outcome === 'ok')).toBe(true);
    // One at a time: the history's order is the order the lock granted, so the times never go back.
    const times = added.map((e) => Date.parse(e.time));
    expect([...times].sort((a, b) => a - b)).toEqual(times);

    expect(await fs.readdir(state)).not.toContain('journal.json');
    expect(await fs.readdir(state)).not.toContain('lock');
    const v = await site.run(['verify']);
    expect(v.exitCode, v.stdout + v.stderr).toBe(0);
    const st = await site.json(['status']);
    const current = Object.fromEntries(st.products.map((p: { name: string; current: string }) => [p.name, p.current]));
    expect(current).toMatchObject({ TV: '2.0', EXPO: '1.0', AV: '1.2', ConstantsDB: '1.5d', QE: '1.2' });
    expect((await site.json(['list', 'QE'])).products[0].versions).toEqual(['1.1', '1.2', '1.3']);
    expect(await fs.readlink(path.join(site.dir, 'site/www/servers/active'))).toBe('server2');
  }, 300_000);
});
