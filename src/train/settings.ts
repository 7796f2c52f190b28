/**
 * The settings of a training command, resolved once from TrainOptions: every default is applied
 * here (and only here), the profile is loaded once, and the result is passed down unchanged to
 * the learning-rate search, the special schedules and each training stage.
 */
import type { BackendRequest } from '../engine/backend.js';
import { UsageError } from '../util/errors.js';
import { resultsRoot } from '../util/paths.js';
import { DEFAULT_SEED } from '../util/rng.js';
import { loadTrainingProfile, type TrainingProfile } from './config.js';
import type { DataLocations } from './data.js';
import { defaultWorkerCount } from './producer.js';
import type { EpochLogEntry, TrainOptions } from './types.js';

/** Defaults of `segloss train` and of `trainRun` (the CLI's option defaults read them too). */
export const TRAIN_DEFAULTS = {
  seed: DEFAULT_SEED,
  fold: 0,
  profile: 'cpu',
} as const;

export interface RunSettings {
  task: string;
  fold: number;
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

export function resolveRunSettings(options: TrainOptions): RunSettings {
  const profile = loadTrainingProfile(options.profile ?? TRAIN_DEFAULTS.profile);
  const where: DataLocations = {};
  if (options.data !== undefined) where.data = options.data;
  if (options.preprocessed !== undefined) where.preprocessed = options.preprocessed;
  if (options.synth !== undefined) where.synth = options.synth;
  return {
    task: options.task,
    fold: options.fold ?? TRAIN_DEFAULTS.fold,
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
