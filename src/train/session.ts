/**
 * A training session of a run: from its start or resume to the end of training, an interruption
 * or a failure. restoreOrInitialise builds the model, optimizer, schedule state, epoch log and
 * batch stream — from checkpoint/latest when resuming (same learning rate, averages, counters,
 * moments and log), from the pre-trained model for a fine-tuning, else a fresh network — and the
 * other functions record how the session ends in status.json.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { ConfiguredLoss } from '../losses/registry.js';
import { loadModel, loadTensors } from '../model/checkpoint.js';
import { UNet3D } from '../model/unet.js';
import { InputError, InterruptedError, RuntimeFailure, errorMessage } from '../util/errors.js';
import { formatLearningRate, RUN_FILES } from '../util/layout.js';
import { Rng } from '../util/rng.js';
import { readRunStatus, writeRunStatus, type RunStatus, type StopReason } from '../util/run-status.js';
import type { BatchConfig } from './batches.js';
import { AmsgradAdam } from './optimizer.js';
import type { PreparedRun } from './prepare.js';
import { BatchStream, sharedWorkerPool } from './producer.js';
import { readRunLog } from './run-log.js';
import { initialScheduleState, type ScheduleConfig, type ScheduleState } from './schedule.js';
import { runOutcome } from './outcome.js';
import type { EpochLogEntry, TrainOutcome } from './types.js';

/** A run being trained: what the epoch steps read, and the state they carry from epoch to epoch. */
export interface RunSession extends PreparedRun {
  loss: ConfiguredLoss;
  model: UNet3D;
  optimizer: AmsgradAdam;
  stream: BatchStream;
  scheduleConfig: ScheduleConfig;
  /** The schedule after the last finished epoch (its `epoch` is the next epoch to train). */
  schedule: ScheduleState;
  /** The finished epochs. */
  log: EpochLogEntry[];
  seed: number;
  rng: Rng;
  /** Voxel spacing in tensor order (D, H, W), for losses that measure distances. */
  spacingDhw: [number, number, number];
  /** "task · loss · lr · fold · seed", the heading of the learning curve. */
  title: string;
  /** "task loss lr f<fold>/s<seed>", the run as the benchmark's progress names it: the start of each epoch line. */
  label: string;
  /** Training seconds of earlier sessions, and when this one started (performance.now()). */
  priorSeconds: number;
  sessionStart: number;
  /** Milliseconds this session waited for batches. */
  sessionWait: number;
  /** Optimizer steps in checkpoint/latest: where a resumed run continues from. */
  checkpointedSteps: number;
}

/** The counters status.json carries at any point: steps done and planned, best epoch so far. */
export function statusCounters(session: RunSession): Pick<RunStatus, 'steps' | 'budgetSteps' | 'bestEpoch'> {
  return {
    steps: session.optimizer.iterations,
    budgetSteps: session.settings.epochs * session.settings.iterations,
    bestEpoch: session.schedule.bestEpoch,
  };
}

/** Why a finished run stopped, from the schedule's own reason (./schedule.ts). */
export function finishedStopReason(scheduleReason: string | null): StopReason {
  return scheduleReason !== null && scheduleReason.startsWith('early stop') ? 'early-stop' : 'budget';
}

/** Training seconds of the run so far, earlier sessions included. */
export function runSeconds(session: RunSession): number {
  return session.priorSeconds + (performance.now() - session.sessionStart) / 1000;
}

/**
 * Read a resumed run's checkpoint/latest; a damaged one (a checksum mismatch, a missing file) is an
 * InputError that says how to get out of it.
 */
async function readLatest<T>(run: PreparedRun, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    throw new InputError(undefined, `${err.message}; the run cannot resume from this checkpoint: use --restart to train ${run.runDir} from scratch`);
  }
}

async function initialModel(run: PreparedRun): Promise<UNet3D> {
  const { plans } = run.data;
  const model = run.resumeFrom !== undefined
    ? await readLatest(run, () => loadModel(path.join(run.runDir, RUN_FILES.latest)))
    : run.request.pretrainFrom !== null ? await loadModel(run.request.pretrainFrom) : new UNet3D(plans.network, { seed: run.config.identity.seed });
  if (JSON.stringify(model.topology) !== JSON.stringify(plans.network)) {
    model.dispose();
    throw new InputError(run.request.pretrainFrom ?? run.runDir, 'the checkpoint was trained with another network topology than the current plan');
  }
  return model;
}

