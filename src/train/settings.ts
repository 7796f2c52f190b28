/**
 * The settings of a training command, resolved once from TrainOptions: every default is applied
 * here (and only here), the profile is loaded once, and the result is passed down unchanged to
 * the learning-rate search, the special schedules and each training stage.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { BackendRequest } from '../engine/backend.js';
import { resolveTask } from '../data/tasks.js';
import { loadSplits } from '../preprocess/plans.js';
import { UsageError } from '../util/errors.js';
import { preprocessedTaskDirectory } from '../util/layout.js';
import { preprocessedRoot, resultsRoot } from '../util/paths.js';
import { DEFAULT_SEED } from '../util/rng.js';
import { loadTrainingProfile, type TrainingProfile } from './config.js';
import type { DataLocations } from './data.js';
import { defaultWorkerCount } from './producer.js';
import { CHECKPOINT_KINDS, SELECTION_MODES, type CheckpointKind, type EpochLogEntry, type SelectionMode, type TrainOptions } from './types.js';

/** Defaults of `segloss train` and of `trainRun` (the CLI's option defaults read them too). */
export const TRAIN_DEFAULTS = {
  seed: DEFAULT_SEED,
  fold: 0,
  profile: 'cpu',
  selection: 'nested' as SelectionMode,
  checkpoint: 'best' as CheckpointKind,
} as const;

/**
 * Folds of a task that is not preprocessed yet: preprocessing makes a 5-fold cross-validation of
 * the non-test cases (src/preprocess/splits.ts, makeSplits), fewer only for datasets of fewer than
 * 10 cases, which loadRunData checks once the split exists.
 */
const DEFAULT_FOLD_COUNT = 5;

export interface RunSettings {
  task: string;
  fold: number;
  selection: SelectionMode;
  checkpoint: CheckpointKind;
  /** Seed of every generator of the run. */
  seed: number;
  profile: TrainingProfile;
  epochs: number;
  iterations: number;
  valBatches: number;
  /** The initial learning rate asked for (`--lr`); undefined: the stage's default from the profile. */
  learningRate: number | undefined;
  /** Initial learning rate of a pre-training stage. */
  pretrainLearningRate: number;
  /** Batch worker threads; 0 makes batches in the training thread. */
  workers: number;
  resume: boolean;
  restart: boolean;
  pretrainOnly: boolean;
  /** A run or loss directory a special schedule fine-tunes instead of its own pre-training. */
  pretrained: string | undefined;
  where: DataLocations;
  /** Results root (runs live below it, see src/util/layout.ts). */
  results: string;
  backend: BackendRequest;
  epochSummaries: boolean;
  onEpoch: ((entry: EpochLogEntry) => void) | undefined;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${name}: expected a positive integer, got ${value}`);
  return value;
}

function positiveRate(name: string, value: number | undefined): void {
  if (value !== undefined && !(value > 0 && Number.isFinite(value))) throw new UsageError(`${name}: expected a positive number, got ${value}`);
}

function oneOf<T extends string>(name: string, value: T | undefined, valid: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!valid.includes(value)) throw new UsageError(`${name}: expected ${valid.join(' or ')}, got '${String(value)}'`);
  return value;
}

/**
 * Checks that need the task but no data work: the task exists (registered, or already
 * preprocessed, or --data names a dataset folder), and the fold is one of its split's folds — from
 * splits.json when the task is preprocessed, else the 5 folds preprocessing will make.
 */
function checkTaskAndFold(task: string, fold: number, selection: SelectionMode, where: DataLocations): void {
  if (!Number.isInteger(fold) || fold < 0) throw new UsageError(`--fold: expected an integer ≥ 0, got ${fold}`);
  const dir = preprocessedTaskDirectory(preprocessedRoot(where.preprocessed), task);
  const splitsFile = path.join(dir, 'splits.json');
  const preprocessed = existsSync(path.join(dir, 'plans.json')) && existsSync(splitsFile);
  if (!preprocessed && !(where.data !== undefined && existsSync(path.join(where.data, 'dataset.json')))) resolveTask(task, { data: where.data });
  if (selection === 'paper') {
    // The study trained nnU-Net V1's fold 0 of its 5-fold split: the 80/20 split, nothing else.
    if (fold !== 0) throw new UsageError(`--fold: selection 'paper' trains on every non-test case (the study's 80/20 split), so only fold 0 exists, got ${fold}`);
    if (preprocessed && loadSplits(dir).test.length === 0) throw new UsageError(`--selection paper: ${splitsFile} has no test split to choose on (dataset of fewer than 5 cases)`);
    return;
  }
  const folds = preprocessed ? loadSplits(dir).folds.length : DEFAULT_FOLD_COUNT;
  if (fold >= folds) throw new UsageError(`--fold: expected 0 … ${folds - 1}${preprocessed ? ` (the folds of ${splitsFile})` : ''}, got ${fold}`);
}

/**
 * Resolve and check every setting (no data work, no directory made): every argument that can be
 * checked before training starts is checked here, so a bad one fails at once.
 */
export function resolveRunSettings(options: TrainOptions): RunSettings {
  const profile = loadTrainingProfile(options.profile ?? TRAIN_DEFAULTS.profile);
  const where: DataLocations = {};
  if (options.data !== undefined) where.data = options.data;
  if (options.preprocessed !== undefined) where.preprocessed = options.preprocessed;
  if (options.synth !== undefined) where.synth = options.synth;
  const fold = options.fold ?? TRAIN_DEFAULTS.fold;
  const selection = oneOf('--selection', options.selection, SELECTION_MODES, TRAIN_DEFAULTS.selection);
  const checkpoint = oneOf('--checkpoint', options.checkpoint, CHECKPOINT_KINDS, TRAIN_DEFAULTS.checkpoint);
  positiveRate('--lr', options.learningRate);
  positiveRate('--pretrain-lr', options.pretrainLearningRate);
  if (options.workers !== undefined && !(Number.isInteger(options.workers) && options.workers >= 0)) throw new UsageError(`--workers: expected an integer ≥ 0, got ${options.workers}`);
  if (options.resume === true && options.restart === true) throw new UsageError('--resume and --restart contradict each other: give one');
  // --pretrained is not checked here: a base run that does not exist (or diverged) is a result —
  // the fine-tuning is marked failed with the reason (./special-schedule.ts), as the study reports it.
  checkTaskAndFold(options.task, fold, selection, where);
  return {
    task: options.task,
    fold,
    selection,
    checkpoint,
    seed: options.seed ?? TRAIN_DEFAULTS.seed,
    profile,
    epochs: positiveInteger('--epochs', options.epochs ?? profile.epochs),
    iterations: positiveInteger('--iterations', options.iterations ?? profile.iterations),
    valBatches: positiveInteger('--val-batches', options.valBatches ?? profile.valBatches),
    learningRate: options.learningRate,
    pretrainLearningRate: options.pretrainLearningRate ?? profile.pretrainLr,
    workers: options.workers ?? (profile.workers === 'auto' ? defaultWorkerCount() : profile.workers),
    resume: options.resume === true,
    restart: options.restart === true,
    pretrainOnly: options.pretrainOnly === true,
    pretrained: options.pretrained,
    where,
    results: resultsRoot(options.results),
    backend: options.backend ?? 'auto',
    epochSummaries: options.epochSummaries !== false,
    onEpoch: options.onEpoch,
  };
}
