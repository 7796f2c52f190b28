/** Shared types of the ranking stage. The metrics and their properties: src/eval/metric-descriptors.ts. */
import type { MetricName } from '../eval/metric-descriptors.js';
import type { ProvenanceEntry } from '../util/provenance.js';

export type { MetricName };

/** One row of a long-format results file: `task,loss,case,metric,value[,label]`. */
export interface ResultRow {
  task: string;
  loss: string;
  case: string;
  metric: MetricName;
  /** The metric value as written; NaN and ±Infinity allowed (N/A policy applied later). */
  value: number;
  /** Foreground label when the file has a `label` column (multi-label tasks); values are averaged over labels. */
  label?: string;
  /** Seed of the trained network (optional `seed` column); rows differing only in seed/fold are replicates. */
  seed?: number;
  /** Validation fold of the trained network (optional `fold` column). */
  fold?: number;
  /** Where the row came from, `file:line`, for error messages. */
  source?: string;
}

export interface RankOptions {
  /** Metrics whose significance scores form the rank score (default dsc, nsd). */
  metrics: string[];
  /** Significance level of the two-sided Wilcoxon test (p < alpha). */
  alpha: number;
  /** Number of bootstrap resamples of the cases (0 = no bootstrap). */
  bootstrap: number;
  /** Seed of the bootstrap's random stream. */
  seed: number;
  /** How the ranked networks were trained (provenance.json entries), when known. */
  provenance?: ProvenanceEntry[];
}

/** One trained network of a loss: its seed and validation fold (null when the results do not say). */
export interface Replicate {
  seed: number | null;
  fold: number | null;
}

/** The study's ranking computed on one replicate alone. */
export interface ReplicateRank {
  seed: number | null;
  fold: number | null;
  loss: string;
  rankScore: number;
  rank: number;
}

/** A loss's ranks over the replicates. */
export interface ReplicateRankSummary {
  median: number;
  min: number;
  max: number;
  /** Fraction of replicates in which the loss ranks first (ties included). */
  shareFirst: number;
  count: number;
}

/** Effect size of one ordered pair of losses on one task and metric (docs/ranking.md, "Effect sizes"). */
export interface EffectRow {
  task: string;
  metric: MetricName;
  lossA: string;
  lossB: string;
  nCases: number;
  /** Mean over cases of (a − b) on the ranked values. */
  meanDiff: number;
  /** 95 % percentile bootstrap interval of meanDiff. */
  ciLow: number;
  ciHigh: number;
  /** The pair's two-sided Wilcoxon p-value. */
  pValue: number;
  significant: boolean;
}

export type WarningCode = 'too-few-cases' | 'single-replicate' | 'under-trained' | 'unequal-compute' | 'lr-at-grid-edge' | 'synthetic-data';

export interface RankWarning {
  code: WarningCode;
  message: string;
  task?: string;
  loss?: string;
}

/** How the networks of one (task, loss) were trained, summarised over its replicates. */
export interface ProvenanceSummary {
  task: string;
  loss: string;
  steps: number;
  budgetSteps: number;
  /** The steps its training profile plans uncapped (largest over replicates); null when a replicate did not record it. */
  profileSteps: number | null;
  epochs: number;
  stopReason: string;
  learningRate: number;
  lrScores: { learningRate: number; score: number | null }[];
  replicates: Replicate[];
  checkpoint: { kind: 'best' | 'final'; epoch: number | null };
  seconds: number;
  valCurves: { seed: number; fold: number; points: { epoch: number; valDice: number | null }[] }[];
}

/** One task × metric × loss of the published comparison. */
export interface PublishedRow {
  task: string;
  metric: MetricName;
  loss: string;
  publishedMean: number;
  mean: number;
  ciLow: number;
  ciHigh: number;
  /** mean − publishedMean. */
  difference: number;
  caveat?: string;
}

export interface PublishedComparison {
  /** Which table: 'table2' or 'nnunetv2'. */
  table: string;
  /** The table's source line. */
  source: string;
  rows: PublishedRow[];
  /** Kendall's τ-b between the published and the reproduced order, per task and metric. */
  tau: { task: string; metric: MetricName; tau: number; n: number }[];
}

