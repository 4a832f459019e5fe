/**
 * The result goes to descriptor 1 with write(2) (src/core/reporter.ts), not through a stream made
 * for it: the output must stay whole and in order where a plain write cannot finish (a pipe another
 * process made non-blocking and that is full: EAGAIN), and a reader that went away (EPIPE, as in
 * `webtree history | head`) must end the output quietly, not in an unhandled stream error, and
 * any other failure (a full disk) must be said once, with exit 1.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, makeSandbox, ROOT, type Sandbox } from '../helpers/cli.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await makeSandbox();
}, 60_000);
afterAll(() => sb?.cleanup());

describe('stdout', () => {
  it('a full, non-blocking pipe: the whole output, after what was already in the pipe', async () => {
    const plain = await sb.run(['status', '--json']);
    expect(plain.exitCode, plain.stderr).toBe(0);
    // --debug's last line ("status: done") comes after the result was written.
    const r = await execa(
      path.join(ROOT, 'test', 'fixtures', 'full-pipe.py'),
      ['status: done', process.execPath, BIN, '--config', sb.config, 'status', '--json', '--debug'],
      { reject: false, timeout: 60_000 },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as { code: number; filler: number; head: number; out: string; err: string };
    expect(got.filler).toBeGreaterThan(0);
    expect(got.head).toBe(got.filler);
    expect(got.code, got.err).toBe(0);
    expect(got.err).not.toMatch(/EAGAIN|Error/);
    expect(JSON.parse(got.out)).toEqual(JSON.parse(plain.stdout));
  }, 60_000);

  it('a full disk (/dev/full): said once on stderr, no stack trace, exit 1', async () => {
    const full = fs.openSync('/dev/full', 'w');
    try {
      for (const args of [['status'], ['status', '--json']]) {
        const child = spawn(process.execPath, [BIN, '--config', sb.config, ...args], {
          stdio: ['ignore', full, 'pipe'],
        });
        let err = '';
        child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
        expect(code, err).toBe(1);
        expect(err).toBe(
          'webtree: the output could not be written to stdout (ENOSPC); the command ran to its end\n' +
            '  hint: free space where stdout goes, or send it elsewhere\n',
        );
      }
    } finally {
      fs.closeSync(full);
    }
  }, 60_000);

  it('a reader that went away: no error, the command exits as it would have', async () => {
    const child = spawn(process.execPath, [BIN, '--config', sb.config, 'status'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy(); // closed before the command writes a byte
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(err).toBe('');
    expect(code).toBe(0);
  }, 60_000);
});
