/** The progress line's throttle and text, on a clock the test moves. */
import { describe, expect, it } from 'vitest';
import { createProgress, formatBytes, progressLine } from '../../src/core/progress.js';

describe('createProgress', () => {
  it('draws at most once per 100 ms, cut to the terminal width, and clears the line once at done()', () => {
    let t = 0;
    const out: string[] = [];
    const p = createProgress('unpacking QE 2.1', { write: (s) => out.push(s), now: () => t, columns: 40 });
    for (let i = 1; i <= 1000; i++) {
      t = i; // 1000 updates over one second
      p.update({ bytes: i * 1000, entries: i });
    }
    expect(out.length).toBe(10);
    for (const s of out) {
      expect(s.startsWith('\runpacking QE 2.1  ')).toBe(true);
      expect(s.endsWith('\x1b[K')).toBe(true);
      expect(s.length - '\r\x1b[K'.length).toBeLessThanOrEqual(39);
    }
    p.done();
    p.done();
    p.update({ bytes: 1, entries: 1 });
    expect(out.slice(10)).toEqual(['\r\x1b[K']);
  });

  it('work shorter than one interval draws nothing and clears nothing', () => {
    let t = 0;
    const out: string[] = [];
    const p = createProgress('x', { write: (s) => out.push(s), now: () => t });
    t = 50;
    p.update({ bytes: 10, entries: 1 });
    p.done();
    expect(out).toEqual([]);
  });

  it('the line: a bar and a percentage when the total is known, bytes and entries always', () => {
    expect(
      progressLine('unpacking TV 3.4', { bytes: 3 * 1024 * 1024, entries: 1234, totalBytes: 12 * 1024 * 1024 }),
    ).toBe('unpacking TV 3.4  [######..................]  25%  3.0 MiB / 12.0 MiB  1,234 entries');
    expect(progressLine('unpacking EXPO', { bytes: 512, entries: 1 })).toBe('unpacking EXPO  512 B  1 entry');
    // The unpacked total is known only at the end: the bar follows how much of the archive was read.
    expect(progressLine('unpacking tv-3.4.tar.gz', { bytes: 5 * 1024 * 1024, entries: 80, fraction: 0.5 })).toBe(
      'unpacking tv-3.4.tar.gz  [############............]  50%  5.0 MiB  80 entries',
    );
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(120 * 1024 ** 3)).toBe('120.0 GiB');
  });
});
