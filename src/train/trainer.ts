/**
 * One training run: one task, one loss, one learning rate, one cross-validation fold, trained the
 * way the study did it (paper §3.2; nnU-Net V1 `nnUNetTrainer.run_training`, docs/training.md):
 *
 * - epoch = `iterations` batches of training (AMSGrad Adam, L2 3e-5) then `valBatches` validation
 *   batches (loss and hard per-class TP/FP/FN → global Dice per class, as `nnUNetTrainer.finish_online_evaluation`);
 * - end of epoch: ./schedule.ts (moving average, ReduceLROnPlateau, best checkpoint, patience);
 * - batches from worker threads (./producer.ts), each a pure function of (seed, index);
 * - after every epoch, atomically: checkpoint/best when the validation criterion improved,
 *   checkpoint/latest (model, optimizer moments, schedule state, generator state, epoch log),
 *   log.jsonl, status.json and curve.svg. A killed run resumes from checkpoint/latest at the start
 *   of the epoch it was in, with the same learning rate, averages, counters, moments and log, and
 *   — because batches depend only on their index — continues exactly as the uninterrupted run
 *   would have.
 * - a NaN or infinite training loss stops the run: status failed with the epoch and reason
 *   (paper Table 3, "training failed"), RuntimeFailure (exit 1); checkpoints stay as they were.
 *
 * Special schedules (paper §3.2): a loss with `pretrain` (Lovász ← CE, DiceBD/DiceHD ← Dice)
 * starts from the best weights of a pre-training run in pretrainDirectory(...), trained once per
 * task and fold and reused by every fine-tuning run; the loss's own epoch schedule (DiceBD's α) is
 * driven by the fine-tuning epoch.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { randomInt } from 'node:crypto';
import type { Vec3 } from '../util/vec3.js';
import type { NetworkTopology } from '../model/topology.js';
import { UNet3D } from '../model/unet.js';
import { saveModel, loadModel, saveTensors, loadTensors } from '../model/checkpoint.js';
import { currentBackend, selectBackend, type BackendRequest } from '../engine/backend.js';
import { createLoss, getLossDefinition, inverseClassFrequencies, type ConfiguredLoss, type LossOptionValue } from '../losses/registry.js';
import type { LossContext } from '../losses/types.js';
import { writeDirectoryAtomic, writeFileAtomicSync, writeJsonAtomicSync } from '../util/atomic.js';
import { InputError, InterruptedError, RuntimeFailure, UsageError, errorMessage } from '../util/errors.js';
import { interruptRequested } from '../util/interrupt.js';
import { progressBar, outputOptions, warn } from '../util/log.js';
import { resultsRoot } from '../util/paths.js';
import { Rng, type RngState } from '../util/rng.js';
import { AmsgradAdam } from './optimizer.js';
import { endEpoch, initialScheduleState, type ScheduleConfig, type ScheduleState } from './schedule.js';
import { loadTrainingProfile, type TrainingProfile } from './config.js';
import { loadedPatchSize } from './augment.js';
import type { BatchConfig, Batch } from './batches.js';
import { BatchStream, defaultWorkerCount, sharedWorkerPool } from './producer.js';
import { ensurePreprocessed, loadRunData, type DataLocations, type RunData } from './data.js';
import { pretrainDirectory, readRunStatus, resolveRunDirectory, runDirectory, writeRunStatus, RUN_FILES, formatLearningRate, type RunStatus } from './rundir.js';
import { renderCurveSvg, type CurvePoint } from './curve.js';
import type { TrainingCase } from './sampler.js';
import { processAlive } from '../util/process.js';

export interface TrainOptions {
  task: string;
  /** A loss id of the catalogue (`segloss losses`), or a configured loss object (library use). */
  loss: string | ConfiguredLoss;
  /** Loss options (`--loss-opt k=v`), for a loss id. */
  lossOptions?: Record<string, LossOptionValue>;
  /** Initial learning rate (default: the profile's, 3e-4). */
  learningRate?: number;
  fold?: number;
  /** Training profile name or YAML path: 'paper' or 'cpu' (default 'cpu'); also the planning profile. */
  profile?: string;
  epochs?: number;
  iterations?: number;
  valBatches?: number;
  /** Seed of every random generator with `deterministic`; otherwise a fresh seed is drawn and recorded. */
  seed?: number;
  deterministic?: boolean;
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

