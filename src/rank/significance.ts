/**
 * Pairwise significance for one task and metric (paper §3.4, step 1): every pair of losses is
 * compared with the two-sided Wilcoxon signed-rank test on their paired per-case values
 * (`wilcoxon.ts`). Loss a is significantly better than loss b when p < α and, with d = a − b,
 * R+ > R− for metrics where higher is better (DSC, NSD), R− > R+ where lower is better (HD95;
 * each metric's `higherIsBetter`, src/eval/metric-descriptors.ts).
 * An untestable pair (identical values on every case) is not significant.
 * The significance score of a loss is the number of losses it is significantly better than.
 *
 * `preparePairs` computes each pair's differences and their |d| order once, so that a bootstrap
 * resample (case weights) re-evaluates all pairs in O(pairs × cases) without sorting.
 */
import { emptySums, normalZ, signedRankSums, sortDifferences, twoSidedPValue, usesExactPath, type SignedRankSums, type SortedDifferences } from './wilcoxon.js';
import { normalSf } from './normal.js';
import { metricDescriptor } from '../eval/metric-descriptors.js';
import type { MetricTable, PairwiseComparison } from './types.js';

export interface PreparedPairs {
  nLosses: number;
  higherBetter: boolean;
  /** Pairs (a, b) with a < b, in row-major order. */
  pairA: Int32Array;
  pairB: Int32Array;
  /** Per pair: the differences values[a] − values[b] sorted by magnitude. */
  sorted: SortedDifferences[];
}

export function preparePairs(table: MetricTable): PreparedPairs {
  const L = table.values.length;
  const pairA: number[] = [];
  const pairB: number[] = [];
  const sorted: SortedDifferences[] = [];
  for (let a = 0; a < L; a++) {
    for (let b = a + 1; b < L; b++) {
      const xa = table.values[a] as number[];
      const xb = table.values[b] as number[];
      const diff = new Float64Array(xa.length);
      for (let i = 0; i < xa.length; i++) diff[i] = (xa[i] as number) - (xb[i] as number);
      pairA.push(a);
      pairB.push(b);
      sorted.push(sortDifferences(diff));
    }
  }
  return { nLosses: L, higherBetter: metricDescriptor(table.metric).higherIsBetter, pairA: Int32Array.from(pairA), pairB: Int32Array.from(pairB), sorted };
}

const scratch = emptySums();

/** |z| above which 2·Φ̄(|z|) < alpha (bisection to the last bit), cached per alpha. */
const criticalZCache = new Map<number, number>();
export function criticalZ(alpha: number): number {
  const cached = criticalZCache.get(alpha);
  if (cached !== undefined) return cached;
  let lo = 0;
  let hi = 40;
  for (let i = 0; i < 200 && hi - lo > 0; i++) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    if (2 * normalSf(mid) < alpha) hi = mid;
    else lo = mid;
  }
  criticalZCache.set(alpha, hi);
  return hi;
}

/**
 * p < alpha for the rank sums, without evaluating the normal tail when |z| is clearly on one side
 * of the critical value (the bootstrap's hot path); near the boundary the p-value is computed.
 */
function significant(s: SignedRankSums, alpha: number, zCrit: number): boolean {
  if (s.count === 0) return false;
  if (usesExactPath(s)) return twoSidedPValue(s) < alpha;
  const z = Math.abs(normalZ(s));
  if (z > zCrit * (1 + 1e-9)) return true;
  if (z < zCrit * (1 - 1e-9)) return false;
  return twoSidedPValue(s) < alpha;
}

/**
 * Significance scores (into `scores`, length nLosses) for the given case weights (undefined = each
 * case once). If `pvalues`/`better` are given they are filled too (full-data run).
 */
export function scorePairs(
  prepared: PreparedPairs,
  alpha: number,
  weights: ArrayLike<number> | undefined,
  scores: Int32Array,
  detail?: { pvalues: number[][]; better: boolean[][] },
): void {
  scores.fill(0);
  const { pairA, pairB, sorted, higherBetter } = prepared;
  const r = scratch;
  const zCrit = criticalZ(alpha);
  for (let k = 0; k < pairA.length; k++) {
    const a = pairA[k] as number;
    const b = pairB[k] as number;
    signedRankSums(sorted[k] as SortedDifferences, weights, r);
    // Full-data runs report the p-value; resamples only need the decision.
    const pvalue = detail === undefined ? NaN : twoSidedPValue(r);
    const isSignificant = detail === undefined ? significant(r, alpha, zCrit) : pvalue < alpha; // NaN (untestable) → false
    let winner = -1;
    let loser = -1;
    if (isSignificant && r.rPlus !== r.rMinus) {
      const aHigher = r.rPlus > r.rMinus;
      [winner, loser] = aHigher === higherBetter ? [a, b] : [b, a];
      scores[winner] = (scores[winner] as number) + 1;
    }
    if (detail !== undefined) {
      (detail.pvalues[a] as number[])[b] = pvalue;
      (detail.pvalues[b] as number[])[a] = pvalue;
      if (winner >= 0) (detail.better[winner] as boolean[])[loser] = true;
    }
  }
}

/** Full-data pairwise comparison of one table: p-value matrix, decisions and scores. */
export function comparePairs(table: MetricTable, alpha: number, prepared = preparePairs(table)): PairwiseComparison {
  const L = table.values.length;
  const pvalues = Array.from({ length: L }, () => new Array<number>(L).fill(NaN));
  const better = Array.from({ length: L }, () => new Array<boolean>(L).fill(false));
  const scores = new Int32Array(L);
  scorePairs(prepared, alpha, undefined, scores, { pvalues, better });
  const worseThan = Array.from({ length: L }, (_, b) => better.reduce((n, row) => n + (row[b] ? 1 : 0), 0));
  return { task: table.task, metric: table.metric, pvalues, better, scores: Array.from(scores), worseThan };
}
