/**
 * SIGKILL `webtree install`, `prune`, `activate` and `rollback` at random moments, a few hundred
 * times. After each kill every link resolves and readers see all-old or all-new; the next command
 * is `webtree recover`, which finishes or undoes the interrupted apply (reads only report it), and
 * `webtree verify` must then find the tree clean (exit 0), exactly all-old or all-new, with
 * nothing half-made left.
 */
import { randomInt } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findProduct, loadCatalog } from '../../src/catalog/load.js';
import type { ProductDescriptor } from '../../src/catalog/types.js';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { keptVersions, planRollback } from '../../src/plan/lifecycle.js';
import { loadSite } from '../../src/site/load.js';
import type { Site } from '../../src/site/types.js';
import { readHistory, type HistoryEntry } from '../../src/state/history.js';
import { historyFile, readProductState } from '../../src/state/tree.js';
import { makeSandbox, type Sandbox } from '../helpers/cli.js';

/** Rounds per test; every third round of the install test kills a prune (when there is one to make), of the activate test a rollback. */
const ROUNDS = Number(process.env.WEBTREE_KILL_ROUNDS ?? 150);

let sb: Sandbox;
let site: string;
let siteFile: Site;
let tv: ProductDescriptor;
const tvDir = () => path.join(site, 'dbwebtools/tv');
const tvState = () => readProductState(siteFile, tv);
const history = (): Promise<HistoryEntry[]> => readHistory(historyFile(siteFile));

beforeAll(async () => {
  sb = await makeSandbox();
  site = path.join(sb.dir, 'site');
  siteFile = await loadSite(sb.config);
  tv = findProduct(await loadCatalog(), 'TV');
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
  for (const c of ['des_tv.cfg', 'constants.cfg', 'des_alarms.cfg', 'QE_decam.cfg'])
    await fs.stat(path.join(site, 'www/html/cfg', c));
  return current;
}

/**
 * The next command after a kill is recover: it must finish or undo the interrupted apply (no
 * manual step); verify then finds the tree clean, with no journal and no lock left.
 */
async function verifyClean(what: string): Promise<void> {
  const rec = await sb.run(['recover']);
  expect(rec.exitCode, `recover after ${what}: ${rec.stdout}${rec.stderr}`).toBe(0);
  const v = await sb.run(['verify']);
  expect(v.exitCode, `verify after ${what}: ${v.stdout}${v.stderr}`).toBe(0);
  expect(await pendingJournal(), `journal left after ${what}`).toBe(false);
  // A lock may stay only as the dead process left it (the next changing command takes it over).
  const holder = await fs.readFile(path.join(site, 'www/state/lock'), 'utf8').then(
    (t) => JSON.parse(t).pid as number,
    () => undefined,
  );
  if (holder !== undefined)
    expect(() => process.kill(holder, 0), `a live process holds the lock after ${what}`).toThrow();
}

/** What the next command leaves: exactly old or new, no staging, installed <=> manifest. */
async function afterRecovery(old: string, asked: string, installing: boolean, what: string): Promise<string> {
  await verifyClean(what);
  const st = await tvState();
  const names = await fs.readdir(tvDir());
  expect(
    names.filter((n) => n.startsWith('.webtree-')),
    'no staging or trash lingers',
  ).toEqual([]);
  expect(st.unmanaged, 'no version directory without its manifest').toEqual([]);
  expect([old, asked]).toContain(st.current);
  if (installing) {
    // all-new: installed and active; all-old: not installed at all
    expect(st.versions.includes(asked)).toBe(st.current === asked);
    expect(names.includes(asked)).toBe(st.current === asked);
  }
  for (const v of st.versions) await fs.access(path.join(site, 'www/state/manifests/TV', `${v}.json`));
  return st.current!;
}

let prunesMidApply = 0;

/** The versions `prune TV --keep 1` would remove now. */
async function doomedNow(): Promise<string[]> {
  const st = await tvState();
  const kept = keptVersions(tv, st, 1, await history());
  return st.versions.filter((v) => !kept.has(v));
}

/** A prune killed: afterwards either nothing or every doomed version is gone, and current stays. */
async function killedPrune(round: number, delay: { base: number; span: number }): Promise<'none' | 'all'> {
  const before = await tvState();
  const doomed = await doomedNow();
  await killAt(['prune', 'TV', '--keep', '1'], randomInt(delay.base, delay.span + 20), round, doomed.length * 2 + 1);
  const mid = await pendingJournal();
  expect(await readerView()).toBe(before.current);
  await verifyClean(`prune round ${round}`);
  const after = await tvState();
  expect(after.current).toBe(before.current);
  expect(after.unmanaged, 'a version lost its manifest but kept its directory').toEqual([]);
  const gone = before.versions.filter((v) => !after.versions.includes(v));
  expect([[], doomed], `prune round ${round}: removed ${gone.join(',')}`).toContainEqual(gone);
  if (mid) prunesMidApply++;
  return gone.length ? 'all' : 'none';
}

const pendingJournal = () =>
  fs.access(path.join(site, 'www/state/journal.json')).then(
    () => true,
    () => false,
  );

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
    seen += chunk
      .toString()
      .split('\n')
      .filter((l) => l.startsWith('  ')).length;
    if (seen >= k) child.kill('SIGKILL');
  });
  await child;
}

