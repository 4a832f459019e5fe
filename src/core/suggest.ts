/** "did you mean": the nearest of a few known words to a typo, by edit distance. */

/** Levenshtein distance, with a transposition of two neighbours counted as one edit (dryrun/dyrrun). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The known word a typo most likely meant: the nearest within a third of its length (at least
 * 2 edits), or the only one it begins or that begins it; undefined when none is close.
 */
export function didYouMean(typo: string, known: readonly string[]): string | undefined {
  const t = typo.toLowerCase();
  let best: { w: string; d: number } | undefined;
  for (const w of known) {
    const d = editDistance(t, w.toLowerCase());
    if (!best || d < best.d) best = { w, d };
  }
  if (best && best.d <= Math.max(2, Math.floor(t.length / 3))) return best.w;
  const prefixed = known.filter((w) => t.length >= 3 && (w.startsWith(t) || t.startsWith(w)));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}
