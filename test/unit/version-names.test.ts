/**
 * A version read from a directory name or a link's target under a product's pattern
 * (src/catalog/paths.ts, `{v}` in `ChartDirector-{v}`) is found by comparing the text around {v}
 * and testing the middle: the same answers as the regular expression it replaced, on seeded
 * random patterns and names built from the patterns' own pieces.
 */
import { describe, expect, it } from 'vitest';
import { versionFromDirName, versionFromPointer } from '../../src/catalog/paths.js';
import type { ProductDescriptor } from '../../src/catalog/types.js';
import { escapeRe } from '../../src/core/regex.js';
import { FUZZ_CASES, FUZZ_SEED, prng } from '../helpers/prng.js';

/** What the regular expression made of the name (the reference). */
function byRegex(pattern: string, text: string): string | undefined {
  const [before, after] = pattern.split('{v}');
  const re = new RegExp(`^${escapeRe(before)}([A-Za-z0-9][A-Za-z0-9._+-]*)${escapeRe(after ?? '')}$`);
  return re.exec(text)?.[1];
}

const product = (pattern: string) => ({ versionDir: pattern, pointer: { target: pattern } }) as ProductDescriptor;

describe('versions in names', () => {
  it(`match as the regular expression did (seed ${FUZZ_SEED})`, () => {
    const r = prng(FUZZ_SEED);
    const pieces = [
      '',
      'a',
      'tv',
      '-',
      '_',
      '.',
      '+',
      '1',
      '0.1',
      'v1_4a',
      '3.3a',
      '{v}',
      '-{v}',
      ' ',
      '/',
      '*',
      '(',
      'é',
      'x.y',
    ];
    const patterns = [
      '{v}',
      'ChartDirector-{v}',
      'dbiapp_pylib_{v}',
      'wsgi_py_{v}',
      'a{v}b',
      '{v}.d',
      'x.{v}',
      '{v}{v}',
      '{v}-{v}x',
    ];
    let found = 0;
    for (let c = 0; c < FUZZ_CASES * 3; c++) {
      const pattern = r.chance(0.7)
        ? r.pick(patterns)
        : `${r.pick(pieces)}{v}${r.pick(pieces)}`.replace('{v}{v}', '{v}x');
      const [before, after = ''] = pattern.split('{v}');
      let text = '';
      for (let i = r.int(0, 4); i > 0; i--) text += r.pick(pieces).replace('{v}', r.pick(['3.4', '']));
      if (r.chance(0.6)) text = before + text + after;
      const want = byRegex(pattern, text);
      expect(versionFromPointer(product(pattern), text), `${pattern} ${JSON.stringify(text)}`).toBe(want);
      const dir = text.startsWith('.') || want === undefined || !/\d/.test(want) ? undefined : want;
      expect(versionFromDirName(product(pattern), text), `${pattern} ${JSON.stringify(text)}`).toBe(dir);
      if (want !== undefined) found++;
    }
    expect(found).toBeGreaterThan(FUZZ_CASES / 10); // the cases held names that are versions too
  });
});
