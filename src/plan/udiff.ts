/**
 * A unified diff of two texts, as `diff -u` prints it, for `render --diff` and for the refusal
 * of a hand-edited file. Pure; the generated files are a few hundred lines at most, so a plain
 * LCS table is fast enough and needs no library.
 */

type Line = { op: ' ' | '-' | '+'; text: string };

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The edit script from a to b: longest common subsequence, then a walk that emits -/+ around it. */
function editScript(a: string[], b: string[]): Line[] {
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const out: Line[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ op: ' ', text: a[i] });
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) out.push({ op: '+', text: b[j++] });
    else out.push({ op: '-', text: a[i++] });
  }
  // diff -u prints a change's removals before its additions.
  for (let k = 0; k < out.length; k++) {
    if (out[k].op === ' ') continue;
    let end = k;
    while (end < out.length && out[end].op !== ' ') end++;
    const block = out.slice(k, end);
    out.splice(k, end - k, ...block.filter((l) => l.op === '-'), ...block.filter((l) => l.op === '+'));
    k = end - 1;
  }
  return out;
}

const range = (start: number, count: number) =>
  count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`;

/** `--- a` / `+++ b` and the hunks; '' when the texts are equal. A missing file is null (/dev/null). */
export function unifiedDiff(before: string | null, after: string | null, label: string, context = 3): string {
  if (before === after) return '';
  const script = editScript(splitLines(before ?? ''), splitLines(after ?? ''));
  const changed = script.map((l, k) => (l.op !== ' ' ? k : -1)).filter((k) => k >= 0);
  if (changed.length === 0) return ''; // only a final newline differs: nothing an operator needs to see
  const hunks: [number, number][] = [];
  for (const k of changed) {
    const lo = Math.max(0, k - context);
    const hi = Math.min(script.length, k + context + 1);
    const last = hunks[hunks.length - 1];
    if (last && lo <= last[1]) last[1] = Math.max(last[1], hi);
    else hunks.push([lo, hi]);
  }
  const out = [`--- ${before === null ? '/dev/null' : label}`, `+++ ${after === null ? '/dev/null' : label}`];
  for (const [lo, hi] of hunks) {
    let aStart = 1;
    let bStart = 1;
    for (const l of script.slice(0, lo)) {
      if (l.op !== '+') aStart++;
      if (l.op !== '-') bStart++;
    }
    const body = script.slice(lo, hi);
    const aCount = body.filter((l) => l.op !== '+').length;
    const bCount = body.filter((l) => l.op !== '-').length;
    out.push(`@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@`, ...body.map((l) => `${l.op}${l.text}`));
  }
  return out.join('\n') + '\n';
}
