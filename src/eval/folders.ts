/**
 * `evaluateFolders`: score the predictions of a folder against the ground truth of the same case
 * names, in parallel worker threads, and write
 * - `per_case.csv`  — `case,label,metric,value` (one row per metric of ./metric-descriptors.ts;
 *   `nan` / `inf` as such);
 * - `summary.json`  — nnU-Net v2's schema (`metric_per_case`, `mean`, `foreground_mean`; Dice, IoU,
 *   TP/FP/FN/TN, n_pred, n_ref, plus segloss's DSC, NSD and HD95; ./nnunet-summary.ts);
 * - `segloss_summary.json` — per label mean / median / std / count of each metric (statistics over
 *   the finite values, with the numbers of NaN and infinite ones), the foreground mean, the cases
 *   without prediction, and every case;
 * - `results.csv`   — `task,loss,case,metric,value` (+ `label` for multi-label tasks, + `seed,fold`
 *   for a known replicate) when a task and a loss are known: the input of `segloss rank` and of challengeR;
 * - `provenance.json` — when the predictions come from a segloss run (`run.json` of `segloss
 *   predict`, ./run-info.ts): how its network was trained (./provenance.ts).
 *
 * Case names: a file `<case>.nii.gz` or `<case>.nii`. As nnU-Net's `compute_metrics_on_folder`,
 * the cases scored are the reference cases that have a prediction; the others are listed in a
 * warning and in segloss_summary.json (`missing: 'error'` refuses them, `missing: 'empty'` scores
 * them as empty predictions, as the benchmark does for a diverged training). A prediction without
 * a ground truth is ignored with a warning. Input errors name the file: a prediction on another
 * grid (shape, spacing, origin or direction; ./grid-check.ts), a reference or prediction with a
 * label value that is not declared (./label-check.ts). The declared labels are the plan's
 * (`declaredLabels`), else `labels`, else those present in the references.
 */
import { readdirSync, rmSync, statSync, existsSync } from 'node:fs';
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
import { nnunetSummary, pythonJsonText } from './nnunet-summary.js';
import { readPredictionRunInfo, type PredictionRunInfo } from './run-info.js';
import { buildProvenanceEntry } from './provenance.js';
import { PROVENANCE_FILE_NAME, writeProvenanceFile } from '../util/provenance.js';

/**
 * Reference cases without a prediction: 'skip' (default, as nnU-Net: not scored, listed),
 * 'error' (`--strict`: an input error naming them), 'empty' (`--score-missing`: scored as empty
 * predictions, DSC 0 / NSD 0 / HD95 inf — the benchmark's N/A for a diverged training).
 */
export type MissingPredictionPolicy = 'skip' | 'error' | 'empty';

/** File names written into the output folder. */
export const EVALUATION_FILES = {
  perCase: 'per_case.csv',
  /** nnU-Net v2's schema. */
  summary: 'summary.json',
  /** segloss's own summary (statistics over finite values, missing cases, definitions). */
  seglossSummary: 'segloss_summary.json',
  results: 'results.csv',
} as const;

