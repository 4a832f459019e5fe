/**
 * kill -9 at random moments of an `apply` that changes three products (TV, dbiapp_pylib, QE):
 * some while it fetches from a slow HTTPS server, some inside the one change. After each kill
 * the next changing command settles the change and `verify` finds the tree clean, and the three
 * products are ALL at the old versions or ALL at the new ones, never some of each.
 *
 * Kills: WEBTREE_APPLY_KILL_ROUNDS (CI default 25; the issue's "at least 100 kills" is
 * WEBTREE_APPLY_KILL_ROUNDS=100, a few minutes). Only an apply the SIGKILL actually ended counts:
 * one that finished first is a round more, not a kill. The counts are printed at the end
 * ("apply kill rounds: {...}"), also when an assertion fails.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { makeSandbox, type Sandbox } from '../helpers/cli.js';
import { makePki, startArchiveServer, type ArchiveServer, type Pki } from './https-server.js';

const KILLS = Number(process.env.WEBTREE_APPLY_KILL_ROUNDS ?? 25);
const PRODUCTS = ['TV', 'dbiapp_pylib', 'QE'];
const POINTERS: Record<string, string> = {
  TV: 'dbwebtools/tv/current',
  dbiapp_pylib: 'dbwebtools/webpylib/dbiapp_pylib',
  QE: 'dbwebtools/QEngine/current',
};

let sb: Sandbox;
let pki: Pki;
let srv: ArchiveServer;
const files: Record<string, Buffer> = {};
const site = (...p: string[]) => path.join(sb.dir, 'site', ...p);

/** The version each product's pointer names (dbiapp_pylib_7/lib -> 7). */
async function versions(): Promise<string[]> {
  return Promise.all(
    PRODUCTS.map(async (p) => {
      const t = await fs.readlink(site(POINTERS[p]));
      return /(?:^|_)([0-9]+)(?:\/lib)?$/.exec(t)?.[1] ?? t;
    }),
  );
}

/** A release of version v of the three, by URL (fetched) or by path. */
async function release(v: number, byUrl: boolean): Promise<string> {
  const lines = ['products:'];
  for (const p of PRODUCTS) {
    const f = await writeSampleArchive(path.join(sb.dir, 'archives'), p, String(v), {
      'padding.bin': randomBytes(450_000).toString('base64'),
    });
    const body = await fs.readFile(f);
    files[path.basename(f)] = body;
    const sha = createHash('sha256').update(body).digest('hex');
    lines.push(
      `  ${p}: { version: "${v}", archive: "${byUrl ? `${srv.base}/slow/${path.basename(f)}` : f}", sha256: "${sha}" }`,
    );
  }
  const file = path.join(sb.dir, `release-${v}.yaml`);
  await fs.writeFile(file, lines.join('\n') + '\n');
  return file;
}

beforeAll(async () => {
  sb = await makeSandbox();
  await fs.mkdir(path.join(sb.dir, 'archives'));
  pki = await makePki();
  srv = await startArchiveServer(pki, files);
  const first = await sb.run(['apply', await release(1, false)]);
  expect(first.exitCode, first.stderr).toBe(0);
}, 180_000);
afterAll(async () => {
  await srv?.close();
  await sb?.cleanup();
  if (pki) await fs.rm(pki.dir, { recursive: true, force: true });
});

describe('kill -9 during apply of three products', () => {
  it(
    `leaves all-old or all-new after the next command, ${KILLS} kills`,
    async () => {
      const env = { NODE_EXTRA_CA_CERTS: pki.ca, WEBTREE_TEST_OP_DELAY_MS: '15' };
      // How long a whole apply (fetch included) runs on this machine, to aim the kills across all of it.
      const t0 = Date.now();
      const whole = await sb.run(['apply', await release(2, true)], env);
      expect(whole.exitCode, whole.stderr).toBe(0);
      let span = Math.round((Date.now() - t0) * 1.1);
      let old = 2;
      let next = 3;
      // rounds: applies started; kills: those the SIGKILL ended (fetching: during a download);
      // finished: done before the kill landed; old/new: where the three products were after a kill.
      const outcome = { rounds: 0, kills: 0, fetching: 0, finished: 0, old: 0, new: 0 };
      const said = () => `apply kill rounds: ${JSON.stringify(outcome)}`;
      try {
        for (let round = 0; outcome.kills < KILLS && round < KILLS * 2 + 10; round++) {
          outcome.rounds++;
          const byUrl = round % 2 === 0;
          const file = await release(next, byUrl);
          const child = sb.spawn(['apply', file], env);
          const started = Date.now();
          // Every fourth round (by URL) waits for the download to be in flight, so kills during a fetch happen
          // however fast the machine fetches; the other rounds aim at random moments across the whole apply.
          // Every fourth round by path waits for the commit (TV's new version renamed into place) and
          // kills right after it, so kills inside the change after its commit happen on any machine.
          if (byUrl && round % 4 === 0) {
            const until = Date.now() + span;
            while (srv.inFlight() === 0 && Date.now() < until) await sleep(2);
          } else if (round % 4 === 1) {
            const until = Date.now() + span;
            while (
              !(await fs.access(site('dbwebtools/tv', String(next))).then(
                () => true,
                () => false,
              )) &&
              Date.now() < until
            )
              await sleep(2);
          } else await sleep(randomInt(50, span));
          const wasFetching = srv.inFlight() > 0;
          child.kill('SIGKILL');
          const r = await child;
          const killed = r.signal === 'SIGKILL';
          if (!killed) {
            expect(r.exitCode, `round ${round}: ${String(r.stderr)}`).toBe(0);
            outcome.finished++;
            span = Math.max(span, Date.now() - started); // finished first: aim later next time
          } else {
            outcome.kills++;
            if (wasFetching) outcome.fetching++;
          }
          // The next changing command settles the interrupted change; verify then finds the tree clean.
          const settle = await sb.run(['prune', '--cache']);
          expect(settle.exitCode, `round ${round}: ${settle.stderr}`).toBe(0);
          const v = await sb.run(['verify']);
          expect(v.exitCode, `round ${round} verify: ${v.stdout}${v.stderr}`).toBe(0);
          const now = await versions();
          expect(new Set(now).size, `round ${round}: products split between versions ${now.join(', ')}`).toBe(1);
          expect([String(old), String(next)]).toContain(now[0]);
          for (const p of ['dbwebtools/tv', 'dbwebtools/QEngine', 'dbwebtools/webpylib']) {
            expect(
              (await fs.readdir(site(p))).filter((n) => n.startsWith('.webtree-')),
              `round ${round}: leftovers in ${p}`,
            ).toEqual([]);
          }
          await expect(fs.access(site('www/state/journal.json')), `round ${round}: journal left`).rejects.toThrow();
          if (now[0] === String(next)) {
            if (killed) outcome.new++;
            old = next;
          } else {
            expect(killed, `round ${round}: a finished apply left the old versions`).toBe(true);
            outcome.old++;
          }
          next++;
        }
      } finally {
        console.log(said());
      }
      expect(outcome.kills, said()).toBe(KILLS);
      // Kills that land everywhere: before the change, inside it or after it, and during fetches.
      expect(outcome.old, said()).toBeGreaterThan(0);
      expect(outcome.new, said()).toBeGreaterThan(0);
      if (KILLS >= 20) expect(outcome.fetching, said()).toBeGreaterThan(0);
    },
    Math.max(900_000, KILLS * 60_000),
  ); // a minute a kill at most, on a loaded machine
});
