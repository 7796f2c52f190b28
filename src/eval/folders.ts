/**
 * `evaluateFolders`: score every ground-truth case of a folder against the prediction of the same
 * name, in parallel worker threads, and write
 * - `per_case.csv`  — `case,label,metric,value` (one row per metric of ./metric-descriptors.ts;
 *   `nan` / `inf` as such);
 * - `summary.json`  — per label mean / median / std / count of each metric (statistics over the
 *   finite values, with the numbers of NaN and infinite ones), the foreground mean, and every case;
 * - `results.csv`   — `task,loss,case,metric,value` (+ `label` for multi-label tasks) when a task
 *   and a loss are given: the input of `segloss rank` and of challengeR.
 *
 * Case names: a file `<case>.nii.gz` or `<case>.nii`. A ground-truth case without a prediction is
 * scored as an empty prediction and listed in a warning; a prediction without a ground truth is
 * ignored with a warning. Input errors name the file: a prediction on another grid (shape,
 * spacing, origin or direction; ./grid-check.ts), a reference or prediction with a label value
 * that is not declared (./label-check.ts). The declared labels are the plan's (`declaredLabels`),
 * else `labels`, else those present in the references.
 */
import { readdirSync, statSync, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { InputError, RuntimeFailure, UsageError } from '../util/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { throwIfInterrupted } from '../util/interrupt.js';
import { evaluateCaseFiles, referenceLabels, type CaseResult, type CaseTask } from './case-files.js';
import type { CaseMetrics } from './case-metrics.js';
import type { DeclaredLabels } from './label-check.js';
import { canBeInfinite, METRIC_DESCRIPTORS, METRIC_NAMES, type MetricName } from './metric-descriptors.js';
import type { WorkerReply } from './worker.js';

export interface EvaluateFoldersOptions {
  /** Folder of predictions. A folder that does not exist is scored as all predictions missing (with a warning). */
  predDir: string;
  /** Folder of ground-truth label maps … */
  gtDir?: string;
  /** … or explicit ground-truth files by case id (e.g. a split of a dataset, see `splitGroundTruth`). */
  groundTruth?: Map<string, string>;
  outDir: string;
  /** Shown in messages and summary.json when `groundTruth` is used (e.g. "test split of <dataset>"). */
  groundTruthSource?: string;
  /** Ground-truth cases to score (default: every case of gtDir), e.g. the cases.txt `segloss predict` writes. */
  cases?: string[];
  /**
   * The foreground labels of the task (e.g. the plan's, for a split): a reference or prediction
   * with another nonzero value is an input error. Default: `labels`, else every nonzero label
   * found in the references.
   */
  declaredLabels?: DeclaredLabels;
  /** Foreground labels to score (declared ones); default: every declared label. */
  labels?: number[];
  /** NSD tolerance τ in mm (default 1, as the study). */
  toleranceMm?: number;
  /** With `loss`, also write results.csv. */
  task?: string;
  loss?: string;
  /** Worker threads (default: available cores, at most the number of cases; 1 = in this thread). */
  workers?: number;
  /** Called after every case. */
  onProgress?: (done: number, total: number, caseId: string) => void;
  /** Called with warnings (missing predictions, extra predictions). */
  onWarning?: (message: string) => void;
}

export interface MetricStatistics {
  /** Mean, median and (population) standard deviation over the counted values; NaN when none. */
  mean: number;
  median: number;
  std: number;
  /** Number of values the statistics are over (the finite ones). */
  count: number;
  /** Cases where the metric is NaN (for DSC and NSD: label absent from both ground truth and prediction). */
  nan: number;
  /** Cases where the metric is ±∞ (HD95 with an empty prediction and/or ground truth). */
  inf: number;
}

export interface EvaluationSummary {
  task: string | undefined;
  loss: string | undefined;
  predDir: string;
  /** The ground-truth folder, or a description of the ground-truth source. */
  gtDir: string;
  toleranceMm: number;
  labels: number[];
  cases: number;
  missingPredictions: string[];
  extraPredictions: string[];
  /** perLabel[label][metric] */
  perLabel: Record<string, Record<MetricName, MetricStatistics>>;
  /** Mean over labels of the per-label means. */
  foregroundMean: Record<MetricName, number>;
  /** Every case, labels ascending. */
  results: { case: string; metrics: CaseMetrics[] }[];
  files: { perCase: string; summary: string; results: string | undefined };
}

const NIFTI_SUFFIXES = ['.nii.gz', '.nii'];

/** Case id → file, for the NIfTI files of a folder (a `.nii.gz` wins over a `.nii` of the same case). */
export function listCases(dir: string): Map<string, string> {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new InputError(dir, 'not a directory');
    names = readdirSync(dir);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(dir, 'cannot read the folder');
  }
  const cases = new Map<string, string>();
  for (const suffix of NIFTI_SUFFIXES) {
    for (const name of names) {
      if (!name.endsWith(suffix) || name.startsWith('.')) continue;
      const id = name.slice(0, -suffix.length);
      if (!cases.has(id)) cases.set(id, path.join(dir, name));
    }
  }
  return cases;
}