/** The per-case values of one task and metric after the N/A policy, one row per loss. */
export interface MetricTable {
  task: string;
  metric: MetricName;
  /** Case ids, sorted; the columns of `values`. */
  cases: string[];
  /** values[lossIndex][caseIndex], N/A policy applied and averaged over labels. */
  values: number[][];
  /** na[lossIndex] = number of label values that were N/A (NaN or ±inf) before the policy. */
  naCounts: number[];
  /**
   * replicateValues[lossIndex][replicateIndex][caseIndex]: the same per replicate (replicates in the
   * order of `Ranking.replicates[task]`); `values` is their mean over replicates.
   */
  replicateValues?: number[][][];
  /** For metrics whose N/A substitute depends on the data (HD95: largest finite HD95 of the task + 1 mm): that value. */
  substitute?: number;
}

/** Pairwise tests of one task and metric. */
export interface PairwiseComparison {
  task: string;
  metric: MetricName;
  /** pvalues[a][b] (symmetric, NaN on the diagonal and for untestable pairs). */
  pvalues: number[][];
  /** better[a][b]: loss a is significantly better than loss b. */
  better: boolean[][];
  /** score[a] = number of losses a is significantly better than. */
  scores: number[];
  /** worseThan[a] = number of losses significantly better than a. */
  worseThan: number[];
}

export interface LeaderboardEntry {
  /** 1-based; ties share the better (smaller) rank. */
  rank: number;
  loss: string;
  /** Mean significance score over the tasks and the chosen metrics. */
  rankScore: number;
  /** Significance score per `<task>/<metric>` of the chosen metrics. */
  scores: Record<string, number>;
  /**
   * Mean per-case value (after the N/A policy) per task, means[metric][task], for the metrics whose
   * descriptor has `tableMean` (DSC, NSD), when the input has them.
   */
  means: Partial<Record<MetricName, Record<string, number>>>;
  /** The loss's ranks over the replicates (when the ranking has replicates). */
  replicateRank?: ReplicateRankSummary;
}

/** A ranking under one choice of metrics (paper §5.1: DSC+NSD, DSC, NSD, HD95). */
export interface SchemeRanking {
  name: string;
  metrics: MetricName[];
  /** rank per loss, in the order of `Ranking.losses`. */
  ranks: number[];
  rankScores: number[];
}

export interface BootstrapLossSummary {
  loss: string;
  /** rankCounts[r - 1] = number of resamples in which the loss got rank r. */
  rankCounts: number[];
  medianRank: number;
  /** 2.5% and 97.5% quantiles of the bootstrap ranks. */
  rankLow: number;
  rankHigh: number;
}

export interface BootstrapResult {
  resamples: number;
  seed: number;
  losses: BootstrapLossSummary[];
  /** Kendall's τ-b between the full ranking and each resample's ranking (NaN when undefined). */
  kendallTau: number[];
  /** Per task: τ-b between the task's full-data ranking and its resample ranking. */
  kendallTauByTask: Record<string, number[]>;
}

export interface Ranking {
  options: { metrics: MetricName[]; alpha: number; bootstrap: number; seed: number };
  tasks: string[];
  /** Losses sorted by name (the order of every per-loss array). */
  losses: string[];
  /** Metrics present in the input. */
  metricsAvailable: MetricName[];
  /** Whether the input had a label column (values are means over labels). */
  multiLabel: boolean;
  tables: MetricTable[];
  comparisons: PairwiseComparison[];
  /** Sorted by rank, then loss name. */
  leaderboard: LeaderboardEntry[];
  /** The default scheme first, then one per single metric available. */
  schemes: SchemeRanking[];
  bootstrap?: BootstrapResult;
  /** Input files the rows were read from (for the report). */
  sources: string[];
  /** Per task, sorted: the replicates every loss has; [{seed: null, fold: null}] when the input has no seed/fold columns. */
  replicates: Record<string, Replicate[]>;
  replicateRanks: ReplicateRank[];
  effects: EffectRow[];
  warnings: RankWarning[];
  /** null = unknown (results from CSV files without provenance). */
  provenance: ProvenanceSummary[] | null;
  /** Per task: the loss named best, or null when none can be (too few cases, or a tie for first). */
  topLoss: Record<string, string | null>;
  published?: PublishedComparison;
  /** Multi-label input only: each loss's mean per label (report-labels.ts), for the report's per-label view. */
  labelMeans?: LabelMean[];
}

/** A loss's mean of one metric for one label of a task, over cases and replicates, after the N/A policy. */
export interface LabelMean {
  task: string;
  metric: MetricName;
  label: string;
  loss: string;
  mean: number;
  /** Number of values averaged (cases × replicates). */
  n: number;
}
