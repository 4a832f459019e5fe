/**
 * adopt under kill -9: on a fresh hand-laid tree each time, adopt is SIGKILLed at a random
 * moment. Whatever the moment, every path a reader opens must still give the same bytes, and
 * the next adopt must finish (or undo and redo) the job and leave a tree verify accepts.
 * WEBTREE_ADOPT_KILL_RUNS sets the count (default 30).
 */
import { execa } from 'execa';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt, webtree } from './cli.js';
import { handTree, readerPaths } from './hand-tree.js';

const RUNS = Number(process.env.WEBTREE_ADOPT_KILL_RUNS ?? 30);
const dirs: string[] = [];
beforeAll(() => ensureBuilt(), 120_000);
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

describe('adopt under kill -9', () => {
  it(`keeps every reader path's bytes over ${RUNS} kills, and the next adopt completes`, async () => {
    let runMs = 0;
    const counts = { killedPending: 0, killedOther: 0, finished: 0 };
    for (let i = 0; i < RUNS; i++) {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-adoptkill-'));
      dirs.push(dir);
      const { config } = await handTree(dir, { qeServer3: true });
      const paths = readerPaths(dir);
      const expected = await Promise.all(paths.map((p) => fs.readFile(p, 'utf8')));
      if (i === 0) {
        // The first run is not killed: it tells how long an adopt takes.
        const t0 = Date.now();
        expect((await webtree(config, ['adopt'])).code).toBe(0);
        runMs = Date.now() - t0;
        continue;
      }
      // A third of the kills after a random delay; the rest as the executor announces a random operation (--debug).
      const child = execa('node', [BIN, '--config', config, 'adopt', '--debug'], { reject: false, stdin: 'ignore' });
      if (i % 3 === 0) setTimeout(() => child.kill('SIGKILL'), Math.random() * runMs * 1.1);
      else {
        const at = Math.floor(Math.random() * 40);
        let seen = 0;
        child.stderr.on('data', (b: Buffer) => {
          seen += String(b)
            .split('\n')
            .filter((l) => l.startsWith('  ')).length;
          if (seen > at) child.kill('SIGKILL');
        });
      }
      const r = await child;
      expect(await Promise.all(paths.map((p) => fs.readFile(p, 'utf8')))).toEqual(expected);
      const pending = await fs.lstat(path.join(dir, 'www', 'state', 'journal.json')).then(
        () => true,
        () => false,
      );
      counts[r.signal === 'SIGKILL' ? (pending ? 'killedPending' : 'killedOther') : 'finished']++;

      const again = await webtree(config, ['adopt']);
      expect(again.code, again.stderr).toBe(0);
      expect(await Promise.all(paths.map((p) => fs.readFile(p, 'utf8')))).toEqual(expected);
      // verify's one finding is ChartDirector's real directory, which adopt leaves alone.
      const v = await webtree(config, ['verify', '--json']);
      const findings = (JSON.parse(v.stdout).findings as { what: string; problem: string }[]).filter(
        (f) => !(f.what === 'ChartDirector' && / is a real directory where webtree keeps /.test(f.problem)),
      );
      expect(findings, `run ${i}: ${v.stdout}`).toEqual([]);
      await fs.rm(dir, { recursive: true, force: true });
    }
    console.log(`adopt kill test: ${RUNS} runs (uninterrupted adopt ${runMs} ms); ${JSON.stringify(counts)}`);
  }, 600_000);
});
