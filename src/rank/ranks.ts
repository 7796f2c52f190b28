/** Turning scores into ranks, and the quantiles used to summarise bootstrap ranks. */

/**
 * Ranks by descending total, ties sharing the better rank ("min" ranking, e.g. 1, 1, 3):
 * rank(i) = 1 + #{j : total[j] > total[i]}. Totals should be exact (integer sums of significance
 * scores) so that equal rank scores compare equal.
 */
export function ranksFromTotals(totals: ArrayLike<number>): number[] {
  const n = totals.length;
  const ranks = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let above = 0;
    const t = totals[i] as number;
    for (let j = 0; j < n; j++) if ((totals[j] as number) > t) above++;
    ranks[i] = above + 1;
  }
  return ranks;
}

/** Quantile with linear interpolation between order statistics (R type 7, numpy default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (h - lo) * (b - a);
}
