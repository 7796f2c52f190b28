/**
 * nnU-Net v2's `summary.json` (nnunetv2/evaluation/evaluate_predictions.py: `compute_metrics`,
 * `compute_metrics_on_folder`, `save_summary_json`), so that scripts written for nnU-Net read
 * segloss's evaluations unchanged (docs/evaluation.md, "summary.json"):
 *
 *   { "foreground_mean": { metric: mean over labels of `mean[label][metric]` },
 *     "mean":            { "<label>": { metric: np.nanmean over cases } },
 *     "metric_per_case": [ { "metrics": { "<label>": { Dice, FN, FP, IoU, TN, TP, n_pred, n_ref, DSC, NSD, HD95 } },
 *                            "prediction_file": …, "reference_file": … } ] }
 *
 * Per label: TP = |G ∩ P|, FP = |P \ G|, FN = |G \ P|, TN = the other voxels; Dice = 2TP/(2TP+FP+FN),
 * IoU = TP/(TP+FP+FN), both NaN when TP+FP+FN = 0 (label absent from both); n_pred = TP+FP,
 * n_ref = TP+FN. segloss adds each of its metrics (./metric-descriptors.ts) in the same style, under
 * its display name: DSC (DeepMind's; equal to Dice), NSD (at the evaluation's tolerance) and HD95.
 * Means are `np.nanmean` (NaN cases left out, an infinite HD95 makes the mean infinite) and the
 * foreground mean is `np.mean` over the labels (a NaN label mean makes it NaN), as nnU-Net computes them.
 *
 * The file is written as nnU-Net's `save_json` writes it (Python `json.dump`, indent 4, sorted
 * keys): non-finite numbers are the tokens NaN / Infinity that Python's json module reads back.
 */
import type { CaseMetrics } from './case-metrics.js';
import { METRIC_DESCRIPTORS } from './metric-descriptors.js';

/** nnU-Net's own metrics of one label of one case (`compute_metrics`). */
interface NnunetOwnMetrics {
  Dice: number;
  IoU: number;
  FP: number;
  TP: number;
  FN: number;
  TN: number;
  n_pred: number;
  n_ref: number;
}

/** nnU-Net's metrics of one label of one case, then segloss's by display name (DSC, NSD, HD95). */
export type NnunetLabelMetrics = NnunetOwnMetrics & Record<string, number>;

export interface NnunetCaseEntry {
  metrics: Record<string, NnunetLabelMetrics>;
  /** null when a missing prediction was scored as empty (`--score-missing`): nnU-Net has no such case. */
  prediction_file: string | null;
  reference_file: string;
}

export interface NnunetSummary {
  foreground_mean: NnunetLabelMetrics;
  mean: Record<string, NnunetLabelMetrics>;
  metric_per_case: NnunetCaseEntry[];
}

/** Every key of a label's entry: nnU-Net's, then segloss's metrics by display name. */
export const NNUNET_METRIC_KEYS: readonly string[] = ['Dice', 'IoU', 'FP', 'TP', 'FN', 'TN', 'n_pred', 'n_ref', ...METRIC_DESCRIPTORS.map((d) => d.displayName)];

/** nnU-Net's per-label entry from segloss's comparison of one label. */
export function nnunetLabelMetrics(m: CaseMetrics): NnunetLabelMetrics {
  const tp = m.intersectionVoxels;
  const fp = m.predVoxels - tp;
  const fn = m.gtVoxels - tp;
  const tn = m.voxels - tp - fp - fn;
  const bothEmpty = tp + fp + fn === 0;
  return {
    Dice: bothEmpty ? NaN : (2 * tp) / (2 * tp + fp + fn),
    IoU: bothEmpty ? NaN : tp / (tp + fp + fn),
    FP: fp,
    TP: tp,
    FN: fn,
    TN: tn,
    n_pred: fp + tp,
    n_ref: fn + tp,
    ...Object.fromEntries(METRIC_DESCRIPTORS.map((d) => [d.displayName, m[d.name]])),
  };
}

/** numpy's `nanmean`: mean of the non-NaN values (±∞ included); NaN when there are none. */
export function nanMean(values: readonly number[]): number {
  const kept = values.filter((v) => !Number.isNaN(v));
  if (kept.length === 0) return NaN;
  return kept.reduce((s, v) => s + v, 0) / kept.length;
}

export interface NnunetCaseInput {
  referenceFile: string;
  predictionFile: string | null;
  /** One entry per scored label, ascending. */
  metrics: CaseMetrics[];
}

/** The whole summary from the scored cases and labels (`compute_metrics_on_folder`). */
export function nnunetSummary(cases: readonly NnunetCaseInput[], labels: readonly number[]): NnunetSummary {
  const perCase: NnunetCaseEntry[] = cases.map((c) => ({
    metrics: Object.fromEntries(c.metrics.map((m) => [String(m.label), nnunetLabelMetrics(m)])),
    prediction_file: c.predictionFile,
    reference_file: c.referenceFile,
  }));
  const mean: NnunetSummary['mean'] = {};
  for (const l of labels) {
    const rows = perCase.map((c) => c.metrics[String(l)] as NnunetLabelMetrics);
    mean[String(l)] = Object.fromEntries(NNUNET_METRIC_KEYS.map((k) => [k, nanMean(rows.map((r) => r[k] as number))])) as NnunetLabelMetrics;
  }
  // Labels are foreground only (nnU-Net skips the key 0); np.mean, so a NaN label mean propagates.
  const foreground = labels.filter((l) => l !== 0).map((l) => mean[String(l)] as NnunetLabelMetrics);
  const foregroundMean = Object.fromEntries(
    NNUNET_METRIC_KEYS.map((k) => [k, foreground.length === 0 ? NaN : foreground.reduce((s, m) => s + (m[k] as number), 0) / foreground.length]),
  ) as NnunetLabelMetrics;
  return { foreground_mean: foregroundMean, mean, metric_per_case: perCase };
}

/**
 * JSON text as Python's `json.dump(obj, indent=4, sort_keys=True)` writes it (batchgenerators'
 * `save_json`, which nnU-Net uses): keys sorted by code point, NaN / Infinity / -Infinity as
 * Python's tokens. Numbers use JavaScript's shortest round-trip form (1.0 is written 1).
 */
export function pythonJsonText(value: unknown, indent = 4): string {
  const pad = (depth: number) => ' '.repeat(indent * depth);
  const write = (v: unknown, depth: number): string => {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'number') {
      if (Number.isNaN(v)) return 'NaN';
      if (v === Infinity) return 'Infinity';
      if (v === -Infinity) return '-Infinity';
      return JSON.stringify(v);
    }
    if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[\n${v.map((x) => pad(depth + 1) + write(x, depth + 1)).join(',\n')}\n${pad(depth)}]`;
    }
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, x]) => `${pad(depth + 1)}${JSON.stringify(k)}: ${write(x, depth + 1)}`).join(',\n')}\n${pad(depth)}}`;
  };
  return write(value, 0) + '\n';
}

/** Parse text written by pythonJsonText (or Python's json module): NaN / Infinity tokens become numbers. */
export function parsePythonJson(text: string): unknown {
  // Replace the bare tokens outside strings with sentinel strings, then restore them.
  const marked = text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, (m) => (m.startsWith('"') ? m : `"\\u0000${m}"`));
  return JSON.parse(marked, (_k, v: unknown) => {
    if (typeof v !== 'string' || !v.startsWith('\u0000')) return v;
    const token = v.slice(1);
    return token === 'NaN' ? NaN : token === 'Infinity' ? Infinity : -Infinity;
  });
}
