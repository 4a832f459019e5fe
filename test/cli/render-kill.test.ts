/**
 * A render killed between its file writes: the next command finishes it (the files passed
 * httpd -t together; a mix of old and new never did), never reports it undone. Then render
 * killed at random moments, again and again: after each kill the next command (verify) finishes
 * or undoes it by itself and finds the tree clean, and every generated file is the one
 * rendered.json records (all old or all new). WEBTREE_RENDER_KILL_ROUNDS sets the count (16).
 */
import { randomInt } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
import { sha256 } from '../../src/plan/render.js';
import { makeSandbox, type Sandbox } from '../helpers/cli.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await makeSandbox();
  for (const [p, v] of [
    ['TV', '3.3a'],
    ['QE', '2.0'],
  ])
    expect((await sb.run(['install', await writeSampleArchive(sb.dir, p, v)])).exitCode).toBe(0);
});
afterAll(async () => sb.cleanup());

describe('render killed mid-write', () => {
  it('is finished by the next command: every file new, rendered.json written, nothing pending', async () => {
    const journal = path.join(sb.dir, 'site/www/state/journal.json');
    const child = sb.spawn(['render'], { WEBTREE_TEST_OP_DELAY_MS: '150' });
    // wait until some files are written (the journal exists and conf/httpd.conf is there), then kill
    for (let i = 0; i < 200; i++) {
      const started = await fs.access(journal).then(
        () => true,
        () => false,
      );
      const some = await fs.access(path.join(sb.dir, 'site/www/conf/httpd.conf')).then(
        () => true,
        () => false,
      );
      if (started && some) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await child;
    expect(
      await fs.access(journal).then(
        () => true,
        () => false,
      ),
      'the kill landed before the render finished',
    ).toBe(true);
    // Reads only report an interrupted change; `webtree recover` finishes it: then nothing is pending.
    const d = await sb.run(['render', '--diff']);
    expect(d.stderr).toMatch(/a change is pending.*webtree recover/s);
    const r = await sb.run(['recover']);
    expect(r.stdout + r.stderr).toMatch(/render/);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await sb.run(['render', '--diff'])).exitCode).toBe(0);
    expect((await sb.run(['status'])).exitCode).toBe(0);
    expect(
      JSON.parse(await fs.readFile(path.join(sb.dir, 'site/www/state/rendered.json'), 'utf8')).files,
    ).toHaveProperty([path.join(sb.dir, 'site/www/conf/httpd.conf')]);
    const last = (await sb.json(['history'])).entries.at(-1);
    expect(last).toMatchObject({ action: 'render', outcome: 'recovered' });
    expect((await sb.run(['verify'])).exitCode).toBe(0);
  });
});

const ROUNDS = Number(process.env.WEBTREE_RENDER_KILL_ROUNDS ?? 16);

describe('render killed at random moments', () => {
  const www = () => path.join(sb.dir, 'site/www');
  const journal = () => path.join(www(), 'state/journal.json');
  const listenIn = async () =>
    /^Listen \S+:(\d+)$/m.exec(await fs.readFile(path.join(www(), 'conf/httpd.conf'), 'utf8'))?.[1];

  /** Every file rendered.json names holds the bytes it records: the render is whole, old or new. */
  async function wholeRender(what: string): Promise<void> {
    const files = JSON.parse(await fs.readFile(path.join(www(), 'state/rendered.json'), 'utf8')).files as Record<
      string,
      string
    >;
    for (const [p, sum] of Object.entries(files))
      expect(sha256(await fs.readFile(p, 'utf8')), `${what}: ${p}`).toBe(sum);
  }

  it(`${ROUNDS} kills: verify after each is clean, and the files are all old or all new`, async () => {
    expect((await sb.run(['render'])).exitCode).toBe(0);
    const t0 = Date.now();
    expect((await sb.run(['render', '--diff'])).exitCode).toBe(0);
    const span = Date.now() - t0 + 400; // a render runs httpd -t as well: kills spread a little past a read's time
    const counts = { notInApply: 0, midApply: 0, finished: 0 };
    let port = Number(await listenIn());
    for (let i = 0; i < ROUNDS; i++) {
      // The next render has work: the site file's port changes every round.
      const next = port === 18080 ? 18081 : 18080;
      const text = await fs.readFile(sb.config, 'utf8');
      await fs.writeFile(sb.config, text.replace(/^(\s*listen: 127\.0\.0\.1:)\d+$/m, `$1${next}`));
      // Even rounds after a random delay; odd rounds as the executor announces its k-th operation.
      const child = sb.spawn(
        ['render', ...(i % 2 ? ['--debug'] : [])],
        i % 2 ? { WEBTREE_TEST_OP_DELAY_MS: '20' } : {},
      );
      if (i % 2 === 0) setTimeout(() => child.kill('SIGKILL'), randomInt(100, span));
      else {
        const k = randomInt(1, 5);
        let seen = 0;
        child.stderr!.on('data', (b: Buffer) => {
          seen += String(b)
            .split('\n')
            .filter((l) => l.startsWith('  ') && !l.startsWith('  at')).length;
          if (seen >= k) child.kill('SIGKILL');
        });
      }
      const r = await child;
      const pending = await fs.access(journal()).then(
        () => true,
        () => false,
      );
      counts[r.signal !== 'SIGKILL' ? 'finished' : pending ? 'midApply' : 'notInApply']++;
      const seenPort = Number(await listenIn());
      expect([port, next]).toContain(seenPort);

      // Reads never finish a change (README): recover does, then verify must be clean.
      const rec = await sb.run(['recover']);
      expect(rec.exitCode, `recover after render round ${i}: ${rec.stdout}${rec.stderr}`).toBe(0);
      const v = await sb.run(['verify']);
      expect(v.exitCode, `verify after render round ${i}: ${v.stdout}${v.stderr}`).toBe(0);
      expect(
        await fs.access(journal()).then(
          () => true,
          () => false,
        ),
      ).toBe(false);
      await wholeRender(`round ${i}`);
      const now = Number(await listenIn());
      // A render killed once a file was written is finished, never undone; one killed before its first
      // write is undone (old files); with no journal left the files stay as the kill left them.
      if (r.signal !== 'SIGKILL' || seenPort === next) expect(now).toBe(next);
      else if (pending) expect([port, next]).toContain(now);
      else expect(now).toBe(seenPort);
      port = now;
    }
    expect(counts.midApply, 'some kills landed inside the writes').toBeGreaterThan(0);
    console.log(`render kills: ${JSON.stringify(counts)} over ${ROUNDS} rounds`);
  }, 300_000);
});
