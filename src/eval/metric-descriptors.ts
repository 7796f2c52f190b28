/**
 * One descriptor per evaluation metric: everything segloss needs to know about DSC, NSD and HD95
 * in one place — how a label's value is computed, its name, unit and direction, its valid range,
 * what a both-empty label scores, what the ranking does with an N/A or infinite value (paper
 * footnote 10), how it is printed, and where it appears by default. Evaluation (`segloss
 * evaluate`), ranking (`segloss rank`: significance direction, N/A policy, Table 2, leaderboard,
 * figures) and the benchmark configuration (`ranking.metrics`) read these descriptors instead of
 * testing metric names.
 *
 * Summaries (summary.json, the `evaluate` table) treat every metric alike: mean, median and
 * population std over its finite values, with the NaN and ±∞ values counted apart
 * (`metricStatistics` in ./folders.ts). The ranking instead replaces each non-finite value
 * following the metric's `naPolicy`.
 *
 * Adding a metric = adding its descriptor to METRIC_DESCRIPTORS (below; docs/architecture.md,
 * "Extending segloss"). This module imports only the pure formulas of ./metrics.ts, so that the
 * ranking stage, which must rank results from anywhere, depends on nothing else of evaluation.
 */
import { dsc, hd95, nsd } from './metrics.js';
import type { LabelComparison } from './surface.js';

/**
 * What the ranking counts instead of a non-finite value (NaN = N/A, or ±∞):
 * - `constant`: that value (DSC, NSD: N/A counts as 0, paper footnote 10);
 * - `beyond-worst-finite`: the task's worst finite value (over all losses, cases and labels) moved
 *   by `margin` in the worse direction — for HD95 the largest finite HD95 + 1 mm, or 1 mm when the
 *   task has no finite value. Worse than every finite value, and equal to every other non-finite
 *   one, so that two failures tie (a zero difference, which the signed-rank test drops).
 */
export type NotAvailablePolicy = { readonly kind: 'constant'; readonly value: number } | { readonly kind: 'beyond-worst-finite'; readonly margin: number };

export interface MetricDescriptor<Name extends string = string> {
  /** Identifier in files and options: results.csv, per_case.csv, summary.json keys, `--metrics`. */
  readonly name: Name;
  /** Name in tables, figure titles and messages. */
  readonly displayName: string;
  /** Unit of the values ('' for ratios). */
  readonly unit: string;
  /** One-line definition, as written into summary.json. */
  readonly definition: string;
  /** DSC and NSD: higher is better; HD95: lower is better (the direction of "significantly better"). */
  readonly higherIsBetter: boolean;
  /** Valid values lie in [min, max]; NaN (N/A) is always valid, +∞ when `max` is Infinity. */
  readonly bounds: { readonly min: number; readonly max: number };
  /** The value of a label absent from both masks (DeepMind's edge-case policy). */
  readonly bothEmptyValue: number;
  /** What the ranking counts instead of a non-finite value. */
  readonly naPolicy: NotAvailablePolicy;
  /** Decimals when printed for people (the `evaluate` table, Table 2, figure captions). */
  readonly digits: number;
  /** Part of the rank score when `--metrics` is not given (paper §3.4: DSC and NSD). */
  readonly rankedByDefault: boolean;
  /** Its mean per task is a column of Table 2 and of the leaderboard (the paper's Table 2: DSC and NSD). */
  readonly tableMean: boolean;
  /** The metric of one label from the comparison of its two masks. */
  compute(comparison: LabelComparison, options: { readonly toleranceMm: number }): number;
}

const descriptor = <Name extends string>(d: MetricDescriptor<Name>): MetricDescriptor<Name> => d;

/** Dice similarity coefficient (DeepMind `compute_dice_coefficient`). */
const DSC = descriptor({
  name: 'dsc',
  displayName: 'DSC',
  unit: '',
  definition: 'DSC = 2|G∩P|/(|G|+|P|)',
  higherIsBetter: true,
  bounds: { min: 0, max: 1 },
  bothEmptyValue: NaN,
  naPolicy: { kind: 'constant', value: 0 },
  digits: 4,
  rankedByDefault: true,
  tableMean: true,
  compute: (c) => dsc(c.gtVoxels, c.predVoxels, c.intersectionVoxels),
});

/** Normalised surface Dice at τ mm (DeepMind `compute_surface_dice_at_tolerance`). */
const NSD = descriptor({
  name: 'nsd',
  displayName: 'NSD',
  unit: '',
  definition: 'NSD = area-weighted surface Dice at tolerance_mm (d <= tau)',
  higherIsBetter: true,
  bounds: { min: 0, max: 1 },
  bothEmptyValue: NaN,
  naPolicy: { kind: 'constant', value: 0 },
  digits: 4,
  rankedByDefault: true,
  tableMean: true,
  compute: (c, { toleranceMm }) => nsd(c.surface, toleranceMm),
});