export interface TrainOutcome {
  runDir: string;
  task: string;
  loss: string;
  learningRate: number;
  fold: number;
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
    deterministic: boolean;
    stage: 'train' | 'pretrain';
    pretrainFrom: string | null;
    patchSize: Vec3;
    batchSize: number;
    topology: NetworkTopology;
  };
  epochs: number;
  profile: TrainingProfile;
  schedule: ScheduleConfig;
  loadedPatchSize: Vec3;
  dummy2DAxis: number | null;
  spacingMm: Vec3;
  numClasses: number;
  preprocessedDir: string;
  trainCases: string[];
  valCases: string[];
  backend: string;
  workers: number;
  segloss: string;
}

interface CheckpointState {
  schedule: ScheduleState;
  optimizerStep: number;
  rng: { seed: number; state: RngState };
  /** Training seconds before this checkpoint, summed over sessions. */
  seconds: number;
}

const SEGLOSS_VERSION = '0.1.0';

function lossIdOf(loss: string | ConfiguredLoss): string {
  return typeof loss === 'string' ? loss : loss.id;
}

/** Read `<runDir>/log.jsonl` (the finished epochs). */
export function readRunLog(runDir: string): EpochLogEntry[] {
  const file = path.join(runDir, RUN_FILES.log);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as EpochLogEntry);
}

