/**
 * The data a training run needs: the task's dataset (a toy task is synthesized on first use), its
 * preprocessed cache (preprocessed on first use), the plan, the fold's training and validation
 * cases in memory. Cases are kept in a process-wide cache in SharedArrayBuffers, so an LR search
 * or a benchmark grid in one process loads every case once and the batch workers read them
 * without copies.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ensureTaskData, resolveTask } from '../data/tasks.js';
import { loadDataset } from '../data/dataset.js';
import { assertCacheSource } from '../preprocess/source.js';
import { preprocessDataset } from '../preprocess/pipeline.js';
import { loadPlans, loadSplits, type Plans } from '../preprocess/plans.js';
import { pythonSorted, type Splits } from '../preprocess/splits.js';
import { loadPreprocessedCase } from '../preprocess/cache.js';
import { preprocessedRoot } from '../util/paths.js';
import { preprocessedTaskDirectory } from '../util/layout.js';
import { UsageError } from '../util/errors.js';
import { throwIfInterrupted } from '../util/interrupt.js';
import { lockDirectoryWaiting } from '../util/lock.js';
import { info } from '../util/log.js';
import { classVoxelIndices, type TrainingCase } from './sampler.js';
import { shareCase } from './batches.js';
import type { SelectionMode } from './types.js';

export interface DataLocations {
  /** Raw data root (real tasks), overriding $SEGLOSS_DATA. */
  data?: string;
  /** Preprocessed root, overriding $SEGLOSS_PREPROCESSED. */
  preprocessed?: string;
  /** Where toy tasks are synthesized, overriding $SEGLOSS_SYNTH. */
  synth?: string;
}

export interface RunData {
  preprocessedDir: string;
  plans: Plans;
  train: TrainingCase[];
  val: TrainingCase[];
  /** Voxel count of each class over the training cases (for WCE's inverse class frequencies). */
  classCounts: number[];
}

const caseCache = new Map<string, TrainingCase>();

/**
 * Make sure the task is preprocessed with `profile`; returns its preprocessed folder. The cache's
 * lock (../util/lock.ts) is held while checking and preprocessing, so two processes never
 * synthesize or preprocess the same cache at once: the second waits, then finds it made.
 */
export async function ensurePreprocessed(task: string, profile: string, where: DataLocations, seed?: number): Promise<string> {
  // --data may name the dataset folder itself (with dataset.json) or a raw data root.
  const dataIsDataset = where.data !== undefined && existsSync(path.join(where.data, 'dataset.json'));
  const spec = resolveTask(task, where.data !== undefined && !dataIsDataset ? { data: where.data } : {});
  const dir = preprocessedTaskDirectory(preprocessedRoot(where.preprocessed), spec.id);
  const lock = await lockDirectoryWaiting(dir, {
    check: throwIfInterrupted,
    onWait: (holder) => info(`waiting for process ${holder.pid}, which is preprocessing ${dir} …`),
  });
  try {
    const ensure: { data?: string; synthDir?: string } = {};
    if (where.data !== undefined) ensure.data = where.data;
    if (where.synth !== undefined) ensure.synthDir = where.synth;
    const cached = existsSync(path.join(dir, 'plans.json')) && existsSync(path.join(dir, 'splits.json'));
    let datasetDir: string | undefined;
    try {
      datasetDir = dataIsDataset ? path.resolve(where.data as string) : await ensureTaskData(spec, ensure);
    } catch (err) {
      if (!cached) throw err; // a complete cache may be used where the raw data is not (another machine)
    }
    if (cached) {
      if (datasetDir !== undefined) assertCacheSource(dir, loadDataset(datasetDir)); // a cache of another dataset is refused, never reused
      const plans = loadPlans(dir);
      if (path.basename(plans.profile, '.yaml') === path.basename(profile, '.yaml')) return dir;
      throw new UsageError(`${dir} was preprocessed with profile '${plans.profile}', not '${profile}': use another --preprocessed folder or re-run 'segloss preprocess --task ${task} --profile ${profile}'`);
    }
    info(`preprocessing ${spec.id} (${profile} profile) into ${dir} …`);
    const options: Parameters<typeof preprocessDataset>[0] = { datasetDir: datasetDir as string, outDir: dir, profile, taskId: spec.id, task: spec };
    if (seed !== undefined) options.seed = seed;
    await preprocessDataset(options);
    return dir;
  } finally {
    lock.release();
  }
}

