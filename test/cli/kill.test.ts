/**
 * SIGKILL `webtree install` and `webtree activate` at random moments, a few hundred times. After
 * each kill every link resolves and readers see all-old or all-new; after the next command the
 * tree is exactly all-old or all-new and nothing half-made lingers.
 */
import { randomInt } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { makeSandbox, type Sandbox } from '../helpers/cli.js';

const ROUNDS = Number(process.env.WEBTREE_KILL_ROUNDS ?? 150);

let sb: Sandbox;
let site: string;
const tvDir = () => path.join(site, 'dbwebtools/tv');

beforeAll(async () => {
  sb = await makeSandbox();
  site = path.join(sb.dir, 'site');
  const first = await writeSampleArchive(sb.dir, 'TV', '1');
  expect((await sb.run(['install', first])).exitCode).toBe(0);
});
afterAll(async () => sb.cleanup());

/** What a reader sees right after the kill: every link resolves, and TV is one version throughout. */
async function readerView(): Promise<string> {
  const current = await fs.readlink(path.join(tvDir(), 'current'));
  const viaWeb = await fs.readFile(path.join(site, 'www/html/TV/tv.wsgi'), 'utf8');
  const served = /VERSION = "([^"]+)"/.exec(viaWeb)?.[1];
  expect(served, 'html/TV serves the version current names').toBe(current);
  for (const c of ['des_tv.cfg', 'constants.cfg', 'des_alarms.cfg', 'QE_decam.cfg']) await fs.stat(path.join(site, 'www/html/cfg', c));
  return current;
}

/** What the next command leaves: exactly old or new, no staging, installed <=> manifest. */
async function afterRecovery(old: string, asked: string, installing: boolean): Promise<string> {
  const st = await sb.json(['status']);
  const tv = st.products.find((p: { name: string }) => p.name === 'TV');
  const names = await fs.readdir(tvDir());
  expect(names.filter((n) => n.startsWith('.webtree-')), 'no staging or trash lingers').toEqual([]);
  await expect(fs.access(path.join(site, 'www/state/journal.json'))).rejects.toThrow();
  expect([old, asked]).toContain(tv.current);
  if (installing) {
    // all-new: installed and active; all-old: not installed at all
    expect(tv.versions.includes(asked)).toBe(tv.current === asked);
    expect(names.includes(asked)).toBe(tv.current === asked);
  }
  for (const v of tv.versions) await fs.access(path.join(site, 'www/state/manifests/TV', `${v}.json`));
  return tv.current;
}

const pendingJournal = () => fs.access(path.join(site, 'www/state/journal.json')).then(() => true, () => false);

/** How long the process takes to start (base: a read command) and to run `args` whole (span). */
async function timings(args: string[]): Promise<{ base: number; span: number }> {
  let t0 = Date.now();
  await sb.run(['history', 'EXPO']);
  const base = Math.floor((Date.now() - t0) * 0.8);
  t0 = Date.now();
  const r = await sb.run(args);
  expect(r.exitCode, r.stderr).toBe(0);
  return { base, span: Math.max(base + 20, Date.now() - t0) };
}

/**
 * Kill at a random moment. Even rounds: after a random delay (anywhere, start-up included).
 * Odd rounds: right after the executor announces its k-th operation (--debug), so the kill lands
 * inside the apply however loaded the machine is; the executor also pauses between operations.
 */
async function killAt(args: string[], delayMs: number, round: number, opCount: number): Promise<void> {
  if (round % 2 === 0) {
    const child = sb.spawn(args);
    await new Promise((r) => setTimeout(r, delayMs));
    child.kill('SIGKILL');
    await child;
    return;
  }
  const k = randomInt(1, opCount + 1);
  const child = sb.spawn([...args, '--debug'], { WEBTREE_TEST_OP_DELAY_MS: '5' });
  let seen = 0;
  child.stderr?.on('data', (chunk: Buffer) => {
    seen += chunk.toString().split('\n').filter((l) => l.startsWith('  ')).length;
    if (seen >= k) child.kill('SIGKILL');
  });
  await child;
}

describe('kill -9 at random moments', () => {
  it(`install, killed ${ROUNDS} times, leaves all-old or all-new`, async () => {
    // How long an uninterrupted install takes here: kills are spread over that span.
    const probe = await writeSampleArchive(sb.dir, 'TV', '0.probe');
    const { base, span } = await timings(['install', probe, '--no-activate']);
    let current = '1';
    const outcomes = { old: 0, new: 0, midApply: 0 };
    for (let i = 0; i < ROUNDS; i++) {
      const v = `2.${i}`;
      const a = await writeSampleArchive(sb.dir, 'TV', v);
      // Even rounds at a random time, odd rounds right after the k-th operation starts (see killAt).
      await killAt(['install', a], randomInt(base, span + 20), i, 9);
      if (await pendingJournal()) outcomes.midApply++;
      expect([current, v]).toContain(await readerView());
      const now = await afterRecovery(current, v, true);
      outcomes[now === v ? 'new' : 'old']++;
      current = now;
      await fs.rm(a);
      if (i % 25 === 24) expect((await sb.run(['prune', 'TV', '--keep', '2'])).exitCode).toBe(0);
    }
    // Both outcomes must occur, and some kills must land inside an apply, or the test proves nothing.
    expect(outcomes.old).toBeGreaterThan(0);
    expect(outcomes.new).toBeGreaterThan(0);
    expect(outcomes.midApply).toBeGreaterThan(0);
    console.log(`install kills: ${JSON.stringify(outcomes)} over ${ROUNDS} rounds, kills at ${base}-${span + 20} ms`);
  }, 600_000);

  it(`activate, killed ${ROUNDS} times, leaves all-old or all-new`, async () => {
    const versions = (await sb.json(['list', 'TV'])).products[0].versions as string[];
    expect(versions.length).toBeGreaterThanOrEqual(2);
    let current = (await sb.json(['status'])).products[0].current as string;
    const other = versions.find((v) => v !== current)!;
    const { base, span } = await timings(['activate', 'TV', other]);
    current = other;
    let midApply = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const target = versions[randomInt(0, versions.length)];
      await killAt(['activate', 'TV', target], randomInt(base, span + 20), i, 3);
      if (await pendingJournal()) midApply++;
      expect([current, target]).toContain(await readerView());
      current = await afterRecovery(current, target, false);
    }
    expect((await sb.run(['verify'])).exitCode).toBe(0);
    expect(midApply).toBeGreaterThan(0);
    console.log(`activate kills: ${midApply} of ${ROUNDS} landed inside an apply`);
  }, 600_000);
});