/** Another live process (this one does not count: a run it marked 'running' is its own to resume). */
function otherProcessAlive(pid: number): boolean {
  return pid !== process.pid && processAlive(pid);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Configure the loss: plan-dependent defaults (batch Dice, WCE class weights) unless given. */
function configureLoss(loss: string | ConfiguredLoss, options: Record<string, LossOptionValue>, data: RunData): ConfiguredLoss {
  if (typeof loss !== 'string') return loss;
  const def = getLossDefinition(loss);
  const names = new Set(def.options.map((o) => o.name));
  const resolved: Record<string, LossOptionValue> = { ...options };
  if (names.has('batchDice') && resolved['batchDice'] === undefined) resolved['batchDice'] = data.plans.batch_dice;
  if (names.has('classWeights') && resolved['classWeights'] === undefined) resolved['classWeights'] = inverseClassFrequencies(data.classCounts);
  return createLoss(loss, resolved);
}

function scheduleConfigOf(profile: TrainingProfile, learningRate: number, epochs: number): ScheduleConfig {
  return { ...profile.schedule, initialLearningRate: learningRate, maxEpochs: epochs };
}

/** Axis (i = 0, j = 1, k = 2) of the largest spacing: nnU-Net's axis 0 after transpose_forward. */
function coarsestAxis(spacing: Vec3): number {
  let a = 0;
  for (let d = 1; d < 3; d++) if ((spacing[d] as number) > (spacing[a] as number)) a = d;
  return a;
}

/** The epoch log as log.jsonl text: one JSON object per line. */
function logText(log: readonly EpochLogEntry[]): string {
  return log.map((e) => JSON.stringify(e)).join('\n') + '\n';
}

/**
 * Write a checkpoint directory atomically. It carries its own copy of the epoch log, so that the
 * log a resumed run continues is always the one of its checkpoint: a kill after the checkpoint's
 * rename but before `<runDir>/log.jsonl` was rewritten would otherwise drop that epoch's line.
 */
async function writeCheckpoint(dir: string, model: UNet3D, optimizer: AmsgradAdam, state: CheckpointState, log: readonly EpochLogEntry[]): Promise<void> {
  await writeDirectoryAtomic(dir, async (tmp) => {
    await fsp.writeFile(path.join(tmp, RUN_FILES.log), logText(log));
    await saveModel(tmp, model);
    const opt = optimizer.state();
    try {
      await saveTensors(tmp, 'optimizer', opt.tensors);
    } finally {
      tf.dispose(Object.values(opt.tensors));
    }
    await fsp.writeFile(path.join(tmp, 'state.json'), JSON.stringify(state, null, 2) + '\n');
  });
}

function readCheckpointState(dir: string): CheckpointState {
  const file = path.join(dir, 'state.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CheckpointState;
  } catch (err) {
    throw new InputError(file, `cannot read checkpoint state: ${errorMessage(err)}`);
  }
}

/**
 * A kill between the two renames of an atomic directory swap leaves no checkpoint/latest (or
 * best) but complete temporary siblings, new and old. Put one back in place: for latest the most
 * advanced; for best the most advanced that is not ahead of latest (best is written first, so a
 * best ahead of latest belongs to the epoch the resumed run recomputes, and rewrites if it improves).
 * The siblings left over are removed: only the process that owns the run calls this.
 */
export function recoverCheckpoints(runDir: string): void {
  const ckDir = path.join(runDir, 'checkpoint');
  if (!existsSync(ckDir)) return;
  const complete = (prefix: string): { dir: string; epoch: number }[] => {
    const found: { dir: string; epoch: number }[] = [];
    for (const name of readdirSync(ckDir)) {
      if (!name.startsWith(prefix)) continue;
      const dir = path.join(ckDir, name);
      if (!['model.json', 'weights.bin', 'optimizer.json', 'optimizer.bin'].every((f) => existsSync(path.join(dir, f)))) continue;
      try {
        found.push({ dir, epoch: (JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')) as CheckpointState).schedule.epoch });
      } catch {
        // incomplete: state.json is written last
      }
    }
    return found.sort((a, b) => b.epoch - a.epoch);
  };
  const latest = path.join(runDir, RUN_FILES.latest);
  if (!existsSync(latest)) {
    const newest = complete('.latest.')[0];
    if (newest !== undefined) renameSync(newest.dir, latest);
  }
  const best = path.join(runDir, RUN_FILES.best);
  if (!existsSync(best)) {
    const latestEpoch = existsSync(path.join(latest, 'state.json')) ? readCheckpointState(latest).schedule.epoch : Infinity;
    const candidate = complete('.best.').find((c) => c.epoch <= latestEpoch);
    if (candidate !== undefined) renameSync(candidate.dir, best);
  }
  for (const name of readdirSync(ckDir)) {
    if (name.startsWith('.latest.') || name.startsWith('.best.')) rmSync(path.join(ckDir, name), { recursive: true, force: true });
  }
}

function differingKey(a: RunConfig['identity'], b: RunConfig['identity']): keyof RunConfig['identity'] | undefined {
  for (const key of Object.keys(a) as (keyof RunConfig['identity'])[]) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return key;
  }
  return undefined;
}

interface ValidationCounts {
  loss: number;
  tp: number[];
  fp: number[];
  fn: number[];
}

/** Global Dice per foreground class from summed counts; null where 2TP + FP + FN = 0. */
export function globalDice(tp: number[], fp: number[], fn: number[]): (number | null)[] {
  const out: (number | null)[] = [];
  for (let c = 1; c < tp.length; c++) {
    const den = 2 * (tp[c] as number) + (fp[c] as number) + (fn[c] as number);
    out.push(den === 0 ? null : (2 * (tp[c] as number)) / den);
  }
  return out;
}

function meanOfPresent(values: (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null);
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
}

function batchTensors(batch: Batch): { x: tf.Tensor5D; y: tf.Tensor4D; dm?: tf.Tensor5D } {
  const [b, d, h, w, c] = batch.shape;
  const x = tf.tensor5d(batch.image, [b, d, h, w, c]);
  const y = tf.tensor4d(batch.labels, [b, d, h, w], 'int32');
  if (batch.distanceMaps !== undefined) return { x, y, dm: tf.tensor5d(batch.distanceMaps, [b, d, h, w, batch.distanceChannels ?? 1]) };
  return { x, y };
}

/**
 * Train one run (see the module comment). Resumes an unfinished run in the same directory;
 * returns at once for a finished one. Throws RuntimeFailure after marking the run failed when the
 * loss diverges (a diverged run is not retrained: its outcome is returned, 'failed'), and
 * InterruptedError on Ctrl-C (status stays 'running' without a pid: resumable).
 */
export async function trainRun(options: TrainOptions): Promise<TrainOutcome> {
  const profileName = options.profile ?? 'cpu';
  const profile = loadTrainingProfile(profileName);
  const fold = options.fold ?? 0;
  const lossId = lossIdOf(options.loss);
  const where: DataLocations = {};
  if (options.data !== undefined) where.data = options.data;
  if (options.preprocessed !== undefined) where.preprocessed = options.preprocessed;
  if (options.synth !== undefined) where.synth = options.synth;
  const results = resultsRoot(options.results);

  // Validate the loss id and options before any data work (a typo is a usage error, exit 2).
  if (typeof options.loss === 'string') createLoss(options.loss, options.lossOptions ?? {});
  const pretrainLoss = getLossDefinition(lossId).schedule?.pretrainLoss;

  if (options.pretrainOnly === true) {
    // `--pretrain-only`: train the pre-training stage a special schedule needs. For a loss with a
    // schedule this is its base loss; for a base loss (ce, dice) itself.
    const stageLoss = pretrainLoss ?? lossId;
    return trainStage({ ...options, loss: stageLoss, lossOptions: stageLoss === lossId ? (options.lossOptions ?? {}) : {} }, profile, fold, where, results, 'pretrain', null, options.learningRate ?? options.pretrainLearningRate ?? profile.pretrainLr);
  }
  const learningRate = options.learningRate ?? profile.learningRate;
  let pretrainFrom: string | null = null;
  if (pretrainLoss !== undefined) {
    let failure: string | undefined;
    if (options.pretrained !== undefined) {
      try {
        pretrainFrom = path.join(resolveRunDirectory(options.pretrained, fold), RUN_FILES.best);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        failure = err.message;
      }
    } else {
      pretrainFrom = await ensurePretrained(options, pretrainLoss, profile, fold, where, results);
      failure = readRunStatus(pretrainDirectory(results, options.task, pretrainLoss, fold))?.reason;
    }
    if (pretrainFrom === null) {
      const dir = runDirectory(results, options.task, lossId, learningRate, fold);
      const reason = `pre-training with ${pretrainLoss} failed (${failure ?? 'no model'})`;
      await fsp.mkdir(dir, { recursive: true });
      writeRunStatus(dir, { state: 'failed', reason, epoch: 0, bestValDice: null, seconds: 0 });
      throw new RuntimeFailure(`${options.task}/${lossId}: ${reason}`);
    }
  }
  return trainStage(options, profile, fold, where, results, 'train', pretrainFrom, learningRate);
}

/** Path of the pre-trained best checkpoint, training it first when needed; null when it failed. */
async function ensurePretrained(options: TrainOptions, baseLoss: string, profile: TrainingProfile, fold: number, where: DataLocations, results: string): Promise<string | null> {
  const dir = pretrainDirectory(results, options.task, baseLoss, fold);
  // Another process may be pre-training the same model: wait for it.
  for (;;) {
    const st = readRunStatus(dir);
    if (st?.state === 'running' && st.pid !== undefined && otherProcessAlive(st.pid)) {
      await sleep(2000);
      continue;
    }
    break;
  }
  const status = readRunStatus(dir);
  if (status?.state !== 'done') {
    const pre: TrainOptions = { ...options, loss: baseLoss, lossOptions: {}, pretrainOnly: true, learningRate: options.pretrainLearningRate ?? profile.pretrainLr, restart: false, resume: false };
    try {
      await trainStage(pre, profile, fold, where, results, 'pretrain', null, pre.learningRate as number);
    } catch (err) {
      if (err instanceof RuntimeFailure) return null;
      throw err;
    }
  }
  const best = path.join(dir, RUN_FILES.best);
  return existsSync(path.join(best, 'model.json')) ? best : null;
}

async function trainStage(
  options: TrainOptions,
  profile: TrainingProfile,
  fold: number,
  where: DataLocations,
  results: string,
  stage: 'train' | 'pretrain',
  pretrainFrom: string | null,
  learningRate: number,
): Promise<TrainOutcome> {
  const lossId = lossIdOf(options.loss);
  const runDir = stage === 'pretrain' ? pretrainDirectory(results, options.task, lossId, fold) : runDirectory(results, options.task, lossId, learningRate, fold);
  const epochs = options.epochs ?? profile.epochs;
  const iterations = options.iterations ?? profile.iterations;
  const valBatches = options.valBatches ?? profile.valBatches;
  for (const [name, v] of [['--epochs', epochs], ['--iterations', iterations], ['--val-batches', valBatches]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new UsageError(`${name}: expected a positive integer, got ${v}`);
  }
  if (!(learningRate > 0) || !Number.isFinite(learningRate)) throw new UsageError(`--lr: expected a positive number, got ${learningRate}`);

  if (options.restart === true) rmSync(runDir, { recursive: true, force: true });
  const previous = readRunStatus(runDir);
  const outcomeOf = (st: RunStatus, skipped: boolean, share: number | null): TrainOutcome => {
    const o: TrainOutcome = {
      runDir, task: options.task, loss: lossId, learningRate, fold,
      status: st.state === 'done' ? 'done' : 'failed',
      bestValDice: st.bestValDice ?? null,
      bestEpoch: null,
      epochs: st.epoch ?? 0,
      seconds: st.seconds ?? 0,
      dataWaitShare: share,
      skipped,
    };
    if (st.reason !== undefined) o.reason = st.reason;
    const latest = path.join(runDir, RUN_FILES.latest, 'state.json');
    if (existsSync(latest)) o.bestEpoch = readCheckpointState(path.join(runDir, RUN_FILES.latest)).schedule.bestEpoch;
    return o;
  };
  if (previous?.state === 'running' && previous.pid !== undefined && otherProcessAlive(previous.pid)) {
    throw new UsageError(`${runDir} is being trained by process ${previous.pid}; wait for it or stop it first`);
  }
  recoverCheckpoints(runDir);
  const hasLatest = existsSync(path.join(runDir, RUN_FILES.latest, 'state.json'));
  if (options.resume === true && !hasLatest) throw new UsageError(`--resume: ${runDir} has no checkpoint to resume from`);
  if (previous !== undefined && hasLatest) {
    const st = readCheckpointState(path.join(runDir, RUN_FILES.latest));
    // A finished run is not trained again, unless more epochs are asked for than it stopped at
    // by the epoch cap. A diverged run would diverge again at the same place: it stays failed.
    const earlyStopped = st.schedule.stopped && (st.schedule.stopReason ?? '').startsWith('early stop');
    if (previous.state === 'done' && (earlyStopped || st.schedule.epoch >= epochs)) return outcomeOf(previous, true, null);
  }
  if (previous?.state === 'failed' && (previous.reason ?? '').startsWith('diverged')) return outcomeOf(previous, true, null);

  const backend = currentBackend() ?? (await selectBackend(options.backend ?? 'auto'));
  const dataDir = await ensurePreprocessed(options.task, profile.planningProfile, where, undefined);
  const data = await loadRunData(dataDir, fold);
  const loss = configureLoss(options.loss, options.lossOptions ?? {}, data);
  const plans = data.plans;
  const patch = plans.patch_size;
  const spacing = plans.target_spacing_mm;
  const sliceAxis = plans.do_dummy_2D_data_aug ? coarsestAxis(spacing) : null;
  const loaded = loadedPatchSize(patch, profile.augmentation, sliceAxis);
  const workers = options.workers ?? (profile.workers === 'auto' ? defaultWorkerCount() : profile.workers);
  const deterministic = options.deterministic === true;

  // Resolve the seed: recorded in config.json, so a resumed run continues with the same one.
  let seed = deterministic ? (options.seed ?? 12345) : randomInt(0, 2 ** 31 - 1);
  const configFile = path.join(runDir, RUN_FILES.config);
  let resumeFrom: CheckpointState | undefined;
  if (hasLatest && existsSync(configFile)) {
    const old = JSON.parse(readFileSync(configFile, 'utf8')) as RunConfig;
    if (!deterministic && !old.identity.deterministic) seed = old.identity.seed;
    resumeFrom = readCheckpointState(path.join(runDir, RUN_FILES.latest));
  }
  const config: RunConfig = {
    identity: {
      task: options.task, loss: lossId, lossOptions: loss.options, learningRate, fold, iterations, valBatches, seed, deterministic,
      stage, pretrainFrom, patchSize: patch, batchSize: plans.batch_size, topology: plans.network,
    },
    epochs,
    profile,
    schedule: scheduleConfigOf(profile, learningRate, epochs),
    loadedPatchSize: loaded,
    dummy2DAxis: sliceAxis,
    spacingMm: spacing,
    numClasses: plans.numClasses,
    preprocessedDir: dataDir,
    trainCases: data.train.map((c) => c.id),
    valCases: data.val.map((c) => c.id),
    backend: backend.description,
    workers,
    segloss: SEGLOSS_VERSION,
  };
  if (resumeFrom !== undefined) {
    const old = JSON.parse(readFileSync(configFile, 'utf8')) as RunConfig;
    const differs = differingKey(old.identity, config.identity);
    if (differs !== undefined) {
      throw new UsageError(`${runDir} was trained with another ${differs} (${JSON.stringify(old.identity[differs])}); use --restart to start it over`);
    }
  }
  await fsp.mkdir(runDir, { recursive: true });
  writeJsonAtomicSync(configFile, config);

  const model = resumeFrom !== undefined ? await loadModel(path.join(runDir, RUN_FILES.latest)) : pretrainFrom !== null ? await loadModel(pretrainFrom) : new UNet3D(plans.network, { seed });
  if (JSON.stringify(model.topology) !== JSON.stringify(plans.network)) {
    model.dispose();
    throw new InputError(pretrainFrom ?? runDir, 'the checkpoint was trained with another network topology than the current plan');
  }
  const optimizer = new AmsgradAdam(model.variables, { learningRate, ...profile.optimizer });
  let schedule = initialScheduleState(config.schedule);
  let priorSeconds = 0;
  let log: EpochLogEntry[] = [];
  if (resumeFrom !== undefined) {
    const t = await loadTensors(path.join(runDir, RUN_FILES.latest), 'optimizer');
    try {
      optimizer.setState({ step: resumeFrom.optimizerStep, tensors: t }, path.join(runDir, RUN_FILES.latest, 'optimizer.json'));
    } finally {
      tf.dispose(Object.values(t));
    }
    schedule = { ...resumeFrom.schedule, stopped: false, stopReason: null };
    priorSeconds = resumeFrom.seconds;
    // The checkpoint's own log (see writeCheckpoint); checkpoints written before it carried one
    // fall back to the run directory's.
    const latestDir = path.join(runDir, RUN_FILES.latest);
    log = (existsSync(path.join(latestDir, RUN_FILES.log)) ? readRunLog(latestDir) : readRunLog(runDir)).filter((e) => e.epoch < schedule.epoch);
  }
  const scheduleConfig = config.schedule;
  const rng = new Rng(seed);

  const batchConfig: BatchConfig = {
    seed, batchSize: plans.batch_size, finalPatch: patch, loadedPatch: loaded, augmentation: profile.augmentation,
    sliceAxis, numClasses: plans.numClasses, spacingMm: spacing, maskChannels: plans.normalization?.use_nonzero_mask ?? [],
  };
  if (loss.distanceMaps !== undefined) batchConfig.distanceMaps = loss.distanceMaps;
  const pool = workers > 0 ? sharedWorkerPool(workers) : null;
  const stream = new BatchStream(data.train, data.val, batchConfig, iterations, valBatches, schedule.epoch, pool, Math.max(2, 2 * workers));

  const spacingDhw: [number, number, number] = [spacing[2], spacing[1], spacing[0]];
  const sessionStart = performance.now();
  let sessionWait = 0;
  writeRunStatus(runDir, { state: 'running', epoch: schedule.epoch, bestValDice: schedule.bestValDice, seconds: priorSeconds, pid: process.pid });
  const summaries = options.epochSummaries !== false;
  const title = `${options.task} · ${lossId}${stage === 'pretrain' ? ' (pre-training)' : ''} · lr ${formatLearningRate(learningRate)} · fold ${fold}`;

  const fail = (reason: string, epoch: number): void => {
    writeRunStatus(runDir, { state: 'failed', reason, epoch, bestValDice: schedule.bestValDice, seconds: priorSeconds + (performance.now() - sessionStart) / 1000 });
  };

  try {
    while (!schedule.stopped && schedule.epoch < epochs) {
      const epoch = schedule.epoch;
      const epochStart = performance.now();
      const waitBefore = stream.waitMillis;
      const makeBefore = stream.makeMillis;
      optimizer.learningRate = schedule.learningRate;
      const ctxBase: LossContext = { epoch, spacingMm: spacingDhw };
      const bar = progressBar(iterations, `epoch ${epoch}`, ['loss', 'lr']);
      let lossSum = 0;
      for (let it = 0; it < iterations; it++) {
        if (interruptRequested()) throw new InterruptedError(`interrupted in epoch ${epoch}; re-run the same command (or add --resume) to continue from the start of that epoch`);
        const { batch } = await stream.next();
        const { x, y, dm } = batchTensors(batch);
        const ctx: LossContext = dm !== undefined ? { ...ctxBase, distanceMaps: dm } : ctxBase;
        let value: number;
        try {
          const { value: v, grads } = tf.variableGrads(() => loss.fn(model.apply(x, true)[0] as tf.Tensor5D, y, ctx), model.variables);
          value = (await v.data())[0] as number;
          v.dispose();
          if (Number.isFinite(value)) optimizer.applyGradients(model.variables.map((vv) => grads[vv.name]));
          tf.dispose(grads);
        } finally {
          tf.dispose([x, y, ...(dm !== undefined ? [dm] : [])]);
        }
        if (!Number.isFinite(value)) {
          const reason = `diverged: training loss is ${value} in epoch ${epoch}, iteration ${it}`;
          fail(reason, epoch);
          bar.stop();
          throw new RuntimeFailure(`${options.task}/${lossId} lr ${formatLearningRate(learningRate)}: ${reason} (run marked failed)`);
        }
        lossSum += value;
        bar.update(it + 1, { loss: value.toFixed(4), lr: schedule.learningRate.toExponential(1) });
      }
      bar.stop();
      const trainLoss = lossSum / iterations;

      // Validation (no gradient): mean loss, hard TP/FP/FN per class summed over the batches.
      const counts: ValidationCounts = { loss: 0, tp: new Array(plans.numClasses).fill(0), fp: new Array(plans.numClasses).fill(0), fn: new Array(plans.numClasses).fill(0) };
      for (let b = 0; b < valBatches; b++) {
        const { batch } = await stream.next();
        const { x, y, dm } = batchTensors(batch);
        const ctx: LossContext = dm !== undefined ? { ...ctxBase, distanceMaps: dm } : ctxBase;
        const [l, tp, fp, fn] = tf.tidy(() => {
          const logits = model.apply(x, false)[0] as tf.Tensor5D;
          const lv = loss.fn(logits, y, ctx);
          const pred = tf.oneHot(tf.argMax(logits, -1).flatten(), plans.numClasses);
          const truth = tf.oneHot(y.flatten(), plans.numClasses);
          const tpT = pred.mul(truth).sum(0);
          return [lv, tpT, pred.sum(0).sub(tpT), truth.sum(0).sub(tpT)];
        });
        const [lv, tpv, fpv, fnv] = await Promise.all([l.data(), tp.data(), fp.data(), fn.data()]);
        tf.dispose([l, tp, fp, fn, x, y, ...(dm !== undefined ? [dm] : [])]);
        counts.loss += (lv[0] as number) / valBatches;
        for (let c = 0; c < plans.numClasses; c++) {
          counts.tp[c] += tpv[c] as number;
          counts.fp[c] += fpv[c] as number;
          counts.fn[c] += fnv[c] as number;
        }
      }
      const perClass = globalDice(counts.tp, counts.fp, counts.fn);
      const valDice = meanOfPresent(perClass);
      const decision = endEpoch(scheduleConfig, schedule, { trainLoss, valLoss: counts.loss, valDice: valDice ?? undefined });
      schedule = decision.state;

      const epochMillis = performance.now() - epochStart;
      const wait = stream.waitMillis - waitBefore;
      sessionWait += wait;
      const entry: EpochLogEntry = {
        epoch,
        trainLoss,
        valLoss: counts.loss,
        valDicePerClass: perClass,
        valDice,
        learningRate: optimizer.learningRate,
        trainLossMa: schedule.trainLossMa as number,
        lrReduced: decision.lrReduced,
        newBest: decision.newBest,
        seconds: epochMillis / 1000,
        dataWaitShare: wait / epochMillis,
        batchMillis: stream.makeMillis - makeBefore,
      };
      if (loss.weightAtEpoch !== undefined) entry.lossWeight = loss.weightAtEpoch(epoch);
      log.push(entry);

      const seconds = priorSeconds + (performance.now() - sessionStart) / 1000;
      const ckState: CheckpointState = { schedule, optimizerStep: optimizer.iterations, rng: { seed, state: rng.state() }, seconds };
      // checkpoint/best before checkpoint/latest: a kill between the two then leaves latest one
      // epoch behind, and the resumed run recomputes that epoch and rewrites best identically.
      // The other order would resume past an epoch whose best weights were never written.
      if (decision.newBest) await writeCheckpoint(path.join(runDir, RUN_FILES.best), model, optimizer, ckState, log);
      await writeCheckpoint(path.join(runDir, RUN_FILES.latest), model, optimizer, ckState, log);
      writeFileAtomicSync(path.join(runDir, RUN_FILES.log), logText(log));
      writeFileAtomicSync(path.join(runDir, RUN_FILES.curve), renderCurveSvg(title, log.map(toCurvePoint)));
      const done = decision.stop || schedule.epoch >= epochs;
      writeRunStatus(runDir, done
        ? { state: 'done', reason: schedule.stopReason ?? `reached ${epochs} epochs`, epoch: schedule.epoch, bestValDice: schedule.bestValDice, seconds }
        : { state: 'running', epoch: schedule.epoch, bestValDice: schedule.bestValDice, seconds, pid: process.pid });
      options.onEpoch?.(entry);
      if (summaries && !outputOptions().json) {
        const dice = perClass.map((d) => (d === null ? '–' : d.toFixed(3))).join('/');
        process.stderr.write(
          `${title} · epoch ${epoch}: train ${trainLoss.toFixed(4)} · val ${counts.loss.toFixed(4)} · Dice ${dice} · lr ${entry.learningRate.toExponential(1)} · ${entry.seconds.toFixed(1)} s · data wait ${(100 * entry.dataWaitShare).toFixed(0)}%${decision.newBest ? ' · best' : ''}\n`,
        );
      }
    }
  } catch (err) {
    if (err instanceof InterruptedError) {
      // Not a failure of the training: the run stays unfinished ('running' without a live pid),
      // like after a kill, so that re-running (or a benchmark) resumes it.
      writeRunStatus(runDir, {
        state: 'running', reason: `interrupted in epoch ${schedule.epoch}; re-run the same command to resume`, epoch: schedule.epoch,
        bestValDice: schedule.bestValDice, seconds: priorSeconds + (performance.now() - sessionStart) / 1000,
      });
    }
    else if (!(err instanceof RuntimeFailure && errorMessage(err).includes('diverged'))) fail(`error: ${errorMessage(err).split('\n')[0]}`, schedule.epoch);
    throw err;
  } finally {
    await stream.close();
    optimizer.dispose();
    model.dispose();
  }
  const sessionMillis = performance.now() - sessionStart;
  const status = readRunStatus(runDir) ?? { state: 'done' as const };
  if (status.state !== 'done') {
    // Nothing left to train (e.g. re-run with as many epochs as were already done).
    const seconds = priorSeconds + sessionMillis / 1000;
    writeRunStatus(runDir, { state: 'done', reason: schedule.stopReason ?? `reached ${epochs} epochs`, epoch: schedule.epoch, bestValDice: schedule.bestValDice, seconds });
  }
  const outcome = outcomeOf(readRunStatus(runDir) as RunStatus, false, sessionMillis > 0 ? sessionWait / sessionMillis : null);
  return outcome;
}

function toCurvePoint(e: EpochLogEntry): CurvePoint {
  return { epoch: e.epoch, trainLoss: e.trainLoss, valLoss: e.valLoss, valDice: e.valDice, learningRate: e.learningRate };
}

export interface LrSearchOutcome {
  task: string;
  loss: string;
  fold: number;
  runs: TrainOutcome[];
  /** The winning rate by mean foreground validation Dice of checkpoint/best; null when every run failed. */
  best: { learningRate: number; bestValDice: number; runDir: string } | null;
  /** Where the choice was recorded. */
  file: string;
}

/** File recording an LR search: results/<task>/<loss>/lr-search-fold-<k>.json. */
export function lrSearchFile(resultsRootDir: string, task: string, loss: string, fold: number): string {
  return path.join(resultsRootDir, task, loss, `lr-search-fold-${fold}.json`);
}

/**
 * Train one run per learning rate and choose the rate with the best validation Dice (the
 * validation fold, never the test split). A diverged rate is recorded as failed and the search
 * goes on; other errors stop it.
 */
export async function trainWithLrSearch(options: TrainOptions & { learningRates: number[] }): Promise<LrSearchOutcome> {
  if (options.learningRates.length === 0) throw new UsageError('--lr: no learning rate given');
  const runs: TrainOutcome[] = [];
  const fold = options.fold ?? 0;
  const lossId = lossIdOf(options.loss);
  const results = resultsRoot(options.results);
  for (const lr of options.learningRates) {
    try {
      runs.push(await trainRun({ ...options, learningRate: lr }));
    } catch (err) {
      if (!(err instanceof RuntimeFailure)) throw err;
      const dir = runDirectory(results, options.task, lossId, lr, fold);
      const st = readRunStatus(dir);
      runs.push({
        runDir: dir, task: options.task, loss: lossId, learningRate: lr, fold, status: 'failed', reason: st?.reason ?? errorMessage(err),
        bestValDice: st?.bestValDice ?? null, bestEpoch: null, epochs: st?.epoch ?? 0, seconds: st?.seconds ?? 0, dataWaitShare: null, skipped: false,
      });
      warn(errorMessage(err));
    }
  }
  let best: LrSearchOutcome['best'] = null;
  for (const r of runs) {
    if (r.status !== 'done' || r.bestValDice === null) continue;
    if (best === null || r.bestValDice > best.bestValDice) best = { learningRate: r.learningRate, bestValDice: r.bestValDice, runDir: r.runDir };
  }
  const file = lrSearchFile(results, options.task, lossId, fold);
  writeJsonAtomicSync(file, {
    task: options.task,
    loss: lossId,
    fold,
    criterion: 'mean foreground global Dice of checkpoint/best on the validation batches of the fold',
    runs: runs.map((r) => ({ learningRate: r.learningRate, status: r.status, reason: r.reason ?? null, bestValDice: r.bestValDice, bestEpoch: r.bestEpoch, epochs: r.epochs, seconds: r.seconds, runDir: r.runDir })),
    best,
  });
  return { task: options.task, loss: lossId, fold, runs, best, file };
}

/** Resolve `--lr`: a list of rates, or `search` for the profile's search set for this loss. */
export function resolveLearningRates(raw: string | undefined, loss: string, profileName: string): number[] | undefined {
  if (raw === undefined) return undefined;
  if (raw.trim() === 'search') {
    const profile = loadTrainingProfile(profileName);
    return getLossDefinition(loss).schedule?.finetuneRates === true ? profile.finetuneLrSearch : profile.lrSearch;
  }
  const parts = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const rates = parts.map((s) => Number(s));
  if (rates.length === 0 || rates.some((r) => !Number.isFinite(r) || r <= 0)) throw new UsageError(`--lr: expected positive numbers separated by commas or 'search', got '${raw}'`);
  return [...new Set(rates)];
}

export type { TrainingCase };