export async function restoreOrInitialise(run: PreparedRun): Promise<RunSession> {
  const { settings, config, data, runDir } = run;
  const { plans } = data;
  const seed = config.identity.seed;
  const model = await initialModel(run);
  const optimizer = new AmsgradAdam(model.variables, { learningRate: run.request.learningRate, ...settings.profile.optimizer });
  let schedule = initialScheduleState(config.schedule);
  let priorSeconds = 0;
  let log: EpochLogEntry[] = [];
  const latestDir = path.join(runDir, RUN_FILES.latest);
  if (run.resumeFrom !== undefined) {
    const tensors = await readLatest(run, () => loadTensors(latestDir, 'optimizer'));
    try {
      optimizer.setState({ step: run.resumeFrom.optimizerStep, tensors }, path.join(latestDir, 'optimizer.json'));
    } finally {
      tf.dispose(Object.values(tensors));
    }
    schedule = { ...run.resumeFrom.schedule, stopped: false, stopReason: null };
    priorSeconds = run.resumeFrom.seconds;
    // The checkpoint's own log (see writeCheckpoint); checkpoints written before it carried one
    // fall back to the run directory's.
    const resumedLog = existsSync(path.join(latestDir, RUN_FILES.log)) ? readRunLog(latestDir) : readRunLog(runDir);
    log = resumedLog.filter((e) => e.epoch < schedule.epoch);
  }
  const rng = new Rng(seed);

  const spacing = plans.target_spacing_mm;
  const batchConfig: BatchConfig = {
    seed, batchSize: plans.batch_size, finalPatch: plans.patch_size, loadedPatch: config.loadedPatchSize, augmentation: settings.profile.augmentation,
    sliceAxis: config.dummy2DAxis, numClasses: plans.numClasses, spacingMm: spacing, maskChannels: plans.normalization?.use_nonzero_mask ?? [],
  };
  if (run.loss.distanceMaps !== undefined) batchConfig.distanceMaps = run.loss.distanceMaps;
  const { workers } = settings;
  const pool = workers > 0 ? sharedWorkerPool(workers) : null;
  const stream = new BatchStream(data.train, data.val, batchConfig, settings.iterations, settings.valBatches, schedule.epoch, pool, Math.max(2, 2 * workers));

  const lossName = `${run.request.loss.id}${run.request.stage === 'pretrain' ? ' (pre-training)' : ''}`;
  const rate = formatLearningRate(run.request.learningRate);
  const session: RunSession = {
    ...run,
    model, optimizer, stream, scheduleConfig: config.schedule, schedule, log, seed, rng,
    spacingDhw: [spacing[2], spacing[1], spacing[0]],
    title: `${settings.task} · ${lossName} · lr ${rate} · fold ${settings.fold} · seed ${settings.seed}`,
    label: `${settings.task} ${lossName} ${rate} f${settings.fold}/s${settings.seed}`,
    priorSeconds,
    sessionStart: performance.now(),
    sessionWait: 0,
    checkpointedSteps: optimizer.iterations,
  };
  writeRunStatus(runDir, { state: 'running', epoch: schedule.epoch, bestValDice: schedule.bestValDice, seconds: priorSeconds, pid: process.pid, ...statusCounters(session) });
  return session;
}

/** Mark the run failed (status.json) with the reason and the epoch it failed in. */
export function markFailed(session: RunSession, reason: string, epoch: number): void {
  writeRunStatus(session.runDir, {
    state: 'failed', reason, epoch, bestValDice: session.schedule.bestValDice, seconds: runSeconds(session), ...statusCounters(session), stopReason: 'failed',
  });
}

/**
 * Record how a session that threw ended: an interruption (SIGINT, SIGTERM) marks the run
 * 'interrupted', which re-running resumes like an unfinished 'running' run; a divergence has
 * marked the run failed already; any other error marks it failed with the error.
 */
export function recordStop(session: RunSession, err: unknown): void {
  if (err instanceof InterruptedError) {
    // The epoch in progress is lost: the counters are those of the last checkpoint.
    writeRunStatus(session.runDir, {
      state: 'interrupted', reason: `interrupted in epoch ${session.schedule.epoch}; re-run the same command to resume`, epoch: session.schedule.epoch,
      bestValDice: session.schedule.bestValDice, seconds: runSeconds(session), ...statusCounters(session),
      steps: session.checkpointedSteps, stopReason: 'interrupted',
    });
  } else if (!(err instanceof RuntimeFailure && errorMessage(err).includes('diverged'))) {
    markFailed(session, `error: ${errorMessage(err).split('\n')[0]}`, session.schedule.epoch);
  }
}

/** Release the batch stream, the optimizer's and the model's tensors. */
export async function closeSession(session: RunSession): Promise<void> {
  await session.stream.close();
  session.optimizer.dispose();
  session.model.dispose();
}

/** The run's outcome after its last epoch; a run with nothing left to train is marked done. */
export function finishSession(session: RunSession): TrainOutcome {
  const sessionMillis = performance.now() - session.sessionStart;
  const status = readRunStatus(session.runDir) ?? { state: 'done' as const };
  if (status.state !== 'done') {
    // Nothing left to train (e.g. re-run with as many epochs as were already done).
    const { schedule } = session;
    writeRunStatus(session.runDir, {
      state: 'done', reason: schedule.stopReason ?? `reached ${session.settings.epochs} epochs`, epoch: schedule.epoch, bestValDice: schedule.bestValDice,
      seconds: session.priorSeconds + sessionMillis / 1000, ...statusCounters(session), stopReason: finishedStopReason(schedule.stopReason),
    });
  }
  return runOutcome(session.identity, readRunStatus(session.runDir) as RunStatus, false, sessionMillis > 0 ? session.sessionWait / sessionMillis : null);
}
