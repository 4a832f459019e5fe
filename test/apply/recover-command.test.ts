/**
 * What the reads say of a change left in the journal (pendingChange), and `webtree recover`
 * settling it, run in-process against a real sandbox tree (the CLI tests that cover recover run
 * it in a child process, where coverage does not see it): nothing pending, interrupted before
 * and after the commit point, still running, a damaged journal, and the check that follows.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { journalFile, readJournal, writeJournal, type Journal } from '../../src/apply/journal.js';
import { acquireLock } from '../../src/apply/lock.js';
import { pendingChange } from '../../src/apply/pending.js';
import { recoverCommand } from '../../src/commands/recover.js';
import type { CommandContext } from '../../src/commands/types.js';
import { WebtreeError } from '../../src/core/errors.js';
import { createReporter } from '../../src/core/reporter.js';
import type { Plan } from '../../src/plan/ops.js';
import type { Site } from '../../src/site/types.js';
import { readHistory } from '../../src/state/history.js';
import { sandboxSite } from '../helpers/site.js';

let dir: string;
let site: Site;
const p = (...parts: string[]) => path.join(dir, ...parts);
const DEAD_PID = 999_999; // above the default pid_max: never a live process

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-recover-'));
  site = sandboxSite(dir);
  for (const d of [site.paths.state, p('dbwebtools/tv/1'), p('dbwebtools/tv/2'), p('www/html')])
    await fs.mkdir(d, { recursive: true });
  await fs.symlink('1', p('dbwebtools/tv/current'));
});
afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

/** activate TV 2: the swap of `current` is the commit point, the web link and the record follow it. */
function activatePlan(): Plan {
  return {
    command: 'activate',
    summary: 'TV 1 -> 2',
    notes: [],
    temps: [],
    commit: 0,
    ops: [
      { kind: 'swap-link', path: p('dbwebtools/tv/current'), target: '2' },
      { kind: 'swap-link', path: p('www/html/TV'), target: p('dbwebtools/tv/current') },
      {
        kind: 'record',
        entry: { id: 'r1', time: 't', user: 'u', action: 'activate', product: 'TV', from: '1', to: '2', outcome: 'ok' },
      },
    ],
  };
}

/** An install cut before its commit: a staging directory that the rename would have made version 3. */
async function installCutBeforeCommit(): Promise<Journal> {
  const staging = p('dbwebtools/tv/.webtree-staging-3-q');
  await fs.mkdir(staging);
  await fs.writeFile(path.join(staging, 'half'), 'x');
  return {
    id: 'r2',
    pid: DEAD_PID,
    startedAt: '2026-01-02T03:04:05Z',
    plan: {
      command: 'install',
      summary: 'TV 3',
      notes: [],
      temps: [staging],
      commit: 1,
      ops: [
        { kind: 'make-dir', path: staging },
        { kind: 'rename', from: staging, to: p('dbwebtools/tv/3') },
        {
          kind: 'record',
          entry: { id: 'r2', time: 't', user: 'u', action: 'install', product: 'TV', to: '3', outcome: 'ok' },
        },
      ],
    },
  };
}

function context(over: Partial<CommandContext> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CommandContext = {
    positionals: [],
    options: {},
    dryRun: false,
    debug: false,
    env: { WEBTREE_LOCK_WAIT: '0' },
    reporter: createReporter(false, { out: (s) => out.push(s), err: (s) => err.push(s) }),
    site: () => Promise.resolve(site),
    catalog: () => Promise.resolve([]),
    ...over,
  };
  return { ctx, out, err };
}

const history = () => readHistory(path.join(site.paths.state, 'history.jsonl'));

describe('pendingChange', () => {
  it('is undefined when no journal is pending', async () => {
    expect(await pendingChange(site)).toBeUndefined();
  });

  it('an interrupted change names its command, pid, start and the command that settles it', async () => {
    await writeJournal(site.paths.state, { id: 'r1', pid: DEAD_PID, startedAt: 'T0', plan: activatePlan() });
    const pend = await pendingChange(site);
    expect(pend).toMatchObject({ state: 'interrupted', command: 'activate', pid: DEAD_PID, startedAt: 'T0' });
    expect(pend?.message).toBe(
      `a change is pending: \`activate\` (pid ${DEAD_PID}, started T0) was interrupted; run \`webtree recover\` to finish it (${journalFile(site.paths.state)})`,
    );
  });

  it('says when only the check after the change may not have run', async () => {
    await writeJournal(site.paths.state, {
      id: 'r1',
      pid: DEAD_PID,
      startedAt: 'T0',
      plan: activatePlan(),
      phase: 'after',
      after: { kind: 'repair', data: null },
    });
    expect((await pendingChange(site))?.message).toMatch(
      /was interrupted before its check had run; run `webtree recover`/,
    );
  });

  it('a live holder of the lock whose pid wrote the journal is running, not interrupted', async () => {
    const lock = await acquireLock(site.paths.state, 'activate', 0);
    try {
      await writeJournal(site.paths.state, { id: 'r1', pid: process.pid, startedAt: 'T0', plan: activatePlan() });
      const pend = await pendingChange(site);
      expect(pend).toMatchObject({ state: 'running', pid: process.pid });
      expect(pend?.message).toMatch(/^a change is under way: `activate` \(pid \d+, started T0\)/);
      // The lock held by another pid than the journal's: the journal's writer is gone.
      await writeJournal(site.paths.state, { id: 'r1', pid: DEAD_PID, startedAt: 'T0', plan: activatePlan() });
      expect((await pendingChange(site))?.state).toBe('interrupted');
    } finally {
      await lock.release();
    }
  });

  it('a damaged journal is reported with its fix, not guessed around', async () => {
    await fs.writeFile(journalFile(site.paths.state), '{"id": "r1", "pid": 1, "startedAt"');
    const pend = await pendingChange(site);
    expect(pend?.state).toBe('damaged');
    expect(pend?.message).toMatch(/journal\.json/);
    expect(pend?.hint).toMatch(/webtree verify/);
  });
});

