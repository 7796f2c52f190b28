/**
 * The first step of a training stage (nnU-Net V1 `nnUNetTrainer.initialize`): find the run's
 * directory, decide whether there is anything to train (a finished or diverged run is reported,
 * not retrained), load the data, configure the loss for it, and write the run's config.json,
 * checking on a resume that the run's identity has not changed.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { ConfiguredLoss } from '../losses/registry.js';
import { currentBackend, selectBackend } from '../engine/backend.js';
import { writeJsonAtomicSync } from '../util/atomic.js';
import { UsageError } from '../util/errors.js';
import { pretrainDirectory, runDirectory, RUN_FILES } from '../util/layout.js';
import { readRunStatus, type RunStatus } from '../util/run-status.js';
import type { Vec3 } from '../util/vec3.js';
import { loadedPatchSize } from './augment.js';
import { hasCheckpoint, readCheckpointState, recoverCheckpoints, type CheckpointState } from './checkpoints.js';
import { ensurePreprocessed, loadRunData, type RunData } from './data.js';
import { runOutcome, type RunIdentity } from './outcome.js';
import type { RunLoss } from './run-loss.js';
import type { RunSettings } from './settings.js';
import type { RunConfig, RunStage, TrainOutcome } from './types.js';
import { SEGLOSS_VERSION } from '../util/version.js';

/** One stage to train: the loss's own run, or the pre-training a special schedule starts from. */
export interface StageRequest {
  stage: RunStage;
  loss: RunLoss;
  learningRate: number;
  /** Best checkpoint of the pre-trained model this stage fine-tunes; null: a fresh network. */
  pretrainFrom: string | null;
}

/** A run ready to train: its directory, data and configured loss, with config.json written. */
export interface PreparedRun {
  settings: RunSettings;
  request: StageRequest;
  identity: RunIdentity;
  runDir: string;
  data: RunData;
  loss: ConfiguredLoss;
  config: RunConfig;
  /** The state of checkpoint/latest to resume from; undefined when the run starts afresh. */
  resumeFrom: CheckpointState | undefined;
}

export type Preparation = { prepared: PreparedRun } | { finished: TrainOutcome };

/** Axis (i = 0, j = 1, k = 2) of the largest spacing: nnU-Net's axis 0 after transpose_forward. */
function coarsestAxis(spacing: Vec3): number {
  let a = 0;
  for (let d = 1; d < 3; d++) if ((spacing[d] as number) > (spacing[a] as number)) a = d;
  return a;
}

function differingKey(a: RunConfig['identity'], b: RunConfig['identity']): keyof RunConfig['identity'] | undefined {
  for (const key of Object.keys(a) as (keyof RunConfig['identity'])[]) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return key;
  }
  return undefined;
}

/** The directory a stage trains into (src/util/layout.ts). */
export function stageDirectory(settings: RunSettings, request: StageRequest): string {
  return request.stage === 'pretrain'
    ? pretrainDirectory(settings.results, settings.task, request.loss.id, settings.fold, settings.seed)
    : runDirectory(settings.results, settings.task, request.loss.id, request.learningRate, settings.fold, settings.seed);
}

/**
 * Whether a run that has a status is finished for good: done (unless more epochs are asked for
 * than it stopped at by the epoch cap), or diverged (it would diverge again at the same place).
 */
function finishedForGood(runDir: string, previous: RunStatus | undefined, hasLatest: boolean, epochs: number): boolean {
  if (previous !== undefined && hasLatest) {
    const st = readCheckpointState(path.join(runDir, RUN_FILES.latest));
    const earlyStopped = st.schedule.stopped && (st.schedule.stopReason ?? '').startsWith('early stop');
    if (previous.state === 'done' && (earlyStopped || st.schedule.epoch >= epochs)) return true;
  }
  return previous?.state === 'failed' && (previous.reason ?? '').startsWith('diverged');
}

/**
 * A finished run asked for again with another `--checkpoint`: only the choice of the weights
 * `predict` tests changes, nothing is retrained.
 */
function recordCheckpointChoice(configFile: string, checkpoint: RunSettings['checkpoint']): void {
  if (!existsSync(configFile)) return;
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as RunConfig;
  if ((config.checkpoint ?? 'best') !== checkpoint) writeJsonAtomicSync(configFile, { ...config, checkpoint });
}

