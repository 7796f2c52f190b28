/**
 * Which stage a training command trains (paper §3.2): a plug-and-play loss trains its own run; a
 * loss with a special schedule (Lovász ← CE, DiceBD/DiceHD ← Dice; `getLossDefinition(id).schedule`)
 * fine-tunes the best weights of a pre-training run in pretrainDirectory(...) — trained once per
 * task, fold and seed and reused by every fine-tuning run of that fold and seed — or of the run
 * `--pretrained` names (for a loss directory: its best rate for the same fold and seed); and
 * `--pretrain-only` trains just that pre-training. The loss's own epoch schedule (DiceBD's α) is
 * driven by the fine-tuning epoch.
 */
import { existsSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { InputError, RuntimeFailure } from '../util/errors.js';
import { pretrainDirectory, resolveRunDirectory, runDirectory, RUN_FILES } from '../util/layout.js';
import { readRunStatus, writeRunStatus } from '../util/run-status.js';
import { throwIfInterrupted } from '../util/interrupt.js';
import { lockDirectoryWaiting } from '../util/lock.js';
import { info } from '../util/log.js';
import { resolveRunLoss, type RunLoss } from './run-loss.js';
import type { RunSettings } from './settings.js';
import { trainStage } from './stage.js';
import type { TrainOutcome } from './types.js';

/** The loss a pre-training stage trains: a special schedule's base loss, or the loss itself (ce, dice). */
function pretrainLossOf(loss: RunLoss): RunLoss {
  return loss.schedule === undefined ? loss : resolveRunLoss(loss.schedule.pretrainLoss);
}

/**
 * The directories a training command trains into, one per learning rate (undefined: the stage's
 * default rate): the pre-training's with `pretrainOnly`, else the loss's runs. A special schedule's
 * shared pre-training is not among them: it is trained, or waited for, when needed.
 */
export function commandRunDirectories(settings: RunSettings, loss: RunLoss, learningRates: readonly (number | undefined)[]): string[] {
  const { results, task, fold, seed } = settings;
  if (settings.pretrainOnly) return [pretrainDirectory(results, task, pretrainLossOf(loss).id, fold, seed)];
  return [...new Set(learningRates.map((lr) => runDirectory(results, task, loss.id, lr ?? settings.profile.learningRate, fold, seed)))];
}

/**
 * Train `loss` at `learningRate` (undefined: the profile's rate for its stage) with its schedule:
 * with `pretrainOnly` only the pre-training stage, else the loss's run — after its pre-trained
 * model when it has a special schedule.
 */
export async function trainWithSchedule(settings: RunSettings, loss: RunLoss, learningRate: number | undefined): Promise<TrainOutcome> {
  if (settings.pretrainOnly) {
    return trainStage(settings, { stage: 'pretrain', loss: pretrainLossOf(loss), learningRate: learningRate ?? settings.pretrainLearningRate, pretrainFrom: null });
  }
  const rate = learningRate ?? settings.profile.learningRate;
  const pretrainFrom = loss.schedule === undefined ? null : await pretrainedModel(settings, loss, rate);
  return trainStage(settings, { stage: 'train', loss, learningRate: rate, pretrainFrom });
}

/**
 * The best checkpoint a special schedule fine-tunes: of the `--pretrained` run (or of the best rate
 * of a loss directory), else of the shared pre-training, trained first when needed. When there is
 * none the fine-tuning run is marked failed with the reason and a RuntimeFailure thrown.
 */
async function pretrainedModel(settings: RunSettings, loss: RunLoss, learningRate: number): Promise<string> {
  const base = pretrainLossOf(loss);
  let model: string | null = null;
  let failure: string | undefined;
  if (settings.pretrained !== undefined) {
    try {
      model = path.join(resolveRunDirectory(settings.pretrained, settings.fold, settings.seed), RUN_FILES.best);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      failure = err.message;
    }
  } else {
    model = await ensurePretrained(settings, base);
    failure = readRunStatus(pretrainDirectory(settings.results, settings.task, base.id, settings.fold, settings.seed))?.reason;
  }
  if (model !== null) return model;
  const dir = runDirectory(settings.results, settings.task, loss.id, learningRate, settings.fold, settings.seed);
  const reason = `pre-training with ${base.id} failed (${failure ?? 'no model'})`;
  await fsp.mkdir(dir, { recursive: true });
  writeRunStatus(dir, { state: 'failed', reason, epoch: 0, bestValDice: null, seconds: 0, steps: 0, stopReason: 'failed' });
  throw new RuntimeFailure(`${settings.task}/${loss.id}: ${reason}`);
}

/**
 * Path of the pre-trained best checkpoint, training it first when needed; null when it failed.
 * Another process pre-training the same model holds its directory's lock: wait for it.
 */
async function ensurePretrained(settings: RunSettings, base: RunLoss): Promise<string | null> {
  const dir = pretrainDirectory(settings.results, settings.task, base.id, settings.fold, settings.seed);
  const lock = await lockDirectoryWaiting(dir, {
    pollMs: 2000,
    check: throwIfInterrupted,
    onWait: (holder) => info(`waiting for process ${holder.pid}, which is pre-training ${dir} …`),
  });
  try {
    if (readRunStatus(dir)?.state !== 'done') {
      try {
        // The shared pre-training is neither restarted nor required to exist by the fine-tuning's flags.
        await trainStage({ ...settings, restart: false, resume: false }, { stage: 'pretrain', loss: base, learningRate: settings.pretrainLearningRate, pretrainFrom: null });
      } catch (err) {
        if (err instanceof RuntimeFailure) return null;
        throw err;
      }
    }
  } finally {
    lock.release();
  }
  const best = path.join(dir, RUN_FILES.best);
  return existsSync(path.join(best, 'model.json')) ? best : null;
}
