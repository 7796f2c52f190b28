/**
 * Wilcoxon signed-rank test on paired samples, as `scipy.stats.wilcoxon(x, y)` computes it with
 * its defaults in scipy 1.10 (two-sided, zero_method='wilcox', correction=False, method='auto'),
 * with one documented deviation for tied differences (below).
 *
 * With d = x − y, n = len(d) (zeros included), the non-zero differences are ranked by |d|
 * (average ranks for ties): R+ = Σ rank[d > 0], R− = Σ rank[d < 0], statistic T = min(R+, R−).
 * - Exact path: n ≤ 50, no zero difference and no tied |d|. The null distribution of R+ is the
 *   distribution of the sum of a random subset of {1..n} (subset-sum counts / 2ⁿ, exact in float64
 *   for n ≤ 50). k = R+; p = 1 if k is the centre ⌊n(n+1)/4⌋, else p = min(1, 2·min(P(R+ ≤ k),
 *   P(R+ ≥ k))).
 * - Normal approximation otherwise, over the `count` non-zero differences:
 *   μ = count(count+1)/4, σ² = [count(count+1)(2count+1) − ½·Σ(t³ − t)]/24 (t = sizes of tie
 *   groups of |d|), z = (T − μ)/σ without continuity correction, p = 2·Φ̄(|z|).
 * - Deviation from scipy 1.10: with tied |d| and n ≤ 50 (no zeros) scipy 1.10 still uses the
 *   exact distribution of untied ranks with R+ truncated to an integer, which is not a valid
 *   null distribution; here ties take the normal approximation with tie correction (as scipy
 *   does whenever zeros are present, and as scipy ≥ 1.15 does for n > 13).
 * - Untestable: all differences zero (scipy raises ValueError), no pairs, or a NaN difference
 *   (a NaN input, or inf − inf; scipy returns NaN or raises). The result then has p = NaN and an
 *   `error`; the ranking counts such a comparison as "not significant".
 *
 * For the bootstrap, the rank sums are computed from a precomputed order of |d| and integer case
 * weights (how often each case was drawn), so a resample costs O(n) instead of a sort:
 * a case drawn w times is w tied copies of its difference.
 */
import { normalSf } from './normal.js';

export type WilcoxonMethod = 'exact' | 'approx' | 'untestable';

export interface WilcoxonResult {
  /** min(R+, R−); NaN when untestable. */
  statistic: number;
  /** Two-sided p-value; NaN when untestable. */
  pvalue: number;
  /** Sum of the ranks of the positive differences x − y. */
  rPlus: number;
  /** Sum of the ranks of the negative differences. */
  rMinus: number;
  method: WilcoxonMethod;
  /** Number of pairs, zero differences included. */
  n: number;
  /** Number of zero differences (dropped before ranking). */
  nZero: number;
  /** z statistic of the normal approximation (undefined on the exact path). */
  z?: number;
  /** Why the test could not be computed. */
  error?: string;
}

/** Rank sums of the non-zero differences, the input of the p-value computation. */
export interface SignedRankSums {
  /** Number of (weighted) pairs including zero differences. */
  n: number;
  nZero: number;
  /** Number of (weighted) non-zero differences. */
  count: number;
  rPlus: number;
  rMinus: number;
  /** Σ(t³ − t) over the tie groups of |d| (0 without ties). */
  tieSum: number;
  hasTies: boolean;
}

/** Largest n for which scipy's 'auto' method uses the exact distribution. */
export const EXACT_MAX_N = 50;

/** Indices of `d` sorted by |d| ascending (stable; zeros first). NaN-free input expected. */
export function absOrder(d: ArrayLike<number>): Int32Array {
  const abs = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) abs[i] = Math.abs(d[i] as number);
  const idx = Array.from({ length: d.length }, (_, i) => i);
  idx.sort((a, b) => {
    const va = abs[a] as number;
    const vb = abs[b] as number;
    return va < vb ? -1 : va > vb ? 1 : a - b;
  });
  return Int32Array.from(idx);
}

/**
 * Rank sums over the differences `d` visited in `order` (from `absOrder(d)`), each case counted
 * `weights[i]` times (default once). Tie groups are runs of equal |d| in that order.
 */
