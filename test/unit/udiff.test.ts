/** The unified diff render --diff prints: its shape, and that GNU patch turns the old text into the new one. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { unifiedDiff } from '../../src/plan/udiff.js';

const lines = (...ls: string[]) => ls.map((l) => `${l}\n`).join('');

describe('unifiedDiff', () => {
  it('equal texts give nothing', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', 'f')).toBe('');
  });

  it('one changed line with three lines of context, removals before additions', () => {
    const a = lines('1', '2', '3', '4', '5', '6', '7', '8');
    const b = lines('1', '2', '3', '4', 'five', '6', '7', '8');
    expect(unifiedDiff(a, b, 'conf.d/TV.conf')).toBe(
      [
        '--- conf.d/TV.conf',
        '+++ conf.d/TV.conf',
        '@@ -2,7 +2,7 @@',
        ' 2',
        ' 3',
        ' 4',
        '-5',
        '+five',
        ' 6',
        ' 7',
        ' 8',
        '',
      ].join('\n'),
    );
  });

  it('a new file and a removed one', () => {
    expect(unifiedDiff(null, 'x\ny\n', 'f')).toBe('--- /dev/null\n+++ f\n@@ -0,0 +1,2 @@\n+x\n+y\n');
    expect(unifiedDiff('x\n', null, 'f')).toBe('--- f\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n');
  });

  it('GNU patch applies it: random edits of a config-sized file', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-udiff-'));
    try {
      let seed = 7;
      const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
      for (let round = 0; round < 25; round++) {
        const a = Array.from({ length: 20 + rnd(60) }, (_, i) => `line ${i % 7} ${rnd(3)}`);
        const b = [...a];
        for (let k = 0; k < 1 + rnd(6); k++) {
          const at = rnd(b.length + 1);
          const what = rnd(3);
          if (what === 0) b.splice(at, 0, `new ${k}`);
          else if (what === 1) b.splice(at, 1 + rnd(3));
          else b.splice(at, 1, `changed ${k}`);
        }
        const before = a.map((l) => `${l}\n`).join('');
        const after = b.map((l) => `${l}\n`).join('');
        const file = path.join(dir, 'f.conf');
        await fs.writeFile(file, before);
        const r = await execa('patch', ['--silent', '--force', file], {
          input: unifiedDiff(before, after, 'f.conf'),
          reject: false,
        });
        expect(r.exitCode, `${r.stdout}${r.stderr}`).toBe(0);
        expect(await fs.readFile(file, 'utf8')).toBe(after);
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
