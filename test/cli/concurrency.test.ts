import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { makeSandbox, type Sandbox } from '../helpers/cli.js';

let sb: Sandbox;

/** Wait until a child holds the tree's lock (under load 800 ms may not be enough). */
async function lockHeldBy(pid: number | undefined): Promise<void> {
  const file = path.join(sb.dir, 'site/www/state/lock');
  for (let i = 0; i < 250; i++) {
    const holder = await fs.readFile(file, 'utf8').then((t) => JSON.parse(t).pid as number, () => undefined);
    if (holder === pid) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`pid ${pid} never took the lock`);
}

beforeAll(async () => {
  sb = await makeSandbox();
});
afterAll(async () => sb.cleanup());

describe('one lock for every change', () => {
  it('two installs of the same product at once: one waits, neither half-succeeds', async () => {
    const a = await writeSampleArchive(sb.dir, 'TV', '1.0');
    const b = await writeSampleArchive(sb.dir, 'TV', '2.0');
    const [ra, rb] = await Promise.all([sb.spawn(['install', a], { WEBTREE_TEST_PAUSE_MS: '300' }), sb.spawn(['install', b], { WEBTREE_TEST_PAUSE_MS: '300' })]);
    expect([ra.exitCode, rb.exitCode]).toEqual([0, 0]); // the second waited for the first
    const tv = (await sb.json(['list', 'TV'])).products[0];
    expect(tv.versions).toEqual(['1.0', '2.0']);
    expect(['1.0', '2.0']).toContain(tv.current);
    expect((await sb.run(['verify'])).exitCode).toBe(0);
  });

  it('a second command that cannot wait long enough fails naming the holder; the first succeeds', async () => {
    const a = await writeSampleArchive(sb.dir, 'TV', '3.0');
    const b = await writeSampleArchive(sb.dir, 'TV', '4.0');
    const first = sb.spawn(['install', a], { WEBTREE_TEST_PAUSE_MS: '3000' });
    await lockHeldBy(first.pid);
    const second = await sb.run(['install', b], { WEBTREE_LOCK_WAIT: '0.5' });
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`locked by pid ${first.pid} \\(user \\S+, \`install tv-3.0.tar.gz\`, since 20\\d\\d-`));
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
    for (let i = 0; i < 100 && !(await fs.readdir(tvDir)).some((n) => n.startsWith('.webtree-staging-6.0')); i++) await new Promise((r) => setTimeout(r, 20));
    const prune = await sb.run(['prune', 'TV', '--keep', '0']);
    expect(prune.exitCode, prune.stderr).toBe(0);
    expect((await install).exitCode).toBe(0);
    // prune ran after the install: 6.0 was the newest version then, and --keep 0 took it
    const tv = (await sb.json(['list', 'TV'])).products[0];
    expect(tv.versions).not.toContain('6.0');
    expect((await sb.json(['history', 'TV'])).entries.slice(-2).map((e: { action: string }) => e.action)).toEqual(['install', 'prune']);
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
    const r = await sb.run(['activate', 'TV', tv.versions.find((v: string) => v !== tv.current)], { WEBTREE_LOCK_WAIT: '1' });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`took over the lock of pid ${child.pid}`));
  });
});