describe('webtree recover', () => {
  it('with nothing pending says so and exits 0, with --dry-run too', async () => {
    for (const dryRun of [true, false]) {
      const { ctx, out } = context({ dryRun });
      expect(await recoverCommand.run(ctx)).toBe(0);
      expect(out.join('')).toMatch(/^nothing to recover: no change (is|was) pending\n$/);
    }
  });

  it('--dry-run says what it would do and changes nothing', async () => {
    const j: Journal = { id: 'r1', pid: DEAD_PID, startedAt: 'T0', plan: activatePlan() };
    await writeJournal(site.paths.state, j);
    const { ctx, out } = context({ dryRun: true });
    expect(await recoverCommand.run(ctx)).toBe(0);
    expect(out.join('')).toMatch(/^would settle `activate` \(pid 999999, started T0\): finish it if it had reached/);
    expect(await readJournal(site.paths.state)).toEqual(j);
    expect(await fs.readlink(p('dbwebtools/tv/current'))).toBe('1');
  });

  it('--dry-run on a change still running names it and settles nothing', async () => {
    const lock = await acquireLock(site.paths.state, 'activate', 0);
    try {
      await writeJournal(site.paths.state, { id: 'r1', pid: process.pid, startedAt: 'T0', plan: activatePlan() });
      const { ctx, out } = context({ dryRun: true });
      expect(await recoverCommand.run(ctx)).toBe(0);
      expect(out.join('')).toMatch(/a change is under way: .*; nothing to recover while it runs/);
    } finally {
      await lock.release();
    }
  });

  it('--dry-run on a damaged journal refuses with the journal fix', async () => {
    await fs.writeFile(journalFile(site.paths.state), 'null');
    const { ctx } = context({ dryRun: true });
    const e = await recoverCommand.run(ctx).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(WebtreeError);
    expect(e).toMatchObject({ code: 'EDAMAGED' });
    expect((e as WebtreeError).hint).toMatch(/move the journal aside/);
  });

  it('finishes a change whose commit point was reached, records it, and clears the journal', async () => {
    await writeJournal(site.paths.state, { id: 'r1', pid: DEAD_PID, startedAt: 'T0', plan: activatePlan() });
    await fs.rm(p('dbwebtools/tv/current'));
    await fs.symlink('2', p('dbwebtools/tv/current')); // the commit happened, then the process died
    const { ctx, out, err } = context();
    expect(await recoverCommand.run(ctx)).toBe(0);
    expect(out.join('')).toBe('`activate` was finished\n');
    expect(err.join('')).toMatch(/an interrupted `activate` \(pid 999999, T0\) was finished/);
    expect(await fs.readlink(p('www/html/TV'))).toBe(p('dbwebtools/tv/current'));
    expect(await readJournal(site.paths.state)).toBeUndefined();
    expect(await history()).toMatchObject([{ id: 'r1', outcome: 'recovered' }]);
  });

  it('undoes a change cut before its commit point: the tree is as it was', async () => {
    await writeJournal(site.paths.state, await installCutBeforeCommit());
    const { ctx, out } = context();
    expect(await recoverCommand.run(ctx)).toBe(0);
    expect(out.join('')).toBe('`install` was undone\n');
    expect((await fs.readdir(p('dbwebtools/tv'))).sort()).toEqual(['1', '2', 'current']);
    expect(await readJournal(site.paths.state)).toBeUndefined();
    expect(await history()).toMatchObject([{ id: 'r2', outcome: 'undone' }]);
  });

  it('runs the check that followed the change again: passed is exit 0, failed exit 1, the journal cleared either way', async () => {
    const withCheck = (): Journal => ({
      id: 'r1',
      pid: DEAD_PID,
      startedAt: 'T0',
      plan: activatePlan(),
      phase: 'after',
      after: { kind: 'repair', data: null },
    });
    await fs.rm(p('dbwebtools/tv/current'));
    await fs.symlink('2', p('dbwebtools/tv/current'));
    await writeJournal(site.paths.state, withCheck());
    // No Apache runs for this sandbox: repair's restart and check has nothing to restart and passes.
    const ok = context();
    expect(await recoverCommand.run(ok.ctx)).toBe(0);
    expect(ok.out.join('')).toBe('`activate` was finished; its check passed\n');
    expect(ok.err.join('')).toMatch(/running its check again: repair/);
    expect(await readJournal(site.paths.state)).toBeUndefined();

    // The check cannot even read the product catalog: it failed, and recover says so with exit 1.
    await writeJournal(site.paths.state, withCheck());
    const bad = context({
      catalog: () => Promise.reject(new WebtreeError('ESITE', 'the product catalog cannot be read')),
    });
    expect(await recoverCommand.run(bad.ctx)).toBe(1);
    expect(bad.out.join('')).toBe('`activate` was finished; its check failed (the product catalog cannot be read)\n');
    expect(await readJournal(site.paths.state)).toBeUndefined();
  });
});