/** 95th-percentile Hausdorff distance in mm (DeepMind `compute_robust_hausdorff(percent = 95)`). */
const HD95 = descriptor({
  name: 'hd95',
  displayName: 'HD95',
  unit: 'mm',
  definition: 'HD95 = max of the two directed area-weighted 95th percentiles (mm)',
  higherIsBetter: false,
  bounds: { min: 0, max: Infinity },
  bothEmptyValue: Infinity,
  naPolicy: { kind: 'beyond-worst-finite', margin: 1 },
  digits: 2,
  rankedByDefault: false,
  tableMean: false,
  compute: (c) => hd95(c.surface),
});

/** Every metric, in the order of every output (per_case.csv rows, summary.json keys, tables, figures). */
export const METRIC_DESCRIPTORS = [DSC, NSD, HD95] as const;

export type MetricName = (typeof METRIC_DESCRIPTORS)[number]['name'];

export const METRIC_NAMES: readonly MetricName[] = METRIC_DESCRIPTORS.map((d) => d.name);

export function isMetricName(value: string): value is MetricName {
  return (METRIC_NAMES as readonly string[]).includes(value);
}

export function metricDescriptor(name: MetricName): MetricDescriptor<MetricName> {
  return METRIC_DESCRIPTORS.find((d) => d.name === name) as MetricDescriptor<MetricName>;
}

/** The metrics of the rank score by default, e.g. ['dsc', 'nsd']. */
export const DEFAULT_RANK_METRICS: readonly MetricName[] = METRIC_DESCRIPTORS.filter((d) => d.rankedByDefault).map((d) => d.name);

/** Whether the metric can be +∞ (its upper bound is): HD95 of an empty mask. */
export const canBeInfinite = (d: MetricDescriptor): boolean => d.bounds.max === Infinity;

/** Title with unit, e.g. `HD95 (mm)`, `DSC`. */
export const metricTitle = (d: MetricDescriptor): string => (d.unit === '' ? d.displayName : `${d.displayName} (${d.unit})`);

/** Whether a value is valid for the metric: NaN (N/A) or within its bounds. */
export function isValidValue(d: MetricDescriptor, value: number): boolean {
  return Number.isNaN(value) || (value >= d.bounds.min && value <= d.bounds.max);
}

/** The valid values in words, for error messages: `within [0, 1] or nan`, `>= 0 mm, nan or inf`. */
export function validRangeText(d: MetricDescriptor): string {
  const unit = d.unit === '' ? '' : ` ${d.unit}`;
  return canBeInfinite(d) ? `>= ${d.bounds.min}${unit}, nan or inf` : `within [${d.bounds.min}, ${d.bounds.max}] or nan`;
}

/**
 * The value that replaces a non-finite value of this metric in one task, from all of the task's
 * values of the metric (every loss, case and label); see NotAvailablePolicy.
 */
export function notAvailableSubstitute(d: MetricDescriptor, taskValues: Iterable<number>): number {
  const policy = d.naPolicy;
  if (policy.kind === 'constant') return policy.value;
  if (d.higherIsBetter) {
    let worst = d.bounds.max;
    for (const v of taskValues) if (Number.isFinite(v) && v < worst) worst = v;
    return worst - policy.margin;
  }
  let worst = d.bounds.min;
  for (const v of taskValues) if (Number.isFinite(v) && v > worst) worst = v;
  return worst + policy.margin;
}

/** Whether the substitute depends on the task's values (and is therefore reported per task). */
export const substituteDependsOnData = (d: MetricDescriptor): boolean => d.naPolicy.kind !== 'constant';

/** A label-level value with the ranking's N/A policy applied (non-finite → substitute). */
export function rankingValue(value: number, substitute: number): number {
  return Number.isFinite(value) ? value : substitute;
}

/**
 * The ranking's N/A policy of some metrics in words, e.g. `N/A DSC/NSD count as 0; infinite HD95
 * as the task's largest finite HD95 + 1 mm` (the leaderboard's rule and Table 2 read this).
 */
export function naPolicyText(descriptors: readonly MetricDescriptor[]): string {
  const parts: string[] = [];
  const constants = new Map<number, string[]>();
  for (const d of descriptors) {
    if (d.naPolicy.kind === 'constant') constants.set(d.naPolicy.value, [...(constants.get(d.naPolicy.value) ?? []), d.displayName]);
  }
  for (const [value, names] of constants) parts.push(`N/A ${names.join('/')} count as ${value}`);
  for (const d of descriptors) {
    if (d.naPolicy.kind !== 'beyond-worst-finite') continue;
    const unit = d.unit === '' ? '' : ` ${d.unit}`;
    const extreme = d.higherIsBetter ? 'smallest' : 'largest';
    parts.push(`infinite ${d.displayName} as the task's ${extreme} finite ${d.displayName} ${d.higherIsBetter ? '−' : '+'} ${d.naPolicy.margin}${unit}`);
  }
  return parts.join('; ');
}