const collator = new Intl.Collator('en', { numeric: true });

/** Format a metric value for CSV: shortest round-trip decimal, `nan`, `inf`. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return String(v);
}

/** Non-finite numbers as the strings "nan" / "inf" (JSON has no NaN or Infinity). */
function jsonNumber(v: number): number | string {
  return Number.isFinite(v) ? v : formatValue(v);
}

export function metricStatistics(values: number[]): MetricStatistics {
  const nan = values.filter((v) => Number.isNaN(v)).length;
  const inf = values.filter((v) => v === Infinity || v === -Infinity).length;
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = finite.length;
  if (n === 0) return { mean: NaN, median: NaN, std: NaN, count: 0, nan, inf };
  const mean = finite.reduce((s, v) => s + v, 0) / n;
  const median = n % 2 === 1 ? (finite[(n - 1) / 2] as number) : ((finite[n / 2 - 1] as number) + (finite[n / 2] as number)) / 2;
  const std = Math.sqrt(finite.reduce((s, v) => s + (v - mean) * (v - mean), 0) / n);
  return { mean, median, std, count: n, nan, inf };
}

async function runInThisThread(tasks: CaseTask[], onDone: (r: CaseResult) => void): Promise<void> {
  for (const t of tasks) {
    throwIfInterrupted();
    onDone(await evaluateCaseFiles(t));
  }
}

async function runInWorkers(tasks: CaseTask[], workers: number, onDone: (r: CaseResult) => void): Promise<void> {
  const url = new URL('./worker.js', import.meta.url);
  const pool = Array.from({ length: workers }, () => new Worker(url));
  let next = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      let running = 0;
      let failed = false;
      const feed = (w: Worker) => {
        if (failed) return;
        try {
          throwIfInterrupted();
        } catch (err) {
          failed = true;
          reject(err);
          return;
        }
        if (next >= tasks.length) {
          if (running === 0) resolve();
          return;
        }
        running++;
        w.postMessage(tasks[next++]);
      };
      for (const w of pool) {
        w.on('message', (reply: WorkerReply) => {
          running--;
          if (!reply.ok) {
            failed = true;
            reject(reply.input ? new InputError(undefined, reply.message) : new RuntimeFailure(`case ${reply.caseId}: ${reply.message}`));
            return;
          }
          onDone(reply.result);
          feed(w);
        });
        w.on('error', (err) => {
          failed = true;
          reject(err);
        });
      }
      for (const w of pool) feed(w);
    });
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