export function signedRankSums(d: ArrayLike<number>, order: ArrayLike<number>, weights?: ArrayLike<number>): SignedRankSums {
  let n = 0;
  let nZero = 0;
  let position = 0; // number of non-zero differences already ranked
  let rPlus = 0;
  let rMinus = 0;
  let tieSum = 0;
  let hasTies = false;
  const m = order.length;
  let k = 0;
  while (k < m) {
    const i = order[k] as number;
    const di = d[i] as number;
    const wi = weights === undefined ? 1 : (weights[i] as number);
    if (di === 0) {
      n += wi;
      nZero += wi;
      k++;
      continue;
    }
    const a = Math.abs(di);
    let total = 0;
    let positive = 0;
    let negative = 0;
    // One tie group: every following entry with the same |d|.
    while (k < m) {
      const j = order[k] as number;
      const dj = d[j] as number;
      if (Math.abs(dj) !== a) break;
      const wj = weights === undefined ? 1 : (weights[j] as number);
      total += wj;
      if (dj > 0) positive += wj;
      else negative += wj;
      k++;
    }
    if (total === 0) continue;
    const averageRank = position + (total + 1) / 2;
    rPlus += positive * averageRank;
    rMinus += negative * averageRank;
    if (total > 1) {
      hasTies = true;
      tieSum += total * total * total - total;
    }
    position += total;
    n += total;
  }
  return { n, nZero, count: position, rPlus, rMinus, tieSum, hasTies };
}

/** Cumulative subset-sum counts: cdf[k] = #{S ⊆ {1..m} : ΣS ≤ k}, for k = 0..m(m+1)/2. */
const cdfCache = new Map<number, Float64Array>();
function subsetSumCdf(m: number): Float64Array {
  const cached = cdfCache.get(m);
  if (cached !== undefined) return cached;
  const max = (m * (m + 1)) / 2;
  const counts = new Float64Array(max + 1);
  counts[0] = 1;
  let reach = 0;
  for (let r = 1; r <= m; r++) {
    reach += r;
    for (let s = reach; s >= r; s--) counts[s] = (counts[s] as number) + (counts[s - r] as number);
  }
  const cdf = new Float64Array(max + 1);
  let acc = 0;
  for (let s = 0; s <= max; s++) {
    acc += counts[s] as number;
    cdf[s] = acc;
  }
  cdfCache.set(m, cdf);
  return cdf;
}

/** Exact two-sided p-value for an integer R+ = k among m untied non-zero ranks (scipy 1.10). */
export function exactPValue(k: number, m: number): number {
  const cdf = subsetSumCdf(m);
  const max = cdf.length - 1;
  if (k === Math.floor(max / 2)) return 1;
  const total = 2 ** m;
  const pLess = (cdf[k] as number) / total;
  const pGreater = (total - (k > 0 ? (cdf[k - 1] as number) : 0)) / total;
  return Math.min(1, 2 * Math.min(pLess, pGreater));
}

/** The test result from rank sums (see the file comment for the two paths). */
export function wilcoxonFromSums(s: SignedRankSums): WilcoxonResult {
  const base = { rPlus: s.rPlus, rMinus: s.rMinus, n: s.n, nZero: s.nZero };
  if (s.n === 0) return { ...base, statistic: NaN, pvalue: NaN, method: 'untestable', error: 'no pairs' };
  if (s.count === 0) {
    return { ...base, statistic: NaN, pvalue: NaN, method: 'untestable', error: 'x − y is zero for all pairs' };
  }
  const statistic = Math.min(s.rPlus, s.rMinus);
  if (s.n <= EXACT_MAX_N && s.nZero === 0 && !s.hasTies) {
    return { ...base, statistic, pvalue: exactPValue(s.rPlus, s.count), method: 'exact' };
  }
  const c = s.count;
  const mean = (c * (c + 1)) / 4;
  const se = Math.sqrt((c * (c + 1) * (2 * c + 1) - 0.5 * s.tieSum) / 24);
  const z = (statistic - mean) / se;
  return { ...base, statistic, pvalue: 2 * normalSf(Math.abs(z)), method: 'approx', z };
}

/** Wilcoxon signed-rank test of paired samples x and y (equal lengths), see the file comment. */
export function wilcoxon(x: ArrayLike<number>, y: ArrayLike<number>): WilcoxonResult {
  if (x.length !== y.length) throw new RangeError(`wilcoxon: x and y differ in length (${x.length} vs ${y.length})`);
  const d = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    d[i] = (x[i] as number) - (y[i] as number);
    if (Number.isNaN(d[i])) {
      return {
        statistic: NaN, pvalue: NaN, rPlus: NaN, rMinus: NaN, method: 'untestable', n: x.length, nZero: 0,
        error: `x − y is NaN at pair ${i} (a NaN input or inf − inf)`,
      };
    }
  }
  return wilcoxonFromSums(signedRankSums(d, absOrder(d)));
}
