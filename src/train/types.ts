/**
 * The types of a training run: what a caller asks for (TrainOptions), what it gets back
 * (TrainOutcome, LrSearchOutcome), and what a run directory records (RunConfig in config.json,
 * EpochLogEntry per line of log.jsonl; see docs/training.md, "Run directory").
 */
import type { Vec3 } from '../util/vec3.js';
import type { NetworkTopology } from '../model/topology.js';
import type { BackendRequest } from '../engine/backend.js';
import type { ConfiguredLoss, LossOptionValue } from '../losses/registry.js';
import type { ScheduleConfig } from './schedule.js';
import type { TrainingProfile } from './config.js';

/**
 * Which cases train and which choose the best epoch and the learning rate (docs/training.md,
 * "Selection"): 'nested' trains on the training folds of a cross-validation of the non-test cases
 * and chooses on its validation fold (the test split is never seen); 'paper' trains on every
 * non-test case and chooses on the test split, as the study did with nnU-Net V1's fold 0.
 */
export type SelectionMode = 'nested' | 'paper';
export const SELECTION_MODES: readonly SelectionMode[] = ['nested', 'paper'];

/** Which weights a run is tested with: checkpoint/best, or 'final' = checkpoint/latest of the finished run (nnU-Net V1's model_final_checkpoint). */
export type CheckpointKind = 'best' | 'final';
export const CHECKPOINT_KINDS: readonly CheckpointKind[] = ['best', 'final'];

export interface TrainOptions {
  task: string;
  /** A loss id of the catalogue (`segloss losses`), or a configured loss object (library use). */
  loss: string | ConfiguredLoss;
  /** Loss options (`--loss-opt k=v`), for a loss id. */
  lossOptions?: Record<string, LossOptionValue>;
  /** Initial learning rate (default: the profile's, 3e-4). */
  learningRate?: number;
  /** Cross-validation fold (default TRAIN_DEFAULTS.fold, 0); 'paper' selection has fold 0 only. */
  fold?: number;
  /** Which cases train and which choose (default TRAIN_DEFAULTS.selection, 'nested'). */
  selection?: SelectionMode;
  /** Which checkpoint `predict` tests by default (default TRAIN_DEFAULTS.checkpoint, 'best'); recorded in config.json. */
  checkpoint?: CheckpointKind;
  /** Training profile name or YAML path: 'paper' or 'cpu' (default TRAIN_DEFAULTS.profile, 'cpu'); also the planning profile. */
  profile?: string;
  epochs?: number;
  iterations?: number;
  valBatches?: number;
  /**
   * Seed of every random generator of the run (network initialisation, every batch; default
   * TRAIN_DEFAULTS.seed, 12345): part of the run's identity, recorded in config.json.
   */
  seed?: number;
  /** Batch worker threads (default: the profile's, 'auto' = cores − 1). 0 makes batches in this thread. */
  workers?: number;
  /** Require an existing run to resume (`--resume`); without it an unfinished run is resumed anyway. */
  resume?: boolean;
  /** Delete the run directory and start over. */
  restart?: boolean;
  /** Train only the pre-training stage of this loss's schedule, or the given loss as a pre-training. */
  pretrainOnly?: boolean;
  /** Learning rate of the pre-training stage (default: the profile's pretrain_lr). */
  pretrainLearningRate?: number;
  /**
   * Start a special schedule from this run instead of its own pre-training: a run directory, or a
   * loss directory (results/<task>/dice) whose best learning rate on the validation fold is taken.
   * The benchmark uses it to fine-tune DiceBD/DiceHD from the grid's own Dice run (paper §3.2).
   */
  pretrained?: string;
  data?: string;
  preprocessed?: string;
  results?: string;
  synth?: string;
  backend?: BackendRequest;
  /** Epoch summaries to stderr even in --quiet mode (the CLI's behaviour); default true. */
  epochSummaries?: boolean;
  /** Called after every finished epoch (library use, tests). */
  onEpoch?: (entry: EpochLogEntry) => void;
}

/** Which run an outcome is about. */
export interface RunIdentity {
  runDir: string;
  task: string;
  loss: string;
  learningRate: number;
  fold: number;
  seed: number;
}

export interface TrainOutcome extends RunIdentity {
  status: 'done' | 'failed';
  reason?: string;
  /** Mean foreground validation Dice of checkpoint/best (null without any foreground Dice). */
  bestValDice: number | null;
  bestEpoch: number | null;
  /** Epochs finished. */
  epochs: number;
  seconds: number;
  /** Share of wall time the training loop waited for batches (this session). */
  dataWaitShare: number | null;
  /** True when the run was already finished and nothing was trained. */
  skipped: boolean;
}

export interface LrSearchOutcome {
  task: string;
  loss: string;
  fold: number;
  seed: number;
  runs: TrainOutcome[];
  /** The winning rate by mean foreground validation Dice of checkpoint/best; null when every run failed. */
  best: { learningRate: number; bestValDice: number; runDir: string } | null;
  /** Where the choice was recorded. */
  file: string;
}

export interface EpochLogEntry {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  /** Global Dice per foreground class (1 … C−1) over the validation batches; null where 0/0. */
  valDicePerClass: (number | null)[];
  valDice: number | null;
  learningRate: number;
  trainLossMa: number;
  lrReduced: boolean;
  newBest: boolean;
  /** Weight of the first loss term at this epoch when the loss has a schedule (DiceBD's α). */
  lossWeight?: number;
  seconds: number;
  dataWaitShare: number;
  /** Milliseconds spent making batches (in workers: hidden behind the steps). */
  batchMillis: number;
}

/** Which model a run trains: the loss's own run, or the pre-training a special schedule starts from. */
export type RunStage = 'train' | 'pretrain';

/** The resolved configuration of a run (config.json). Fields under `identity` must match on resume. */
export interface RunConfig {
  identity: {
    task: string;
    loss: string;
    lossOptions: Record<string, LossOptionValue>;
    learningRate: number;
    fold: number;
    iterations: number;
    valBatches: number;
    seed: number;
    stage: RunStage;
    pretrainFrom: string | null;
    patchSize: Vec3;
    batchSize: number;
    topology: NetworkTopology;
  };
  epochs: number;
  /** Which cases train (trainCases) and which choose (valCases); absent in older runs: 'nested'. */
  selection: SelectionMode;
  /** Which checkpoint `predict` uses unless told otherwise; absent in older runs: 'best'. */
  checkpoint: CheckpointKind;
  profile: TrainingProfile;
  schedule: ScheduleConfig;
  loadedPatchSize: Vec3;
  dummy2DAxis: number | null;
  spacingMm: Vec3;
  numClasses: number;
  preprocessedDir: string;
  /** Cases the network trains on. */
  trainCases: string[];
  /** Cases whose validation batches choose checkpoint/best (and, in an LR search, the rate). */
  valCases: string[];
  backend: string;
  workers: number;
  segloss: string;
}
