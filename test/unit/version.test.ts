import { describe, expect, it } from 'vitest';
import { compareVersions, sortByParts, sortVersions, versionProblem } from '../../src/catalog/version.js';
import { FUZZ_CASES, FUZZ_SEED, prng } from '../helpers/prng.js';

describe('version order', () => {
  const table: [string, '<' | '=' | '>', string][] = [
    ['3.3a', '<', '3.3b'],
    ['3.3b', '<', '3.4'],
    ['3.4', '<', '3.10'],
    ['3.3', '<', '3.3a'],
    ['1.5d', '<', '1.6'],
    ['1.5c', '<', '1.5d'],
    ['v1_4a', '<', 'v1_5a'],
    ['v1_4a', '>', 'v1_4'],
    ['v1_10', '>', 'v1_9b'],
    ['5.0.2', '<', '5.0.10'],
    ['5.0.2', '>', '5.0'],
    ['4.9', '<', '5.0.2'],
    ['1.1', '=', '1.1'],
    ['2.0', '<', '10.0'],
    // Release candidates, alphas and betas come before their release; other letters after.
    ['3.10-rc1', '<', '3.10'],
    ['3.10rc2', '<', '3.10'],
    ['3.10-rc1', '<', '3.10-rc2'],
    ['3.10-beta1', '<', '3.10-rc1'],
    ['3.10-alpha', '<', '3.10-beta'],
    ['3.10-rc1', '>', '3.9'],
    ['3.10', '<', '3.10.1'],
    ['3.10-rc1', '<', '3.10.1'],
    ['2.0beta', '<', '2.0'],
    ['3.3', '<', '3.3b'],
  ];
  it.each(table)('%s %s %s', (a, rel, b) => {
    const c = compareVersions(a, b);
    expect(Math.sign(c)).toBe(rel === '<' ? -1 : rel === '>' ? 1 : 0);
    expect(Math.sign(compareVersions(b, a))).toBe(-Math.sign(c) || 0);
  });

  it('sorts release candidates before their release', () => {
    expect(sortVersions(['3.10', '3.10-rc1', '3.9', '3.10-beta2', '3.10.1'])).toEqual([
      '3.9',
      '3.10-beta2',
      '3.10-rc1',
      '3.10',
      '3.10.1',
    ]);
  });

  it('sorts a mixed list', () => {
    expect(sortVersions(['3.10', '3.3b', '3.4', '3.3a', '3.3'])).toEqual(['3.3', '3.3a', '3.3b', '3.4', '3.10']);
  });

  it('v1_4a and 1.4a order the same but stay distinct', () => {
    expect(compareVersions('v1_4a', '1.4a')).not.toBe(0);
    expect(sortVersions(['v1_5a', '1.4a', 'v1_4'])).toEqual(['v1_4', '1.4a', 'v1_5a']);
  });

  it.each([['3.3"a'], ['a b'], ['../x'], ['current'], [''], ['x\ny'], ["1.0'"]])('refuses %j as a version', (v) => {
    expect(versionProblem(v)).toBeTruthy();
  });
  it.each([['3.3a'], ['v1_4a'], ['5.0.2'], ['1.5d'], ['2026-11-28']])('accepts %j', (v) => {
    expect(versionProblem(v)).toBeUndefined();
  });

  // sortVersions sorts by string keys where it can (no pre-release word, no number past 15
  // digits); the keys must give compareParts's order exactly, or status would list otherwise.
  it(`sorts by its keys as by compareVersions, on seeded random versions (seed ${FUZZ_SEED})`, () => {
    const r = prng(FUZZ_SEED);
    const run = () =>
      r.chance(0.3)
        ? r.pick(['a', 'b', 'B', 'z', 'ab', 'rcx', 'Alpha2', 'devx', 'x', 'post', 'p'])
        : r.pick(['0', '00', '1', '01', '2', '9', '10', '010', '123', '999999999999999', '1000000000000000']);
    const version = (pre: boolean) => {
      let v = r.chance(0.1) ? r.pick(['v', 'V']) : '';
      const n = r.int(1, 5);
      for (let i = 0; i < n; i++) {
        v += i && r.chance(0.6) ? r.pick(['.', '_', '-', '+', '']) : '';
        v += pre && r.chance(0.1) ? r.pick(['rc', 'beta', 'dev', 'RC', 'alpha', 'pre']) : run();
      }
      return /\d/.test(v) ? v : `${v}1`;
    };
    for (let c = 0; c < FUZZ_CASES / 30; c++) {
      const pre = c % 3 === 0;
      const vs = Array.from({ length: r.int(2, 60) }, () => version(pre));
      expect(sortVersions(vs), vs.join(' ')).toEqual(sortByParts(vs));
      // And both agree with compareVersions pair by pair (the order is a total one without pre-release words).
      if (!pre) {
        const sorted = sortVersions(vs);
        for (let i = 1; i < sorted.length; i++)
          expect(compareVersions(sorted[i - 1], sorted[i]), `${sorted[i - 1]} ${sorted[i]}`).toBeLessThanOrEqual(0);
      }
    }
  });
});
