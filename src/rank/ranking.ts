/**
 * The study's ranking (paper §3.4, step 2): Rank Score(loss) = mean of its significance scores
 * over all tasks t and the chosen metrics j, (1 / (|T|·|J|)) Σ_t Σ_j score_tj(loss); losses are
 * ranked by descending rank score, ties sharing the better rank. Stability (paper §5.1): the same
 * ranking from each single metric beside the chosen combination, and a bootstrap over cases.
 *
 * Beside the rule (docs/ranking.md): replicates (rows differing only in seed/fold) are averaged
 * per case before it, and ranked one by one for the replicate ranks; effect sizes per pair;
 * provenance summaries and the warnings a reader needs (./warnings.ts).
 */
import { UsageError } from '../util/errors.js';
import { DEFAULT_RANK_METRICS, isMetricName, metricDescriptor, METRIC_DESCRIPTORS, METRIC_NAMES } from '../eval/metric-descriptors.js';
import { bootstrapRanking } from './bootstrap.js';
import { ranksFromTotals } from './ranks.js';
import { comparePairs, preparePairs, type PreparedPairs } from './significance.js';
import { buildMetricTables, naturalCompare } from './tables.js';
import { labelMeans } from './report-labels.js';
import { computeEffects } from './effects.js';
import { noPairCanBeSignificant, rankingWarnings } from './warnings.js';
import { summariseProvenance } from './provenance.js';
import { compareReplicates, replicateKey, replicateOf, summariseReplicateRanks } from './replicates.js';
import type {
  Replicate,
  LeaderboardEntry,
  MetricName,
  MetricTable,
  PairwiseComparison,
  Ranking,
  RankOptions,
  ResultRow,
  SchemeRanking,
} from './types.js';

export const DEFAULT_RANK_OPTIONS: RankOptions = { metrics: [...DEFAULT_RANK_METRICS], alpha: 0.05, bootstrap: 1000, seed: 12345 };

/** Key of a task × metric column, e.g. `liver/dsc`. */
export const scoreKey = (task: string, metric: string): string => `${task}/${metric}`;

/** Display name of a metric combination, e.g. `DSC+NSD`. */
export const schemeName = (metrics: readonly MetricName[]): string => metrics.map((m) => metricDescriptor(m).displayName).join('+');

function validateOptions(options: RankOptions, available: MetricName[]): MetricName[] {
  if (options.metrics.length === 0) throw new UsageError(`--metrics: give at least one of ${METRIC_NAMES.join(', ')}`);
  const metrics: MetricName[] = [];
  for (const raw of options.metrics) {
    const m = raw.trim().toLowerCase();
    if (!isMetricName(m)) throw new UsageError(`--metrics: unknown metric '${raw}' (expected ${METRIC_NAMES.join(', ')})`);
    if (!available.includes(m)) {
      throw new UsageError(`--metrics: the results have no ${m} values for every task (available: ${available.join(', ') || 'none'})`);
    }
    if (!metrics.includes(m)) metrics.push(m);
  }
  if (!(options.alpha > 0 && options.alpha < 1)) throw new UsageError(`--alpha: expected a number in (0, 1), got ${options.alpha}`);
  if (!Number.isInteger(options.bootstrap) || options.bootstrap < 0) {
    throw new UsageError(`--bootstrap: expected a non-negative integer, got ${options.bootstrap}`);
  }
  if (!Number.isInteger(options.seed)) throw new UsageError(`--seed: expected an integer, got ${options.seed}`);
  return metrics;
}