describe('kill -9 at random moments', () => {
  it(`install and prune, killed ${ROUNDS} times, leave all-old or all-new`, async () => {
    // How long an uninterrupted install and prune take here: kills are spread over that span.
    const probe = await writeSampleArchive(sb.dir, 'TV', '0.probe');
    const { base, span } = await timings(['install', probe, '--no-activate']);
    const pruneTime = await timings(['prune', 'TV', '--keep', '2']);
    let current = '1';
    const outcomes = { old: 0, new: 0, midApply: 0 };
    const prunes = { none: 0, all: 0 };
    for (let i = 0; i < ROUNDS; i++) {
      if (i % 3 === 2 && (await doomedNow()).length > 0) {
        // Every third round kills a prune of the versions the installs left (when they left some).
        prunes[await killedPrune(i, pruneTime)]++;
        continue;
      }
      const v = `2.${i}`;
      const a = await writeSampleArchive(sb.dir, 'TV', v);
      // Even rounds at a random time, odd rounds right after the k-th operation starts (see killAt).
      await killAt(['install', a], randomInt(base, span + 20), i, 9);
      if (await pendingJournal()) outcomes.midApply++;
      expect([current, v]).toContain(await readerView());
      const now = await afterRecovery(current, v, true, `install round ${i}`);
      outcomes[now === v ? 'new' : 'old']++;
      current = now;
      await fs.rm(a);
    }
    // Both outcomes must occur, and some kills must land inside an apply, or the test proves nothing.
    expect(outcomes.old).toBeGreaterThan(0);
    expect(outcomes.new).toBeGreaterThan(0);
    expect(outcomes.midApply).toBeGreaterThan(0);
    expect(prunes.all, 'some killed prunes were finished').toBeGreaterThan(0);
    expect(prunesMidApply, 'some prune kills landed inside the apply').toBeGreaterThan(0);
    console.log(
      `install kills: ${JSON.stringify(outcomes)}; prune kills: ${JSON.stringify({ ...prunes, midApply: prunesMidApply })}; over ${ROUNDS} rounds, install kills at ${base}-${span + 20} ms`,
    );
  }, 600_000);

  it(`activate and rollback, killed ${ROUNDS} times, leave all-old or all-new`, async () => {
    const versions = (await tvState()).versions;
    expect(versions.length).toBeGreaterThanOrEqual(2);
    let current = (await tvState()).current!;
    const other = versions.find((v) => v !== current)!;
    const { base, span } = await timings(['activate', 'TV', other]);
    current = other;
    const counts = { activate: 0, rollback: 0, midApply: 0, rollbackMidApply: 0, noPrevious: 0 };
    for (let i = 0; i < ROUNDS; i++) {
      let target = versions[randomInt(0, versions.length)];
      let args = ['activate', 'TV', target];
      if (i % 3 === 2) {
        // Every third round kills a rollback; where it goes is what the planner says from the history.
        try {
          const plan = planRollback(siteFile, tv, await tvState(), undefined, {
            id: 'probe',
            now: new Date().toISOString(),
            who: { user: 'test' },
            history: await history(),
          });
          target = plan.ops.map((o) => (o.kind === 'record' ? o.entry.to : undefined)).find(Boolean)!;
          args = ['rollback', 'TV'];
        } catch {
          counts.noPrevious++; // nothing to go back to: an activate this round
        }
      }
      await killAt(args, randomInt(base, span + 20), i, 3);
      const mid = await pendingJournal();
      if (mid) counts.midApply++;
      if (mid && args[0] === 'rollback') counts.rollbackMidApply++;
      counts[args[0] as 'activate' | 'rollback']++;
      expect([current, target]).toContain(await readerView());
      current = await afterRecovery(current, target, false, `${args[0]} round ${i}`);
    }
    expect(counts.midApply).toBeGreaterThan(0);
    expect(counts.rollbackMidApply).toBeGreaterThan(0);
    console.log(
      `activate/rollback kills: ${JSON.stringify(counts)} over ${ROUNDS} rounds (midApply: the kill landed inside an apply)`,
    );
  }, 600_000);
});
