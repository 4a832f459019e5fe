/**
 * A state file's text is checked and decoded by buffer's isUtf8 and toString (src/core/state-file.ts):
 * the same answer as the fatal TextDecoder it replaced, on seeded random bytes around UTF-8's edges
 * (BOMs, surrogates, overlong and cut-short sequences, the largest code points), in real files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isDamaged, readStateTextSync } from '../../src/core/state-file.js';
import { FUZZ_CASES, FUZZ_SEED, prng } from '../helpers/prng.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'webtree-state-text-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const spec = { what: 'a test file', fix: 'none' };

/** What the fatal TextDecoder made of the bytes (undefined: not UTF-8), NUL refused as before. */
function decoderText(b: Buffer): string | undefined {
  if (b.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b);
  } catch {
    return undefined;
  }
}

describe('state file text', () => {
  it(`reads as the fatal TextDecoder did, or refuses as binary (seed ${FUZZ_SEED})`, () => {
    const r = prng(FUZZ_SEED);
    const pieces = [
      [0xef, 0xbb, 0xbf], // BOM
      [0xed, 0xa0, 0x80], // a surrogate
      [0xc0, 0x80], // overlong NUL
      [0xe0, 0x80, 0x80], // overlong
      [0xf4, 0x8f, 0xbf, 0xbf], // U+10FFFF
      [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
      [0xe2, 0x82], // cut short
      [0xe2, 0x82, 0xac], // €
      [0xf0, 0x9f, 0x98, 0x80], // 😀
      [0x80],
      [0xff],
      [0x00],
      [0x0a],
      [0x7b, 0x22, 0x61, 0x22, 0x7d], // {"a"}
    ];
    const file = path.join(dir, 'f');
    for (let c = 0; c < FUZZ_CASES / 10; c++) {
      const bytes: number[] = [0x61];
      for (let i = r.int(0, 8); i > 0; i--) bytes.push(...(r.chance(0.2) ? [r.int(0, 255)] : r.pick(pieces)));
      const b = Buffer.from(bytes);
      fs.writeFileSync(file, b);
      const want = decoderText(b);
      let got: string | undefined;
      try {
        got = readStateTextSync(file, spec);
      } catch (err) {
        if (!isDamaged(err) || !/binary data/.test(err.problem)) throw err;
        got = undefined;
      }
      expect(got, b.toString('hex')).toBe(want);
    }
  });
});