function mean(values: number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/** Summed significance scores over tasks and the given metrics (exact integers), per loss. */
function totalsFor(comparisons: PairwiseComparison[], metrics: MetricName[], L: number, task?: string): number[] {
  const totals = new Array<number>(L).fill(0);
  for (const c of comparisons) {
    if (!metrics.includes(c.metric) || (task !== undefined && c.task !== task)) continue;
    for (let l = 0; l < L; l++) totals[l] = (totals[l] as number) + (c.scores[l] as number);
  }
  return totals;
}

function schemeRanking(comparisons: PairwiseComparison[], metrics: MetricName[], tasks: string[], L: number): SchemeRanking {
  const totals = totalsFor(comparisons, metrics, L);
  return {
    name: schemeName(metrics),
    metrics,
    ranks: ranksFromTotals(totals),
    rankScores: totals.map((t) => t / (tasks.length * metrics.length)),
  };
}

/** The one loss with the highest total, or null when several share it. */
function uniqueFirst(losses: string[], totals: number[]): string | null {
  const ranks = ranksFromTotals(totals);
  const first = losses.filter((_, l) => ranks[l] === 1);
  return first.length === 1 ? (first[0] as string) : null;
}

/** Rank the losses of the given per-case results (see the file comment and docs/ranking.md). */
export function rankResults(rows: ResultRow[], options: RankOptions): Ranking {
  const ranking = rankCore(rows, options, true);
  const allReplicates = distinctReplicates(ranking.replicates);
  if (Object.values(ranking.replicates).some((r) => r.length > 1)) {
    // The study's ranking on each replicate alone, over the tasks that have it (its own N/A substitutes).
    const ranksByLoss = new Map<string, number[]>(ranking.losses.map((l) => [l, []]));
    for (const rep of allReplicates) {
      const key = replicateKey(rep);
      const sub = rankCore(rows.filter((r) => replicateKey(replicateOf(r)) === key), { ...options, metrics: ranking.options.metrics, bootstrap: 0 }, false);
      for (const e of sub.leaderboard) {
        ranking.replicateRanks.push({ seed: rep.seed, fold: rep.fold, loss: e.loss, rankScore: e.rankScore, rank: e.rank });
        ranksByLoss.get(e.loss)?.push(e.rank);
      }
    }
    for (const e of ranking.leaderboard) e.replicateRank = summariseReplicateRanks(ranksByLoss.get(e.loss) ?? []);
  }
  ranking.effects = computeEffects(ranking.tables, ranking.comparisons, ranking.losses, options.alpha, options.bootstrap, options.seed);
  const provenance = options.provenance ?? [];
  const summaries = summariseProvenance(provenance, ranking.tasks, ranking.losses);
  // Entries that match no ranked task and loss leave the provenance unknown.
  ranking.provenance = summaries.length === 0 ? null : summaries;
  ranking.warnings = rankingWarnings({
    tasks: ranking.tasks,
    caseCounts: Object.fromEntries(ranking.tasks.map((t) => [t, ranking.tables.find((x) => x.task === t)?.cases.length ?? 0])),
    replicates: ranking.replicates,
    alpha: options.alpha,
    provenance: ranking.provenance,
  });
  return ranking;
}

/** Every replicate of any task, sorted. */
function distinctReplicates(byTask: Record<string, Replicate[]>): Replicate[] {
  const all = new Map<string, Replicate>();
  for (const reps of Object.values(byTask)) for (const r of reps) all.set(replicateKey(r), r);
  return [...all.values()].sort(compareReplicates);
}

/** The ranking itself; `full` adds the bootstrap (the per-replicate rankings skip it). */
function rankCore(rows: ResultRow[], options: RankOptions, full: boolean): Ranking {
  const built = buildMetricTables(rows);
  const metrics = validateOptions(options, built.metricsAvailable);
  const { tasks, losses } = built;
  const L = losses.length;
  const used = built.tables.filter((t) => built.metricsAvailable.includes(t.metric));
  const prepared = new Map<MetricTable, PreparedPairs>(used.map((t) => [t, preparePairs(t)]));
  const comparisons = used.map((t) => comparePairs(t, options.alpha, prepared.get(t)));

  const schemes: SchemeRanking[] = [schemeRanking(comparisons, metrics, tasks, L)];
  for (const m of built.metricsAvailable) {
    if (metrics.length === 1 && metrics[0] === m) continue;
    schemes.push(schemeRanking(comparisons, [m], tasks, L));
  }
  const main = schemes[0] as SchemeRanking;

  const tableOf = (task: string, metric: MetricName) => built.tables.find((t) => t.task === task && t.metric === metric);
  const entries: LeaderboardEntry[] = losses.map((loss, l) => {
    const scores: Record<string, number> = {};
    for (const task of tasks) {
      for (const m of metrics) {
        const c = comparisons.find((x) => x.task === task && x.metric === m) as PairwiseComparison;
        scores[scoreKey(task, m)] = c.scores[l] as number;
      }
    }
    const means: LeaderboardEntry['means'] = {};
    for (const d of METRIC_DESCRIPTORS.filter((x) => x.tableMean)) {
      const perTask: Record<string, number> = {};
      for (const task of tasks) {
        const table = tableOf(task, d.name);
        if (table !== undefined) perTask[task] = mean(table.values[l] as number[]);
      }
      means[d.name] = perTask;
    }
    return { rank: main.ranks[l] as number, loss, rankScore: main.rankScores[l] as number, scores, means };
  });
  const leaderboard = [...entries].sort((a, b) => a.rank - b.rank || naturalCompare(a.loss, b.loss));

  const ranking: Ranking = {
    options: { metrics, alpha: options.alpha, bootstrap: options.bootstrap, seed: options.seed },
    tasks,
    losses,
    metricsAvailable: built.metricsAvailable,
    multiLabel: built.multiLabel,
    tables: built.tables,
    comparisons,
    leaderboard,
    schemes,
    sources: [...new Set(rows.map((r) => (r.source ?? '').replace(/:\d+$/, '')).filter((s) => s !== ''))],
    replicates: built.replicates,
    replicateRanks: [],
    effects: [],
    warnings: [],
    provenance: null,
    topLoss: Object.fromEntries(
      tasks.map((task) => {
        const nCases = (built.tables.find((t) => t.task === task) as MetricTable).cases.length;
        return [task, noPairCanBeSignificant(nCases, options.alpha) ? null : uniqueFirst(losses, totalsFor(comparisons, metrics, L, task))];
      }),
    ),
  };
  if (full && built.multiLabel) ranking.labelMeans = labelMeans(rows);
  if (full && options.bootstrap > 0 && L > 1) {
    const chosen = (task: string) => used.filter((t) => t.task === task && metrics.includes(t.metric));
    ranking.bootstrap = bootstrapRanking(
      {
        tasks,
        losses,
        caseCounts: tasks.map((task) => (chosen(task)[0] as MetricTable).cases.length),
        pairsByTask: tasks.map((task) => chosen(task).map((t) => prepared.get(t) as PreparedPairs)),
        alpha: options.alpha,
        fullRanks: main.ranks,
        fullTaskRanks: tasks.map((task) => ranksFromTotals(totalsFor(comparisons, metrics, L, task))),
        tablesByTask: tasks.map((task) => chosen(task)),
      },
      options.bootstrap,
      options.seed,
    );
  }
  return ranking;
}
