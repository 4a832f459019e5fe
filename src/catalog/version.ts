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

/** Each version split once, not once per comparison: status sorts hundreds of versions per product. */
export const sortVersions = (vs: Iterable<string>): string[] =>
  [...vs]
    .map((v) => ({ v, p: parts(v) }))
    .sort((x, y) => compareParts(x.v, x.p, y.v, y.p))
    .map((x) => x.v);
