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

/**
 * Differences sorted by |d| once, for repeated (weighted) rank sums. Entry k (sorted position)
 * packs the case index, whether a new tie group of equal |d| starts there, and the sign of the
 * difference into one int: `case << 3 | groupStart << 2 | (sign + 1)`, so that the bootstrap's
 * inner loop reads one array. NaN-free input expected.
 */
export interface SortedDifferences {
  packed: Int32Array;
}

export function sortDifferences(d: ArrayLike<number>): SortedDifferences {
  const m = d.length;
  const abs = new Float64Array(m);
  for (let i = 0; i < m; i++) abs[i] = Math.abs(d[i] as number);
  const idx = Array.from({ length: m }, (_, i) => i);
  idx.sort((a, b) => {
    const va = abs[a] as number;
    const vb = abs[b] as number;
    return va < vb ? -1 : va > vb ? 1 : a - b;
  });
  const packed = new Int32Array(m);
  for (let k = 0; k < m; k++) {
    const i = idx[k] as number;
    const groupStart = k === 0 || abs[i] !== abs[idx[k - 1] as number] ? 1 : 0;
    packed[k] = (i << 3) | (groupStart << 2) | (Math.sign(d[i] as number) + 1);
  }
  return { packed };
}

export function emptySums(): SignedRankSums {
  return { n: 0, nZero: 0, count: 0, rPlus: 0, rMinus: 0, tieSum: 0, hasTies: false };
}

/**
 * Rank sums of the sorted differences, each case counted `weights[case]` times (default once);
 * written into `out` (allocation-free for the bootstrap loop) and returned.
 */
export function signedRankSums(sorted: SortedDifferences, weights?: ArrayLike<number>, out: SignedRankSums = emptySums()): SignedRankSums {
  const { packed } = sorted;
  const m = packed.length;
  let nZero = 0;
  let position = 0; // number of non-zero differences already ranked
  let rPlus = 0;
  let rMinus = 0;
  let tieSum = 0;
  let total = 0; // weight of the current tie group
  let positive = 0;
  for (let k = 0; k <= m; k++) {
    const e = k < m ? (packed[k] as number) : 4;
    if ((e & 4) !== 0) {
      if (total > 0) {
        const averageRank = position + (total + 1) / 2;
        rPlus += positive * averageRank;
        rMinus += (total - positive) * averageRank;
        tieSum += total * total * total - total;
        position += total;
      }
      total = 0;
      positive = 0;
      if (k === m) break;
    }
    const w = weights === undefined ? 1 : (weights[e >> 3] as number);
    const s = e & 3; // sign + 1
    if (s === 1) nZero += w;
    else {
      total += w;
      if (s === 2) positive += w;
    }
  }
  out.n = position + nZero;
  out.nZero = nZero;
  out.count = position;
  out.rPlus = rPlus;
  out.rMinus = rMinus;
  out.tieSum = tieSum;
  out.hasTies = tieSum > 0;
  return out;
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

/** Whether the rank sums take scipy's exact path (n ≤ 50, no zero difference, no ties). */
export function usesExactPath(s: SignedRankSums): boolean {
  return s.n <= EXACT_MAX_N && s.nZero === 0 && !s.hasTies;
}

/** z of the normal approximation: (min(R+, R−) − μ)/σ with the tie-corrected σ, no continuity correction. */
export function normalZ(s: SignedRankSums): number {
  const c = s.count;
  const mean = (c * (c + 1)) / 4;
  const se = Math.sqrt((c * (c + 1) * (2 * c + 1) - 0.5 * s.tieSum) / 24);
  return (Math.min(s.rPlus, s.rMinus) - mean) / se;
}

/** Two-sided p-value from rank sums; NaN when untestable (no non-zero difference). */
export function twoSidedPValue(s: SignedRankSums): number {
  if (s.count === 0) return NaN;
  if (usesExactPath(s)) return exactPValue(s.rPlus, s.count);
  return 2 * normalSf(Math.abs(normalZ(s)));
}

/** The test result from rank sums (see the file comment for the two paths). */
export function wilcoxonFromSums(s: SignedRankSums): WilcoxonResult {
  const base = { rPlus: s.rPlus, rMinus: s.rMinus, n: s.n, nZero: s.nZero };
  if (s.n === 0) return { ...base, statistic: NaN, pvalue: NaN, method: 'untestable', error: 'no pairs' };
  if (s.count === 0) {
    return { ...base, statistic: NaN, pvalue: NaN, method: 'untestable', error: 'x − y is zero for all pairs' };
  }
  const statistic = Math.min(s.rPlus, s.rMinus);
  if (usesExactPath(s)) return { ...base, statistic, pvalue: exactPValue(s.rPlus, s.count), method: 'exact' };
  const z = normalZ(s);
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
  return wilcoxonFromSums(signedRankSums(sortDifferences(d)));
}
