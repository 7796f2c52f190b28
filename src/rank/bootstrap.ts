/**
 * Ranking stability by bootstrap over cases (paper §5.1; challengeR `bootstrap`): each resample
 * draws, independently per task, N_t cases with replacement from the task's N_t cases (the same
 * draw for every loss and metric), recomputes every significance score and the rank score, and
 * re-ranks. Reported per loss: the distribution of its rank, the median and the 2.5–97.5%
 * quantiles (R type 7); per resample: Kendall's τ-b between the full-data ranking and the
 * resample's ranking, overall and per task (the per-task ranking orders losses by their summed
 * significance scores over the chosen metrics in that task).
 *
 * A case drawn w times enters the signed-rank test as w tied copies (weights; see wilcoxon.ts),
 * so the resampled tests never sort. Random numbers: `Rng(seed).fork('bootstrap')`.
 *
 * Replicates (docs/ranking.md, "Replicates"): for a task with R > 1 replicates per loss each
 * resample is two-level: first R replicates are drawn with replacement (the same draw for every
 * loss and metric), each loss's per-case value becomes its mean over the drawn replicates, then the
 * cases are drawn as above; the pairs are re-sorted for that resample. A task with one replicate
 * draws exactly the random numbers it drew before, so single-replicate results are unchanged.
 */
import { Rng } from '../util/rng.js';
import { throwIfInterrupted } from '../util/interrupt.js';
import { kendallTauB } from './kendall.js';
import { quantile, ranksFromTotals } from './ranks.js';
import { preparePairs, scorePairs, type PreparedPairs } from './significance.js';
import { replicateValuesOf, weightedReplicateMean } from './effects.js';
import type { BootstrapResult, MetricTable } from './types.js';

export interface BootstrapInput {
  tasks: string[];
  losses: string[];
  /** Number of cases of each task (same order as tasks). */
  caseCounts: number[];
  /** Prepared pairs of the chosen metrics, per task (same order as tasks). */
  pairsByTask: PreparedPairs[][];
  alpha: number;
  /** Full-data overall ranks and per-task ranks (per loss). */
  fullRanks: number[];
  fullTaskRanks: number[][];
  /** The chosen metrics' tables per task (same order as pairsByTask), for the replicate level. */
  tablesByTask?: MetricTable[][];
}

/** The table a replicate draw gives: each loss's per-case mean over the drawn replicates. */
function resampledTable(table: MetricTable, replicateWeights: Int32Array): MetricTable {
  const values = replicateValuesOf(table).map((perReplicate) => Array.from(weightedReplicateMean(perReplicate, replicateWeights)));
  return { task: table.task, metric: table.metric, cases: table.cases, values, naCounts: table.naCounts };
}

export function bootstrapRanking(input: BootstrapInput, resamples: number, seed: number): BootstrapResult {
  const L = input.losses.length;
  const T = input.tasks.length;
  const rng = new Rng(seed).fork('bootstrap');
  const rankSamples = Array.from({ length: L }, () => new Float64Array(resamples));
  const tau = new Array<number>(resamples);
  const tauByTask = input.tasks.map(() => new Array<number>(resamples));
  const scores = new Int32Array(L);
  const totals = new Float64Array(L);
  const taskTotals = new Float64Array(L);
  const weights = input.caseCounts.map((n) => new Int32Array(n));
  const replicateCounts = input.tasks.map((_, t) => {
    const first = input.tablesByTask?.[t]?.[0];
    return first === undefined ? 1 : (replicateValuesOf(first)[0] as number[][]).length;
  });
  const replicateWeights = replicateCounts.map((R) => new Int32Array(R));
  // A draw of R replicates with replacement has at most C(2R−1, R) distinct outcomes (10 for R = 3,
  // 126 for R = 5): the pairs prepared for an outcome are kept and reused by later resamples.
  const preparedByDraw = input.tasks.map(() => new Map<string, PreparedPairs[]>());
  const MAX_CACHED_DRAWS = 512;
  for (let b = 0; b < resamples; b++) {
    if ((b & 63) === 0) throwIfInterrupted();
    totals.fill(0);
    for (let t = 0; t < T; t++) {
      const n = input.caseCounts[t] as number;
      const w = weights[t] as Int32Array;
      const R = replicateCounts[t] as number;
      let pairs = input.pairsByTask[t] as PreparedPairs[];
      if (R > 1) {
        const rw = replicateWeights[t] as Int32Array;
        rw.fill(0);
        for (let i = 0; i < R; i++) {
          const k = rng.int(R);
          rw[k] = (rw[k] as number) + 1;
        }
        const cache = preparedByDraw[t] as Map<string, PreparedPairs[]>;
        const key = rw.join(',');
        const cached = cache.get(key);
        if (cached !== undefined) {
          pairs = cached;
        } else {
          pairs = (input.tablesByTask?.[t] as MetricTable[]).map((table) => preparePairs(resampledTable(table, rw)));
          if (cache.size < MAX_CACHED_DRAWS) cache.set(key, pairs);
        }
      }
      w.fill(0);
      for (let i = 0; i < n; i++) {
        const k = rng.int(n);
        w[k] = (w[k] as number) + 1;
      }
      taskTotals.fill(0);
      for (const prepared of pairs) {
        scorePairs(prepared, input.alpha, w, scores);
        for (let l = 0; l < L; l++) taskTotals[l] = (taskTotals[l] as number) + (scores[l] as number);
      }
      for (let l = 0; l < L; l++) totals[l] = (totals[l] as number) + (taskTotals[l] as number);
      (tauByTask[t] as number[])[b] = kendallTauB(input.fullTaskRanks[t] as number[], ranksFromTotals(taskTotals));
    }
    const ranks = ranksFromTotals(totals);
    for (let l = 0; l < L; l++) (rankSamples[l] as Float64Array)[b] = ranks[l] as number;
    tau[b] = kendallTauB(input.fullRanks, ranks);
  }
  const losses = input.losses.map((loss, l) => {
    const sorted = (rankSamples[l] as Float64Array).slice().sort();
    const rankCounts = new Array<number>(L).fill(0);
    for (const r of sorted) rankCounts[r - 1] = (rankCounts[r - 1] as number) + 1;
    return { loss, rankCounts, medianRank: quantile(sorted, 0.5), rankLow: quantile(sorted, 0.025), rankHigh: quantile(sorted, 0.975) };
  });
  const kendallTauByTask: Record<string, number[]> = {};
  input.tasks.forEach((task, t) => (kendallTauByTask[task] = tauByTask[t] as number[]));
  return { resamples, seed, losses, kendallTau: tau, kendallTauByTask };
}