export async function prepareRun(settings: RunSettings, request: StageRequest): Promise<Preparation> {
  const { learningRate } = request;
  const runDir = stageDirectory(settings, request);
  if (!(learningRate > 0) || !Number.isFinite(learningRate)) throw new UsageError(`--lr: expected a positive number, got ${learningRate}`);
  const identity: RunIdentity = { runDir, task: settings.task, loss: request.loss.id, learningRate, fold: settings.fold, seed: settings.seed };

  if (settings.restart) rmSync(runDir, { recursive: true, force: true });
  const previous = readRunStatus(runDir);
  // No other process trains this run: the caller holds its lock (./stage.ts). A 'running' status
  // is then one a killed session left, whatever process its pid belongs to now.
  recoverCheckpoints(runDir);
  const latestDir = path.join(runDir, RUN_FILES.latest);
  const hasLatest = hasCheckpoint(latestDir);
  if (settings.resume && !hasLatest) throw new UsageError(`--resume: ${runDir} has no checkpoint to resume from`);
  if (finishedForGood(runDir, previous, hasLatest, settings.epochs)) {
    recordCheckpointChoice(path.join(runDir, RUN_FILES.config), settings.checkpoint);
    return { finished: runOutcome(identity, previous as RunStatus, true, null) };
  }

  const backend = currentBackend() ?? (await selectBackend(settings.backend));
  const { profile } = settings;
  const dataDir = await ensurePreprocessed(settings.task, profile.planningProfile, settings.where, undefined);
  const data = await loadRunData(dataDir, settings.fold, settings.selection);
  const loss = request.loss.configure(data);
  const plans = data.plans;
  const spacing = plans.target_spacing_mm;
  const sliceAxis = plans.do_dummy_2D_data_aug ? coarsestAxis(spacing) : null;

  const configFile = path.join(runDir, RUN_FILES.config);
  const previousConfig = hasLatest && existsSync(configFile) ? (JSON.parse(readFileSync(configFile, 'utf8')) as RunConfig) : undefined;
  const resumeFrom = previousConfig !== undefined ? readCheckpointState(latestDir) : undefined;
  const config: RunConfig = {
    identity: {
      task: settings.task, loss: request.loss.id, lossOptions: loss.options, learningRate, fold: settings.fold, iterations: settings.iterations,
      valBatches: settings.valBatches, seed: settings.seed, stage: request.stage, pretrainFrom: request.pretrainFrom,
      patchSize: plans.patch_size, batchSize: plans.batch_size, topology: plans.network,
    },
    epochs: settings.epochs,
    selection: settings.selection,
    checkpoint: settings.checkpoint,
    profile,
    schedule: { ...profile.schedule, initialLearningRate: learningRate, maxEpochs: settings.epochs },
    loadedPatchSize: loadedPatchSize(plans.patch_size, profile.augmentation, sliceAxis),
    dummy2DAxis: sliceAxis,
    spacingMm: spacing,
    numClasses: plans.numClasses,
    preprocessedDir: dataDir,
    trainCases: data.train.map((c) => c.id),
    valCases: data.val.map((c) => c.id),
    backend: backend.description,
    workers: settings.workers,
    segloss: SEGLOSS_VERSION,
  };
  if (previousConfig !== undefined) {
    // The selection decides which cases train: a run cannot change it half-way (older runs: nested).
    const previousSelection = previousConfig.selection ?? 'nested';
    if (previousSelection !== settings.selection) {
      throw new UsageError(`${runDir} was trained with selection '${previousSelection}', not '${settings.selection}'; use --restart to start it over`);
    }
    const differs = differingKey(previousConfig.identity, config.identity);
    if (differs !== undefined) {
      throw new UsageError(`${runDir} was trained with another ${differs} (${JSON.stringify(previousConfig.identity[differs])}); use --restart to start it over`);
    }
  }
  await fsp.mkdir(runDir, { recursive: true });
  writeJsonAtomicSync(configFile, config);
  return { prepared: { settings, request, identity, runDir, data, loss, config, resumeFrom } };
}
