/**
 * eachStateLineSync (src/core/state-file.ts) reads a state file in blocks and gives it line by
 * line: the same lines, the same last-line flag and the same refusals as reading the file whole
 * with readStateTextSync and splitting it, on seeded random files that cross the 64 kB block in
 * every way (a line cut by the block, a line longer than two blocks, binary bytes in a later block,
 * no newline at the end).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eachStateLineSync, isDamaged, readStateTextSync } from '../../src/core/state-file.js';
import { FUZZ_CASES, FUZZ_SEED, prng, type Rng } from '../helpers/prng.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'webtree-state-lines-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const spec = { what: 'a test file', fix: 'none' };

type Read = { lines: [string, number, boolean][] } | { problem: string } | { missing: true };

function whole(file: string): Read {
  try {
    const text = readStateTextSync(file, spec);
    if (text === undefined) return { missing: true };
    const parts = text.split('\n');
    // The empty segment after a final newline is no line.
    if (parts[parts.length - 1] === '') parts.pop();
    return { lines: parts.map((l, i) => [l, i + 1, i === parts.length - 1 && !text.endsWith('\n')]) };
  } catch (err) {
    if (!isDamaged(err)) throw err;
    return { problem: err.problem };
  }
}

function byBlocks(file: string): Read {
  const lines: [string, number, boolean][] = [];
  try {
    const found = eachStateLineSync(file, spec, (buf, start, end, n, last) =>
      lines.push([buf.toString('utf8', start, end), n, last]),
    );
    return found ? { lines } : { missing: true };
  } catch (err) {
    if (!isDamaged(err)) throw err;
    return { problem: err.problem };
  }
}

function randomFile(r: Rng): Buffer {
  const parts: Buffer[] = [];
  const size = r.pick([0, 10, 200, 60_000, 70_000, 140_000, 300_000]);
  let n = 0;
  while (n < size) {
    const len = r.chance(0.02) ? r.int(65_000, 200_000) : r.int(0, 400);
    let line = Buffer.alloc(len, r.pick(['{', 'a', ' ', 'é'.normalize()]));
    if (r.chance(0.3)) line = Buffer.from(`{"x":"${'€'.repeat(r.int(0, 50))}"}`);
    if (r.chance(0.01)) line = Buffer.concat([line, Buffer.from([r.pick([0x00, 0xff, 0xc3])])]);
    parts.push(line, Buffer.from(r.chance(0.05) ? '\r\n' : '\n'));
    n += line.length + 1;
  }
  if (parts.length && r.chance(0.4)) parts.pop(); // no newline at the end
  return Buffer.concat(parts);
}

describe('eachStateLineSync', () => {
  it(`gives the lines of readStateTextSync, or refuses as it does (seed ${FUZZ_SEED})`, () => {
    const r = prng(FUZZ_SEED);
    const file = path.join(dir, 'f');
    const seen = new Set<string>();
    for (let c = 0; c < Math.max(60, FUZZ_CASES / 25); c++) {
      const b = randomFile(r);
      fs.writeFileSync(file, b);
      const want = whole(file);
      expect(byBlocks(file), `case ${c}, ${b.length} bytes`).toEqual(want);
      seen.add('problem' in want ? want.problem : 'lines' in want ? 'lines' : 'missing');
    }
    // The cases reached both answers: lines, and refusals (empty, binary).
    expect(seen).toContain('lines');
    expect(seen).toContain('holds binary data, not text');
  });

  it('a missing file, an empty one and a directory: as readStateTextSync says', () => {
    const missing = path.join(dir, 'missing');
    expect(byBlocks(missing)).toEqual({ missing: true });
    const empty = path.join(dir, 'empty');
    fs.writeFileSync(empty, '');
    expect(byBlocks(empty)).toEqual({ problem: 'is empty' });
    expect(byBlocks(dir)).toEqual(whole(dir));
    expect(byBlocks(dir)).toEqual({ problem: 'is a directory, not a file' });
  });

  it('a line cut by the block boundary and a line of 200 kB come whole', () => {
    const file = path.join(dir, 'long');
    const a = 'a'.repeat(65_530);
    const b = `{"b":"${'€'.repeat(10)}"}`; // crosses 64 kB, with multi-byte characters across it
    const c = 'c'.repeat(200_000);
    fs.writeFileSync(file, `${a}\n${b}\n${c}`);
    expect(byBlocks(file)).toEqual({
      lines: [
        [a, 1, false],
        [b, 2, false],
        [c, 3, true],
      ],
    });
  });
});
