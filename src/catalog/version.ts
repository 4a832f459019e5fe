/**
 * Product versions are not semver: 3.3a < 3.3b < 3.4 < 3.10, 1.5d, v1_4a (= 1.4a), 5.0.2.
 * A version is split into runs of digits and runs of letters; a leading "v" is dropped and
 * "_" counts as ".". Runs compare pairwise: numbers as numbers, letters as text, and a letter
 * run sorts before a number run at the same place; a shorter version that is a prefix of a
 * longer one sorts first (3.3 < 3.3a), unless the longer goes on with a pre-release word
 * (dev, alpha, beta, pre, rc): 3.10-rc1 < 3.10. Equal keys fall back to the raw text so the order is total.
 */
const VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

/** Why a string cannot be a version (quotes, spaces, slashes would reach paths and Apache config), or undefined. */
export function versionProblem(v: string): string | undefined {
  if (v === 'current' || v === 'previous') return `"${v}" is a reserved name`;
  if (!VERSION_RE.test(v))
    return 'a version is 1-64 letters, digits, ".", "_", "+" or "-", starting with a letter or digit';
  // A name without a digit beside the versions is read as something moved aside, never as a version.
  if (!/\d/.test(v)) return 'a version has at least one digit';
  return undefined;
}

type Part = number | string;

/**
 * The runs of digits (as numbers) and of letters (lower case); anything else ("." "_" "-" "+")
 * only separates them, and a "v" before a digit at the start is dropped. A scan by char code,
 * not regular expressions: status splits every installed version of every product.
 */
function parts(v: string): Part[] {
  const out: Part[] = [];
  const n = v.length;
  let i = (v.charCodeAt(0) | 0x20) === 0x76 && isDigit(v.charCodeAt(1)) ? 1 : 0;
  while (i < n) {
    const c = v.charCodeAt(i);
    const start = i;
    if (isDigit(c)) {
      while (i < n && isDigit(v.charCodeAt(i))) i++;
      out.push(Number(v.slice(start, i)));
    } else if (isLetter(c)) {
      while (i < n && isLetter(v.charCodeAt(i))) i++;
      out.push(v.slice(start, i).toLowerCase());
    } else i++;
  }
  return out;
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isLetter = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

export function compareVersions(a: string, b: string): number {
  return compareParts(a, parts(a), b, parts(b));
}

/**
 * Pre-release words, oldest first: a version that goes on with one of them comes before the
 * release it leads to (3.10-rc1 < 3.10, 2.0beta < 2.0), where any other letters come after
 * (3.3 < 3.3a, the guide's own versions).
 */
const PRE = ['dev', 'alpha', 'beta', 'pre', 'rc'];
const preRank = (p: Part | undefined) => (typeof p === 'string' ? PRE.indexOf(p) : -1);

function compareParts(a: string, pa: Part[], b: string, pb: Part[]): number {
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return preRank(y) >= 0 ? 1 : -1;
    if (y === undefined) return preRank(x) >= 0 ? -1 : 1;
    if (typeof x === 'number' && typeof y === 'number') {
      if (x !== y) return x < y ? -1 : 1;
    } else if (typeof x === 'string' && typeof y === 'string') {
      const rx = preRank(x);
      const ry = preRank(y);
      if (rx >= 0 && ry >= 0 && rx !== ry) return rx < ry ? -1 : 1;
      if (x !== y) return x < y ? -1 : 1;
    } else {
      return typeof x === 'string' ? -1 : 1;
    }
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A string whose order (by UTF-16 code units, as Array.prototype.sort's default compares) is
 * compareParts's order, or undefined where it cannot be: a pre-release word anywhere (its rank
 * and the letters' order are no single order) or a number past 15 digits (compareParts compares
 * it as a double). Each run becomes a segment: a number "\x03", its digit count, its digits
 * without leading zeros; letters "\x01", the lower-case letters, "\x02"; the end "\x00" and the raw
 * text (the tie-break). The end sorts before letters, letters before numbers, as compareParts
 * ranks a missing run, a letter run and a number run at one place.
 */
function sortKey(v: string): string | undefined {
  const runs = v.match(RUNS);
  let key = '';
  // A "v" before a digit at the start is no run of its own (v1_4a is 1.4a).
  const first = (v.charCodeAt(0) | 0x20) === 0x76 && isDigit(v.charCodeAt(1)) ? 1 : 0;
  for (let r = first; runs !== null && r < runs.length; r++) {
    const run = runs[r];
    if (isDigit(run.charCodeAt(0))) {
      let z = 0; // leading zeros, one digit kept
      while (z < run.length - 1 && run.charCodeAt(z) === 0x30) z++;
      if (run.length - z > 15) return undefined;
      key += NUMBER[run.length - z] + (z === 0 ? run : run.slice(z));
    } else {
      const word = run.toLowerCase();
      if (PRE.includes(word)) return undefined;
      key += `\x01${word}\x02`;
    }
  }
  return `${key}\x00${v}`;
}

/**
 * The runs of a version as sortKey reads them, found by the regular expression engine rather than
 * a loop over each character: a per-character loop in JavaScript ran ~1,600 times per status at
 * 8 x 200 versions, long enough for V8 to spend ~20 ms of the other core optimising it.
 */
const RUNS = /[0-9]+|[A-Za-z]+/g;
/** A number's segment start by its digit count: "\x03" and the count as one character. */
const NUMBER = Array.from({ length: 16 }, (_, n) => `\x03${String.fromCharCode(0x30 + n)}`);

/**
 * Sorted by compareVersions. With no pre-release word and no long number among them (every
 * version status has met), by sortKey's strings and the built-in comparison, which costs a
 * tenth of calling compareParts from JavaScript ~1,600 times per 200 versions (status at 8 x 200
 * versions spent ~10 ms here; issue 15); otherwise each version split once and compared by
 * compareParts. Both give the same order (test/unit/version.test.ts holds them side by side).
 */
export function sortVersions(vs: Iterable<string>): string[] {
  const all = Array.isArray(vs) ? (vs as string[]) : [...vs];
  // Indexed loops and a preallocated array: for-of and map cost an object or a call per version.
  const keys = new Array<string>(all.length);
  for (let i = 0; i < all.length; i++) {
    const k = sortKey(all[i]);
    if (k === undefined) return sortByParts(all);
    keys[i] = k;
  }
  keys.sort();
  for (let i = 0; i < keys.length; i++) keys[i] = keys[i].slice(keys[i].lastIndexOf('\x00') + 1);
  return keys;
}

/** The general order: each version split once, not once per comparison. */
export const sortByParts = (vs: string[]): string[] =>
  vs
    .map((v) => ({ v, p: parts(v) }))
    .sort((x, y) => compareParts(x.v, x.p, y.v, y.p))
    .map((x) => x.v);
