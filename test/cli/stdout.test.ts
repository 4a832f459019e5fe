/**
 * The result goes to descriptor 1 with write(2) (src/core/reporter.ts), not through a stream made
 * for it: the output must stay whole and in order where a plain write cannot finish (a pipe another
 * process made non-blocking and that is full: EAGAIN), and a reader that went away (EPIPE, as in
 * `webtree history | head`) must end the output quietly, not in an unhandled stream error, and
 * any other failure (a full disk) must be said once, with exit 1. stderr goes by the same writer:
 * a closed stderr must not stop a change in flight, and a full one must lose, repeat or reorder
 * nothing (a write(2) that writes part of its bytes returns the count, and the rest follows).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleArchive } from '../../src/demo/samples.js';
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

  it('stderr closed under --debug: an install runs to its end, nothing left to recover', async () => {
    const archive = await writeSampleArchive(sb.dir, 'TV', '3.4');
    const child = spawn(process.execPath, [BIN, '--config', sb.config, 'install', archive, '--debug'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr.destroy(); // closed before the first --debug line
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, out).toBe(0);
    expect(out).toContain('install TV 3.4 and activate it: done');
    const st = await sb.json(['status']);
    expect(st.pending).toBeNull();
    expect(st.products.find((p: { name: string }) => p.name === 'TV')).toMatchObject({ current: '3.4' });
  }, 60_000);

  it("stderr closed under --debug: status (the front door's line too) prints whole, exit 0", async () => {
    const child = spawn(process.execPath, [BIN, '--config', sb.config, 'status', '--debug'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr.destroy(); // closed before src/launch.ts's "read.cjs loaded" line
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, out).toBe(0);
    expect(out).toMatch(/^product +current/m);
  }, 60_000);

  // The writer itself, in a process of its own, on a real non-blocking pipe: one page free, so the
  // first write(2) of the big line writes 4096 bytes and returns that count, the next meets EAGAIN.
  for (const [fd, other] of [
    ['stderr', 'out'],
    ['stdout', 'err'],
  ] as const)
    it(`${fd}: a write cut short, then EAGAIN: every byte once, in order, after what the pipe held`, async () => {
      const reporter = pathToFileURL(path.join(ROOT, 'dist', 'core', 'reporter.js')).href;
      const to = fd === 'stderr' ? 'err' : 'out';
      const script = [
        `const { processStreams: s } = await import(${JSON.stringify(reporter)});`,
        `s.${to}('a'.repeat(10000) + '\\n');`,
        `s.${to}('b'.repeat(100) + '\\n');`,
        `s.${other}('written\\n');`,
        `s.${to}('tail\\n');`,
      ].join('\n');
      const r = await execa(
        path.join(ROOT, 'test', 'fixtures', 'full-pipe.py'),
        [
          ...(fd === 'stderr' ? ['--stderr'] : []),
          '--free',
          '4096',
          'written',
          process.execPath,
          '--input-type=module',
          '-e',
          script,
        ],
        { reject: false, timeout: 60_000 },
      );
      expect(r.exitCode, r.stderr).toBe(0);
      const got = JSON.parse(r.stdout) as { code: number; filler: number; head: number; out: string; err: string };
      expect(got.code, got.err).toBe(0);
      expect(got.filler).toBeGreaterThan(0);
      expect(got.head).toBe(got.filler);
      expect(got.out).toBe(`${'a'.repeat(10000)}\n${'b'.repeat(100)}\ntail\n`);
      expect(got.err).toBe('written\n');
    }, 60_000);

  it('stderr a full, non-blocking pipe under --debug: an install runs to its end, every line once and in order', async () => {
    const archive = await writeSampleArchive(sb.dir, 'TV', '3.3a');
    const r = await execa(
      path.join(ROOT, 'test', 'fixtures', 'full-pipe.py'),
      [
        '--stderr',
        // TV 3.4 is current (the test above): "install TV 3.3a and activate it (was 3.4): done".
        'install TV 3.3a and activate it',
        ...sb.argv(['install', archive, '--debug']),
      ],
      { reject: false, timeout: 120_000 },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as { code: number; filler: number; head: number; out: string; err: string };
    // Here `out` is what went to the full pipe (stderr), `err` the command's stdout.
    expect(got.code, got.out).toBe(0);
    expect(got.head).toBe(got.filler);
    expect(got.err).toMatch(/^install TV 3\.3a and activate it.*: done$/m);
    const lines = got.out.split('\n').filter((l) => l);
    // Every line a --debug line (milliseconds, then the text), none cut or doubled, the clock never going back.
    for (const l of lines) expect(l).toMatch(/^ *\d+ ms {2}\S/);
    const ms = lines.map((l) => Number(l.trim().split(' ')[0]));
    expect(ms).toEqual([...ms].sort((a, b) => a - b));
    expect(lines.filter((l) => /install: started/.test(l))).toHaveLength(1);
    expect(lines.at(-1)).toMatch(/ install: done$/);
    const st = await sb.json(['status']);
    expect(st.pending).toBeNull();
    expect(st.products.find((p: { name: string }) => p.name === 'TV')).toMatchObject({ current: '3.3a' });
  }, 120_000);

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