/** Evaluate a folder of predictions against a folder of ground truths and write the output files. */
export async function evaluateFolders(options: EvaluateFoldersOptions): Promise<EvaluationSummary> {
  const toleranceMm = options.toleranceMm ?? 1;
  if (!(toleranceMm >= 0) || !Number.isFinite(toleranceMm)) throw new UsageError(`--tolerance: expected a non-negative number of mm, got ${toleranceMm}`);
  if ((options.task === undefined) !== (options.loss === undefined)) throw new UsageError('--task and --loss go together (both are needed for results.csv)');
  if (options.labels !== undefined) {
    if (options.labels.length === 0) throw new UsageError('--labels: expected at least one label');
    for (const l of options.labels) if (!Number.isInteger(l) || l <= 0) throw new UsageError(`--labels: expected positive integers, got ${l}`);
  }
  if ((options.gtDir === undefined) === (options.groundTruth === undefined)) throw new UsageError('give the ground truth as a folder (--gt) or as a split (--split with --preprocessed)');
  const gtSource = options.gtDir ?? options.groundTruthSource ?? 'ground truth';
  const gtCases = options.groundTruth ?? listCases(options.gtDir as string);
  const warn = options.onWarning ?? (() => undefined);
  let predCases = new Map<string, string>();
  if (existsSync(options.predDir)) predCases = listCases(options.predDir);
  else warn(`prediction folder ${options.predDir} does not exist: every case is scored as an empty prediction`);
  if (gtCases.size === 0) throw new InputError(gtSource, 'no ground-truth .nii.gz / .nii files');
  if (options.cases !== undefined) {
    const unknown = options.cases.filter((id) => !gtCases.has(id));
    if (unknown.length > 0) throw new InputError(gtSource, `no ground truth for case(s) ${unknown.join(', ')}`);
  }
  const ids = (options.cases !== undefined ? [...new Set(options.cases)] : [...gtCases.keys()]).sort(collator.compare);
  const missing = ids.filter((id) => !predCases.has(id));
  const wanted = new Set(ids);
  const extra = [...predCases.keys()].filter((id) => !wanted.has(id)).sort(collator.compare);
  if (missing.length > 0) warn(`${missing.length} case(s) without a prediction, scored as empty predictions: ${missing.join(', ')}`);
  if (extra.length > 0) warn(`${extra.length} prediction(s) not scored (no ground truth, or not in --cases): ${extra.join(', ')}`);

  const requested = options.labels === undefined ? undefined : [...new Set(options.labels)].sort((a, b) => a - b);
  const declared = await declaredLabels(options.declaredLabels, requested, ids.map((id) => gtCases.get(id) as string), gtSource);
  const labels = requested ?? declared.values;
  const tasks: CaseTask[] = ids.map((id) => ({ caseId: id, gtFile: gtCases.get(id) as string, predFile: predCases.get(id), labels, declared, toleranceMm }));
  const workers = Math.max(1, Math.min(options.workers ?? os.availableParallelism(), tasks.length));
  const byCase = new Map<string, CaseResult>();
  const onDone = (r: CaseResult) => {
    byCase.set(r.caseId, r);
    options.onProgress?.(byCase.size, tasks.length, r.caseId);
  };
  if (workers === 1) await runInThisThread(tasks, onDone);
  else await runInWorkers(tasks, workers, onDone);

  const results = ids.map((id) => byCase.get(id) as CaseResult);

  const perLabel: Record<string, Record<MetricName, MetricStatistics>> = {};
  for (const l of labels) {
    const rows = results.map((r) => r.metrics.find((m) => m.label === l) as CaseMetrics);
    perLabel[String(l)] = byMetric((metric) => metricStatistics(rows.map((m) => m[metric])));
  }
  const foregroundMean = {} as Record<MetricName, number>;
  for (const metric of METRIC_NAMES) {
    const means = labels.map((l) => (perLabel[String(l)] as Record<MetricName, MetricStatistics>)[metric].mean);
    foregroundMean[metric] = means.reduce((s, v) => s + v, 0) / means.length;
  }

  const perCaseFile = path.join(options.outDir, 'per_case.csv');
  const summaryFile = path.join(options.outDir, 'summary.json');
  const resultsFile = options.task !== undefined ? path.join(options.outDir, 'results.csv') : undefined;

  const perCaseLines = ['case,label,metric,value'];
  for (const r of results) for (const m of r.metrics) for (const metric of METRIC_NAMES) perCaseLines.push(`${csvField(r.caseId)},${m.label},${metric},${formatValue(m[metric])}`);
  await writeFileAtomic(perCaseFile, perCaseLines.join('\n') + '\n');

  if (resultsFile !== undefined) {
    const multi = labels.length > 1;
    const lines = [multi ? 'task,loss,case,metric,value,label' : 'task,loss,case,metric,value'];
    const prefix = `${csvField(options.task as string)},${csvField(options.loss as string)}`;
    for (const r of results) {
      for (const m of r.metrics) {
        for (const metric of METRIC_NAMES) lines.push(`${prefix},${csvField(r.caseId)},${metric},${formatValue(m[metric])}${multi ? `,${m.label}` : ''}`);
      }
    }
    await writeFileAtomic(resultsFile, lines.join('\n') + '\n');
  }

  const summary: EvaluationSummary = {
    task: options.task,
    loss: options.loss,
    predDir: path.resolve(options.predDir),
    gtDir: options.gtDir !== undefined ? path.resolve(options.gtDir) : gtSource,
    toleranceMm,
    labels,
    cases: results.length,
    missingPredictions: missing,
    extraPredictions: extra,
    perLabel,
    foregroundMean,
    results: results.map((r) => ({ case: r.caseId, metrics: r.metrics })),
    files: { perCase: perCaseFile, summary: summaryFile, results: resultsFile },
  };
  await writeJsonAtomic(summaryFile, summaryJson(summary));
  return summary;
}

