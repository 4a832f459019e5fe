/**
 * What a person sees on a terminal and a script sees in a pipe: colour on errors and warnings
 * only on a TTY and never with NO_COLOR or --json; the progress bar only on a TTY, throttled,
 * cleared at the end, and nothing at all in a pipe or under --json. Run on a real pseudo-terminal.
 */
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { createReporter, type Streams } from '../../src/core/reporter.js';
import fs from 'node:fs/promises';
import { BIN, ensureBuilt, makeSandbox, ROOT } from '../helpers/cli.js';
import { onPty } from '../helpers/pty.js';

const ESC = '\x1b[';
const MISSING = ['--config', '/nonexistent/webtree.yaml', 'status'];
const CHILD = path.join(ROOT, 'test', 'fixtures', 'progress-child.mjs');
const DIST = path.join(ROOT, 'dist');

describe('colour', () => {
  it('an error on a terminal is red; the hint is plain', async () => {
    ensureBuilt();
    const r = await onPty([process.execPath, BIN, ...MISSING], { NO_COLOR: undefined });
    expect(r.exitCode).toBe(2);
    expect(r.output).toContain(`${ESC}1;31mwebtree: site file /nonexistent/webtree.yaml does not exist`);
    expect(r.output).toMatch(/\x1b\[0m\r?\n {2}hint: /);
  });

  it('NO_COLOR set (any non-empty value) turns it off on a terminal; NO_COLOR empty does not', async () => {
    const off = await onPty([process.execPath, BIN, ...MISSING], { NO_COLOR: '1' });
    expect(off.exitCode).toBe(2);
    expect(off.output).toContain('webtree: site file /nonexistent/webtree.yaml does not exist');
    expect(off.output).not.toContain(ESC);
    const empty = await onPty([process.execPath, BIN, ...MISSING], { NO_COLOR: '' });
    expect(empty.output).toContain(`${ESC}1;31m`);
  });

  it('--json on a terminal: the error is plain JSON, no colour', async () => {
    const r = await onPty([process.execPath, BIN, ...MISSING, '--json'], { NO_COLOR: undefined });
    expect(r.exitCode).toBe(2);
    expect(r.output).not.toContain(ESC);
    expect(JSON.parse(r.output)).toMatchObject({ error: { code: 'ESITE' }, exit: 2 });
  });

  it('in a pipe there is no colour', async () => {
    const r = await execa(process.execPath, [BIN, ...MISSING], { reject: false, env: { NO_COLOR: undefined } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^webtree: site file/);
    expect(r.stderr).not.toContain(ESC);
  });

  it('warnings follow the same rule (a reporter on a terminal, with and without NO_COLOR)', () => {
    const capture = (tty: boolean, env: NodeJS.ProcessEnv, json = false) => {
      let err = '';
      const streams: Streams = { out: () => {}, err: (s) => void (err += s), errIsTTY: tty };
      createReporter(json, streams, env).warn('TV has no licence');
      return err;
    };
    expect(capture(true, {})).toBe(`${ESC}33mwebtree: warning:${ESC}0m TV has no licence\n`);
    expect(capture(true, { NO_COLOR: 'yes' })).toBe('webtree: warning: TV has no licence\n');
    expect(capture(true, {}, true)).toBe('webtree: warning: TV has no licence\n');
    expect(capture(false, {})).toBe('webtree: warning: TV has no licence\n');
  });
});

describe('progress', () => {
  it('on a terminal: a bar with bytes and entries, at most ten redraws a second, cleared at done()', async () => {
    const r = await onPty([process.execPath, CHILD, DIST]);
    expect(r.exitCode).toBe(0);
    const end = r.output.indexOf('END ');
    expect(end).toBeGreaterThan(0);
    const bar = r.output.slice(0, end);
    const draws = bar.split('\runpacking TV 3.4  [').length - 1;
    // 200 updates a timer apart (2 ms asked, never under 1 ms): the bar lives 200 ms or more, so
    // it is drawn; a redraw
    // needs 100 ms since the last one (the first too), so however slowly this machine ran the
    // loop, the redraws are at most the bar's life in tenths of a second.
    const [, updates, lived] = /END (\d+) (\d+)/.exec(r.output)!.map(Number);
    expect(updates).toBe(200);
    expect(lived).toBeGreaterThanOrEqual(200);
    expect(draws).toBeGreaterThanOrEqual(1);
    expect(draws).toBeLessThanOrEqual(Math.floor(lived / 100));
    expect(bar).toMatch(
      /\runpacking TV 3\.4 {2}\[#*\.*\] +\d+% {2}\d+\.\d (KiB|MiB) \/ 7\.6 MiB {2}[\d,]+ entries\x1b\[K/,
    );
    // done() leaves an empty line behind: carriage return and erase, right before what follows.
    expect(bar.endsWith('\r\x1b[K')).toBe(true);
    // Never wider than the terminal (100 columns), so that \r can redraw it.
    for (const line of bar.split('\r').filter(Boolean)) expect(line.replace('\x1b[K', '').length).toBeLessThan(100);
  });

  it('webtree install on a terminal draws the unpacking bar and clears it; under --json it does not', async () => {
    const sb = await makeSandbox();
    try {
      // 12,000 small files: unpacking takes well over the bar's first 100 ms on any machine.
      const src = path.join(sb.dir, 'src');
      const top = path.join(src, 'tv-3.4');
      await fs.mkdir(path.join(top, 'product'), { recursive: true });
      await fs.writeFile(path.join(top, 'product', 'tv.wsgi'), 'def application(e, s):\n    pass\n');
      for (let d = 0; d < 40; d++) {
        await fs.mkdir(path.join(top, 'product', 'data', `d${d}`), { recursive: true });
        await Promise.all(
          Array.from({ length: 300 }, (_, i) =>
            fs.writeFile(path.join(top, 'product', 'data', `d${d}`, `f${i}`), `file ${d}/${i}\n`.repeat(40)),
          ),
        );
      }
      const archive = path.join(sb.dir, 'tv-3.4.tar.gz');
      await execa('tar', ['-czf', archive, '-C', src, 'tv-3.4']);
      const r = await onPty([process.execPath, BIN, '--config', sb.config, 'install', archive]);
      expect(r.exitCode, r.output).toBe(0);
      expect(r.output).toMatch(
        /\runpacking tv-3\.4\.tar\.gz {2}\[#*\.*\] +\d+% {2}\d+\.\d (KiB|MiB) {2}[\d,]+ entries\x1b\[K/,
      );
      // Cleared before the result line: nothing of the bar is left on the screen.
      expect(r.output).toMatch(/\r\x1b\[Kinstall TV 3\.4 and activate it: done/);

      const archive2 = path.join(sb.dir, 'tv-3.5.tar.gz');
      await fs.rename(path.join(src, 'tv-3.4'), path.join(src, 'tv-3.5'));
      await execa('tar', ['-czf', archive2, '-C', src, 'tv-3.5']);
      const json = await onPty([process.execPath, BIN, '--config', sb.config, 'install', archive2, '--json']);
      expect(json.exitCode, json.output).toBe(0);
      expect(json.output).not.toContain('unpacking');
      expect(JSON.parse(json.output.replace(/\r/g, ''))).toMatchObject({ product: 'TV', version: '3.5' });
    } finally {
      await sb.cleanup();
    }
  }, 180_000); // a hang guard only: 24,000 files made and unpacked take a minute on a loaded 2-core machine

  it('under --json on a terminal, and in a pipe: nothing at all', async () => {
    const json = await onPty([process.execPath, CHILD, DIST, '--json']);
    expect(json.exitCode).toBe(0);
    expect(json.output).toMatch(/^END \d+ \d+\s*$/);
    const pipe = await execa(process.execPath, [CHILD, DIST]);
    expect(pipe.stderr).toMatch(/^END \d+ \d+$/);
    expect(pipe.stdout).toBe('');
  });
});