export interface EvaluateFoldersOptions {
  /** Folder of predictions (with `run.json` when `segloss predict` wrote it). */
  predDir: string;
  /** Reference cases without a prediction (default 'skip'). */
  missing?: MissingPredictionPolicy;
  /**
   * The replicate of the predictions, for results.csv's `seed` and `fold` columns (both or
   * neither). Predictions with a run.json carry their own; a different value is a usage error.
   */
  seed?: number;
  fold?: number;
  /** Folder of ground-truth label maps … */
  gtDir?: string;
  /** … or explicit ground-truth files by case id (e.g. a split of a dataset, see `splitGroundTruth`). */
  groundTruth?: Map<string, string>;
  outDir: string;
  /** Shown in messages and summary.json when `groundTruth` is used (e.g. "test split of <dataset>"). */
  groundTruthSource?: string;
  /** The task's label_map (dataset value → task value) to apply to every reference (a split's plan has one when the task merges labels). */
  referenceLabelMap?: Record<number, number>;
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
  /** With `loss`, also write results.csv (default: the run's, for predictions with a run.json). */
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
  /** Reference cases without a prediction (scored as empty with `missing: 'empty'`, else not scored). */
  missingPredictions: string[];
  missingPolicy: MissingPredictionPolicy;
  /** The replicate, when known (run.json or seed/fold options). */
  seed: number | null;
  fold: number | null;
  /** The segloss run the predictions came from (run.json), if any. */
  run: PredictionRunInfo | null;
  extraPredictions: string[];
  /** perLabel[label][metric] */
  perLabel: Record<string, Record<MetricName, MetricStatistics>>;
  /** Mean over labels of the per-label means. */
  foregroundMean: Record<MetricName, number>;
  /** Every case, labels ascending. */
  results: { case: string; metrics: CaseMetrics[] }[];
  files: { perCase: string; summary: string; seglossSummary: string; results: string | undefined; provenance: string | undefined };
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
  if ((options.seed === undefined) !== (options.fold === undefined)) throw new UsageError('--seed and --fold go together (the replicate of results.csv)');
  for (const [flag, v] of [['--seed', options.seed], ['--fold', options.fold]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new UsageError(`${flag}: expected a non-negative integer, got ${v}`);
  }
  const policy = options.missing ?? 'skip';
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
  else if (policy === 'empty') warn(`prediction folder ${options.predDir} does not exist: every case is scored as an empty prediction`);
  else throw new InputError(options.predDir, 'prediction folder does not exist');
  const run = existsSync(options.predDir) ? readPredictionRunInfo(options.predDir) : undefined;
  const replicate = replicateOf(run, options.seed, options.fold, options.predDir);
  const task = options.task ?? run?.task;
  const loss = options.loss ?? run?.loss;
  if (gtCases.size === 0) throw new InputError(gtSource, 'no ground-truth .nii.gz / .nii files');
  if (options.cases !== undefined) {
    const unknown = options.cases.filter((id) => !gtCases.has(id));
    if (unknown.length > 0) throw new InputError(gtSource, `no ground truth for case(s) ${unknown.join(', ')}`);
  }
  const referenceIds = (options.cases !== undefined ? [...new Set(options.cases)] : [...gtCases.keys()]).sort(collator.compare);
  const missing = referenceIds.filter((id) => !predCases.has(id));
  const wanted = new Set(referenceIds);
  const extra = [...predCases.keys()].filter((id) => !wanted.has(id)).sort(collator.compare);
  if (missing.length > 0) {
    if (policy === 'error') throw new InputError(options.predDir, `${missing.length} reference case(s) without a prediction (--strict): ${missing.join(', ')}`);
    if (policy === 'empty') warn(`${missing.length} case(s) without a prediction, scored as empty predictions: ${missing.join(', ')}`);
    else warn(`${missing.length} reference case(s) without a prediction, not scored (--strict refuses them, --score-missing scores them as empty): ${missing.join(', ')}`);
  }
  if (extra.length > 0) warn(`${extra.length} prediction(s) not scored (no ground truth, or not in --cases): ${extra.join(', ')}`);
  const ids = policy === 'empty' ? referenceIds : referenceIds.filter((id) => predCases.has(id));
  if (ids.length === 0) throw new InputError(options.predDir, `no prediction for any of the ${referenceIds.length} reference case(s) (--score-missing scores them as empty predictions)`);

  const requested = options.labels === undefined ? undefined : [...new Set(options.labels)].sort((a, b) => a - b);
  const declared = await declaredLabels(options.declaredLabels, requested, ids.map((id) => gtCases.get(id) as string), gtSource);
  const labels = requested ?? declared.values;
  const referenceLabelMap = options.referenceLabelMap;
  const tasks: CaseTask[] = ids.map((id) => ({
    caseId: id, gtFile: gtCases.get(id) as string, predFile: predCases.get(id), labels, declared, toleranceMm,
    ...(referenceLabelMap !== undefined ? { referenceLabelMap } : {}),
  }));
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

  const perCaseFile = path.join(options.outDir, EVALUATION_FILES.perCase);
  const summaryFile = path.join(options.outDir, EVALUATION_FILES.summary);
  const seglossSummaryFile = path.join(options.outDir, EVALUATION_FILES.seglossSummary);
  const resultsFile = task !== undefined && loss !== undefined ? path.join(options.outDir, EVALUATION_FILES.results) : undefined;

  const perCaseLines = ['case,label,metric,value'];
  for (const r of results) for (const m of r.metrics) for (const metric of METRIC_NAMES) perCaseLines.push(`${csvField(r.caseId)},${m.label},${metric},${formatValue(m[metric])}`);
  await writeFileAtomic(perCaseFile, perCaseLines.join('\n') + '\n');

  if (resultsFile !== undefined) await writeFileAtomic(resultsFile, resultsCsvText(task as string, loss as string, labels.length > 1, replicate, results));

  await writeFileAtomic(summaryFile, pythonJsonText(nnunetSummary(
    results.map((r) => ({ referenceFile: path.resolve(gtCases.get(r.caseId) as string), predictionFile: predCases.has(r.caseId) ? path.resolve(predCases.get(r.caseId) as string) : null, metrics: r.metrics })),
    labels,
  )));

  let provenanceFile: string | undefined;
  if (run !== undefined) {
    // The run directory may have moved with the results; provenance is then unknown, not wrong.
    try {
      if (!existsSync(run.runDir)) throw new InputError(run.runDir, `the run directory named by ${path.join(options.predDir, 'run.json')} does not exist`);
      provenanceFile = writeProvenanceFile(options.outDir, [buildProvenanceEntry(run.runDir, run.checkpoint)]);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      warn(`no provenance.json: ${err.message}`);
    }
  }
  if (provenanceFile === undefined) {
    // A provenance.json of an earlier evaluation into this folder would describe other predictions.
    rmSync(path.join(options.outDir, PROVENANCE_FILE_NAME), { force: true });
  }

  const summary: EvaluationSummary = {
    task,
    loss,
    predDir: path.resolve(options.predDir),
    gtDir: options.gtDir !== undefined ? path.resolve(options.gtDir) : gtSource,
    toleranceMm,
    labels,
    cases: results.length,
    missingPredictions: missing,
    missingPolicy: policy,
    seed: replicate?.seed ?? null,
    fold: replicate?.fold ?? null,
    run: run ?? null,
    extraPredictions: extra,
    perLabel,
    foregroundMean,
    results: results.map((r) => ({ case: r.caseId, metrics: r.metrics })),
    files: { perCase: perCaseFile, summary: summaryFile, seglossSummary: seglossSummaryFile, results: resultsFile, provenance: provenanceFile },
  };
  await writeJsonAtomic(seglossSummaryFile, summaryJson(summary));
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

/** One entry per metric, in the order of METRIC_DESCRIPTORS (the key order of segloss_summary.json). */
function byMetric<T>(value: (metric: MetricName) => T): Record<MetricName, T> {
  return Object.fromEntries(METRIC_NAMES.map((m) => [m, value(m)])) as Record<MetricName, T>;
}

/** segloss_summary.json's `definitions`: the formulas and how the statistics treat non-finite values. */
export function summaryDefinitions(): string {
  const infinite = METRIC_DESCRIPTORS.filter(canBeInfinite).map((d) => d.displayName);
  return (
    `DeepMind surface-distance: ${METRIC_DESCRIPTORS.map((d) => d.definition).join('; ')}. ` +
    'Statistics: mean/median/population std over finite values; nan = label absent from both masks' +
    (infinite.length > 0 ? `; inf = ${infinite.join('/')} with an empty mask.` : '.')
  );
}

/** The replicate of the predictions: run.json's, or the options' (which must agree with run.json). */
function replicateOf(run: PredictionRunInfo | undefined, seed: number | undefined, fold: number | undefined, predDir: string): { seed: number; fold: number } | undefined {
  if (run !== undefined) {
    if ((seed !== undefined && seed !== run.seed) || (fold !== undefined && fold !== run.fold)) {
      throw new UsageError(`--seed ${seed} --fold ${fold}: the predictions in ${predDir} come from seed ${run.seed}, fold ${run.fold} (run.json)`);
    }
    return { seed: run.seed, fold: run.fold };
  }
  return seed !== undefined && fold !== undefined ? { seed, fold } : undefined;
}

/** results.csv: `task,loss,case,metric,value` (+ `label` when several labels, + `seed,fold` for a known replicate). */
export function resultsCsvText(task: string, loss: string, multiLabel: boolean, replicate: { seed: number; fold: number } | undefined, results: readonly CaseResult[]): string {
  const header = ['task', 'loss', 'case', 'metric', 'value', ...(multiLabel ? ['label'] : []), ...(replicate !== undefined ? ['seed', 'fold'] : [])];
  const lines = [header.join(',')];
  const prefix = `${csvField(task)},${csvField(loss)}`;
  const suffix = replicate !== undefined ? `,${replicate.seed},${replicate.fold}` : '';
  for (const r of results) {
    for (const m of r.metrics) {
      for (const metric of METRIC_NAMES) lines.push(`${prefix},${csvField(r.caseId)},${metric},${formatValue(m[metric])}${multiLabel ? `,${m.label}` : ''}${suffix}`);
    }
  }
  return lines.join('\n') + '\n';
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** segloss_summary.json: the summary with non-finite numbers as "nan" / "inf" strings, snake_case keys. */
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
    missing_policy: s.missingPolicy,
    seed: s.seed,
    fold: s.fold,
    run: s.run === null ? null : { run_dir: s.run.runDir, checkpoint: s.run.checkpoint.kind, checkpoint_epoch: s.run.checkpoint.epoch, learning_rate: s.run.learningRate },
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