/**
 * The labels references and predictions may contain: the given declaration (and `requested` must
 * be part of it), else the requested labels, else those present in the references.
 */
async function declaredLabels(given: DeclaredLabels | undefined, requested: number[] | undefined, gtFiles: string[], gtSource: string): Promise<DeclaredLabels> {
  if (given !== undefined) {
    const values = [...new Set(given.values.filter((v) => v !== 0))].sort((a, b) => a - b);
    const undeclared = (requested ?? []).filter((l) => !values.includes(l));
    if (undeclared.length > 0) throw new UsageError(`--labels: ${undeclared.join(', ')} not declared by ${given.source} (declared: ${values.join(', ')})`);
    return { values, source: given.source };
  }
  if (requested !== undefined) return { values: requested, source: '--labels' };
  const values = (await referenceLabels(gtFiles)).filter((v) => v !== 0);
  if (values.length === 0) throw new InputError(gtSource, 'no foreground label in any ground truth; pass --labels');
  return { values, source: 'the labels present in the references; pass --labels to declare others' };
}

/** One entry per metric, in the order of METRIC_DESCRIPTORS (the key order of summary.json). */
function byMetric<T>(value: (metric: MetricName) => T): Record<MetricName, T> {
  return Object.fromEntries(METRIC_NAMES.map((m) => [m, value(m)])) as Record<MetricName, T>;
}

/** summary.json's `definitions`: the formulas and how the statistics treat non-finite values. */
export function summaryDefinitions(): string {
  const infinite = METRIC_DESCRIPTORS.filter(canBeInfinite).map((d) => d.displayName);
  return (
    `DeepMind surface-distance: ${METRIC_DESCRIPTORS.map((d) => d.definition).join('; ')}. ` +
    'Statistics: mean/median/population std over finite values; nan = label absent from both masks' +
    (infinite.length > 0 ? `; inf = ${infinite.join('/')} with an empty mask.` : '.')
  );
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** summary.json: the summary with non-finite numbers as "nan" / "inf" strings, snake_case keys. */
export function summaryJson(s: EvaluationSummary): unknown {
  const stats = (m: MetricStatistics) => ({ mean: jsonNumber(m.mean), median: jsonNumber(m.median), std: jsonNumber(m.std), count: m.count, nan: m.nan, inf: m.inf });
  return {
    task: s.task ?? null,
    loss: s.loss ?? null,
    pred_dir: s.predDir,
    gt_dir: s.gtDir,
    tolerance_mm: s.toleranceMm,
    labels: s.labels,
    cases: s.cases,
    definitions: summaryDefinitions(),
    missing_predictions: s.missingPredictions,
    extra_predictions: s.extraPredictions,
    per_label: Object.fromEntries(Object.entries(s.perLabel).map(([l, m]) => [l, byMetric((metric) => stats(m[metric]))])),
    foreground_mean: byMetric((metric) => jsonNumber(s.foregroundMean[metric])),
    results: s.results.map((r) => ({
      case: r.case,
      labels: Object.fromEntries(
        r.metrics.map((m) => [String(m.label), { ...byMetric((metric) => jsonNumber(m[metric])), gt_voxels: m.gtVoxels, pred_voxels: m.predVoxels }]),
      ),
    })),
  };
}