/** The case ids a run trains on, and those whose validation batches choose its best epoch and rate. */
export interface SelectionCases {
  train: string[];
  choose: string[];
}

/**
 * Which cases train and which choose, per selection mode (docs/training.md, "Selection"):
 *   nested: fold `fold` of the cross-validation of the non-test cases — its training cases train,
 *           its validation cases choose; the test split is never seen (≈ 64 % / 16 % of a dataset).
 *   paper:  every non-test case trains (the 80 %: fold 0's `train` list of the study's 5-fold split,
 *           here the union of the cross-validation's folds), the test split chooses (the 20 %: fold
 *           0's `val` list) — what nnU-Net V1 `nnUNet_train … 0` did in the study, and optimistic:
 *           the cases that choose are the cases that are tested.
 */
export function selectionCases(splits: Splits, fold: number, selection: SelectionMode, file = 'splits.json'): SelectionCases {
  if (selection === 'paper') {
    if (fold !== 0) throw new UsageError(`--fold: selection 'paper' has only fold 0 (the study's 80/20 split), got ${fold}`);
    if (splits.test.length === 0) throw new UsageError(`--selection paper: ${file} has no test split to choose on (dataset of fewer than 5 cases)`);
    const train = pythonSorted([...new Set(splits.folds.flatMap((f) => [...f.train, ...f.val]))]);
    return { train, choose: [...splits.test] };
  }
  if (!Number.isInteger(fold) || fold < 0 || fold >= splits.folds.length) {
    throw new UsageError(`--fold: expected 0 … ${splits.folds.length - 1}, got ${fold}`);
  }
  const f = splits.folds[fold]!;
  return { train: [...f.train], choose: [...f.val] };
}

async function loadCase(dir: string, id: string, numClasses: number, withMask: boolean): Promise<TrainingCase> {
  const key = `${dir}\0${id}\0${withMask}`;
  const hit = caseCache.get(key);
  if (hit !== undefined) return hit;
  const c = await loadPreprocessedCase(dir, id);
  const base: TrainingCase = { id, shape: c.shape, channels: c.channels, image: c.image, seg: c.seg, classVoxels: classVoxelIndices(c.seg, numClasses) };
  if (withMask) base.outside = c.nonzero.map((v) => (v === 1 ? 0 : 1));
  const tc = shareCase(base);
  caseCache.set(key, tc);
  return tc;
}

/** Load the plan and the cases that train and choose for `fold` and `selection` (selectionCases). */
export async function loadRunData(preprocessedDir: string, fold: number, selection: SelectionMode = 'nested'): Promise<RunData> {
  const plans = loadPlans(preprocessedDir);
  const splits = loadSplits(preprocessedDir);
  const cases = selectionCases(splits, fold, selection, path.join(preprocessedDir, 'splits.json'));
  const f = { train: cases.train, val: cases.choose };
  if (f.train.length === 0 || f.val.length === 0) throw new UsageError(`fold ${fold} of ${preprocessedDir} has an empty training or validation set`);
  // The non-zero region matters only when some channel is normalised within it (MaskTransform).
  const withMask = (plans.normalization?.use_nonzero_mask ?? []).some((m) => m);
  const train = await Promise.all(f.train.map((id) => loadCase(preprocessedDir, id, plans.numClasses, withMask)));
  const val = await Promise.all(f.val.map((id) => loadCase(preprocessedDir, id, plans.numClasses, withMask)));
  const classCounts = new Array<number>(plans.numClasses).fill(0);
  for (const c of train) {
    let fg = 0;
    c.classVoxels.forEach((v, k) => {
      classCounts[k + 1] = (classCounts[k + 1] as number) + v.length;
      fg += v.length;
    });
    classCounts[0] = (classCounts[0] as number) + c.seg.length - fg;
  }
  return { preprocessedDir, plans, train, val, classCounts };
}
