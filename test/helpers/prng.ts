/**
 * mulberry32, the seeded generator of the fuzz tests: small, fast, and the same sequence for the
 * same seed everywhere. The seed and the number of cases come from WEBTREE_FUZZ_SEED and
 * WEBTREE_FUZZ_CASES, so a failing run can be replayed.
 */
export const FUZZ_SEED = Number(process.env.WEBTREE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32));
export const FUZZ_CASES = Number(process.env.WEBTREE_FUZZ_CASES ?? 3000);

export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)); // inclusive
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)];
  return { next, int, pick, chance: (p: number) => next() < p };
}
export type Rng = ReturnType<typeof prng>;
