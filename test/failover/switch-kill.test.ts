/**
 * kill -9 at random moments: switch-web is SIGKILLed again and again, half the time after a
 * random delay, half the time right as the executor announces an operation (--debug), so that
 * kills land before, inside and after the commit. After each kill every consumer path must
 * resolve, all to one server; then the next command (verify) must finish or undo the
 * interrupted apply and find the tree clean. WEBTREE_KILL_RUNS sets the count (default 200).
 */
import { execa } from 'execa';
import { pathExists } from '../../src/state/fs-read.js';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHistory } from '../../src/state/history.js';
import { BIN, ensureBuilt, initSandbox, webtree } from './cli.js';
import { consumerPaths, readServers } from './consumers.js';

const RUNS = Number(process.env.WEBTREE_KILL_RUNS ?? 200);
const dirs: string[] = [];
beforeAll(() => ensureBuilt(), 120_000);
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

/** Start switch-web and SIGKILL it: after `delayMs`, or `afterOpMs` after the `op`-th operation line. */
async function killedSwitch(
  config: string,
  to: string,
  how: { delayMs: number } | { op: number; afterOpMs: number },
): Promise<'killed' | 'finished'> {
  const child = execa('node', [BIN, '--config', config, 'switch-web', to, '--no-check-db', '--no-restart', '--debug'], {
    reject: false,
    stdin: 'ignore',
    env: { WEBTREE_LOCK_WAIT: '10' },
  });
  const kill = () => child.kill('SIGKILL');
  if ('delayMs' in how) setTimeout(kill, how.delayMs);
  else {
    let seen = 0;
    child.stderr.on('data', (b: Buffer) => {
      seen += String(b)
        .split('\n')
        .filter((l) => l.startsWith('  ')).length;
      if (seen > how.op) setTimeout(kill, how.afterOpMs);
    });
  }
  const r = await child;
  return r.signal === 'SIGKILL' ? 'killed' : 'finished';
}

describe('switch-web under kill -9', () => {
  it(`leaves every consumer on one server, always, over ${RUNS} kills; the next command recovers`, async () => {
    const s = await initSandbox();
    dirs.push(s.dir);
    const { site, paths } = await consumerPaths(s.config);
    const active = path.join(site.paths.switch, 'active');
    const journal = path.join(site.paths.state, 'journal.json');

    // How long an uninterrupted switch takes, so that random kills spread over the whole run.
    const t0 = Date.now();
    for (const to of ['server2', 'server3'])
      expect((await webtree(s.config, ['switch-web', to, '--no-check-db', '--no-restart'])).code).toBe(0);
    const runMs = (Date.now() - t0) / 2;

    const counts = { killedBeforeApply: 0, killedUncommitted: 0, killedCommitted: 0, killedAfterApply: 0, finished: 0 };
    const started = Date.now();
    for (let i = 0; i < RUNS; i++) {
      const from = await fs.readlink(active);
      const to = from === 'server3' ? 'server2' : 'server3';
      // Every fourth run starts with the target's slot links gone, so that the plan has work
      // before its commit (make-dir + one link per consumer) and kills land there too.
      const relay = i % 4 === 3;
      if (relay) await fs.rm(path.join(site.paths.switch, to), { recursive: true });
      const how =
        i % 2 === 0
          ? { delayMs: Math.random() * runMs * 1.2 }
          : { op: Math.floor(Math.random() * (relay ? 8 : 2)), afterOpMs: Math.random() * 2 };
      const outcome = await killedSwitch(s.config, to, how);

      const seen = readServers(paths);
      const servers = new Set(Object.values(seen));
      expect(servers.size, `run ${i} (${JSON.stringify(how)}): ${JSON.stringify(seen)}`).toBe(1);
      expect(['server2', 'server3']).toContain([...servers][0]);
      expect([...servers][0]).toBe(await fs.readlink(active));

      const pending = await pathExists(journal);
      const moved = (await fs.readlink(active)) !== from;
      if (outcome === 'finished') counts.finished++;
      else if (pending) counts[moved ? 'killedCommitted' : 'killedUncommitted']++;
      else counts[moved ? 'killedAfterApply' : 'killedBeforeApply']++;

      if (relay) {
        // The next command is the switch again: it finishes or undoes the kill's apply, then lays what is missing.
        const again = await webtree(s.config, ['switch-web', to, '--no-check-db', '--no-restart']);
        expect(again.code, again.stderr).toBe(0);
        if (pending) expect(again.stderr).toMatch(/an interrupted `switch-web server[23]` .* was (finished|undone)/);
      }
      // Reads never finish a change (README): recover does (a no-op after the relay's switch), then verify.
      const rec = await webtree(s.config, ['recover']);
      expect(rec.code, `recover after run ${i}: ${rec.stdout}${rec.stderr}`).toBe(0);
      const v = await webtree(s.config, ['verify']);
      expect(v.code, `verify after run ${i}: ${v.stdout}${v.stderr}`).toBe(0);
      expect(await pathExists(journal)).toBe(false);
      expect(new Set(Object.values(readServers(paths))).size).toBe(1);
    }
    const seconds = (Date.now() - started) / 1000;
    const history = await readHistory(path.join(site.paths.state, 'history.jsonl'));
    const outcomes: Record<string, number> = {};
    for (const e of history) outcomes[e.outcome] = (outcomes[e.outcome] ?? 0) + 1;
    const litter = (await fs.readdir(site.paths.switch, { recursive: true })).filter((n) =>
      path.basename(n).startsWith('.'),
    );
    console.log(
      `kill test: ${RUNS} runs in ${seconds.toFixed(1)} s (uninterrupted switch ${runMs.toFixed(0)} ms); ${JSON.stringify(counts)}; history outcomes ${JSON.stringify(outcomes)}; temp links left in the switch dir: ${litter.length}`,
    );
    expect(counts.killedUncommitted + counts.killedCommitted).toBeGreaterThan(0);
  }, 600_000);
});
