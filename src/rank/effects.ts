/**
 * Effect sizes beside the significance tests (docs/ranking.md, "Effect sizes"): for every ordered
 * pair of losses (a, b), task and metric, the mean over cases of (a − b) on the values that were
 * ranked (after the N/A policy and the replicate mean), with a 95 % percentile bootstrap interval
 * and the pair's two-sided Wilcoxon p-value from the ranking.
 *
 * The bootstrap is two-level when a task has several replicates: each resample first draws the
 * task's R replicates with replacement (the same draw for every loss), then its n cases with
 * replacement, and takes each loss's mean over the drawn cases of its mean over the drawn
 * replicates. With one replicate it resamples the cases only. Random numbers:
 * `Rng(seed).fork('effects/<task>/<metric>')`, independent of the ranking bootstrap.
 */
import { Rng } from '../util/rng.js';
import { throwIfInterrupted } from '../util/interrupt.js';
import { quantile } from './ranks.js';
import type { EffectRow, MetricTable, PairwiseComparison } from './types.js';

/** A table's per-replicate values ([loss][replicate][case]); one replicate = `values`. */
export function replicateValuesOf(table: MetricTable): number[][][] {
  return table.replicateValues ?? table.values.map((v) => [v]);
}

/**
 * Draw one two-level resample into `replicateWeights` (length R, counts; left untouched when R = 1)
 * and `caseWeights` (length n, counts). Replicates are drawn first, then cases.
 */
export function drawResample(rng: Rng, replicateWeights: Int32Array, caseWeights: Int32Array): void {
  const R = replicateWeights.length;
  if (R > 1) {
    replicateWeights.fill(0);
    for (let i = 0; i < R; i++) {
      const k = rng.int(R);
      replicateWeights[k] = (replicateWeights[k] as number) + 1;
    }
  }
  const n = caseWeights.length;
  caseWeights.fill(0);
  for (let i = 0; i < n; i++) {
    const k = rng.int(n);
    caseWeights[k] = (caseWeights[k] as number) + 1;
  }
}

/**
 * Per-case values of each loss under replicate weights (counts summing to R): the weighted mean
 * over replicates. With R = 1 the loss's only replicate.
 */
export function weightedReplicateMean(perReplicate: number[][], replicateWeights: ArrayLike<number>): Float64Array {
  const R = perReplicate.length;
  const n = (perReplicate[0] as number[]).length;
  const out = new Float64Array(n);
  if (R === 1) {
    out.set(perReplicate[0] as number[]);
    return out;
  }
  for (let r = 0; r < R; r++) {
    const w = replicateWeights[r] as number;
    if (w === 0) continue;
    const x = perReplicate[r] as number[];
    for (let i = 0; i < n; i++) out[i] = (out[i] as number) + w * (x[i] as number);
  }
  for (let i = 0; i < n; i++) out[i] = (out[i] as number) / R;
  return out;
}

/** Bootstrap distribution of each loss's mean over cases (and replicates): means[loss][resample]. */
export function bootstrapLossMeans(table: MetricTable, resamples: number, rng: Rng): Float64Array[] {
  const reps = replicateValuesOf(table).map((perReplicate) => perReplicate.map((x) => Float64Array.from(x)));
  const L = reps.length;
  const R = (reps[0] as Float64Array[]).length;
  const n = table.cases.length;
  const means = Array.from({ length: L }, () => new Float64Array(resamples));
  const rw = new Int32Array(R).fill(1);
  const cw = new Int32Array(n);
  for (let b = 0; b < resamples; b++) {
    if ((b & 63) === 0) throwIfInterrupted();
    drawResample(rng, rw, cw);
    for (let l = 0; l < L; l++) {
      // mean over drawn cases of the mean over drawn replicates = Σ_r w_r Σ_i c_i x_ri / (R n).
      const perReplicate = reps[l] as Float64Array[];
      let total = 0;
      for (let r = 0; r < R; r++) {
        const w = rw[r] as number;
        if (w === 0) continue;
        const x = perReplicate[r] as Float64Array;
        let part = 0;
        for (let i = 0; i < n; i++) part += (cw[i] as number) * (x[i] as number);
        total += w * part;
      }
      (means[l] as Float64Array)[b] = total / (R * n);
    }
  }
  return means;
}

/** 2.5 % and 97.5 % quantiles (R type 7) of a bootstrap sample; NaN for an empty sample. */
export function percentileInterval(sample: Float64Array): [number, number] {
  const sorted = sample.slice().sort();
  return [quantile(sorted, 0.025), quantile(sorted, 0.975)];
}

/** One row per ordered pair of losses for every comparison (task × metric). */
export function computeEffects(
  tables: MetricTable[],
  comparisons: PairwiseComparison[],
  losses: string[],
  alpha: number,
  resamples: number,
  seed: number,
): EffectRow[] {
  const rows: EffectRow[] = [];
  const L = losses.length;
  for (const c of comparisons) {
    const table = tables.find((t) => t.task === c.task && t.metric === c.metric) as MetricTable;
    const n = table.cases.length;
    const boot = resamples > 0 ? bootstrapLossMeans(table, resamples, new Rng(seed).fork(`effects/${c.task}/${c.metric}`)) : undefined;
    // Intervals for a < b; (b, a) is the mirror image [−high, −low] (percentiles of the negated sample).
    const intervals = new Map<number, [number, number]>();
    for (let a = 0; a < L; a++) {
      for (let b = 0; b < L; b++) {
        if (a === b) continue;
        const xa = table.values[a] as number[];
        const xb = table.values[b] as number[];
        let s = 0;
        for (let i = 0; i < n; i++) s += (xa[i] as number) - (xb[i] as number);
        let ciLow = NaN;
        let ciHigh = NaN;
        if (boot !== undefined) {
          const lo = Math.min(a, b);
          const hi = Math.max(a, b);
          let interval = intervals.get(lo * L + hi);
          if (interval === undefined) {
            const ma = boot[lo] as Float64Array;
            const mb = boot[hi] as Float64Array;
            const d = new Float64Array(resamples);
            for (let k = 0; k < resamples; k++) d[k] = (ma[k] as number) - (mb[k] as number);
            interval = percentileInterval(d);
            intervals.set(lo * L + hi, interval);
          }
          [ciLow, ciHigh] = a < b ? interval : [-interval[1], -interval[0]];
        }
        const pValue = (c.pvalues[a] as number[])[b] as number;
        rows.push({
          task: c.task,
          metric: c.metric,
          lossA: losses[a] as string,
          lossB: losses[b] as string,
          nCases: n,
          meanDiff: s / n,
          ciLow,
          ciHigh,
          pValue,
          // The study's rule has no multiple-comparison correction (significance.ts): p < alpha as ranked.
          significant: pValue < alpha,
        });
      }
    }
  }
  return rows;
}
