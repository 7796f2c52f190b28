/**
 * Training a 3D U-Net with one loss the way the study did it (paper §3.2; nnU-Net V1
 * `nnUNetTrainer.run_training`; docs/training.md). This file is the entry point and the table of
 * contents of src/train's run machinery:
 *
 *   ./types.ts             TrainOptions, TrainOutcome, LrSearchOutcome, EpochLogEntry, RunConfig
 *   ./settings.ts          TrainOptions → RunSettings, every default applied once (TRAIN_DEFAULTS)
 *   ./run-loss.ts          the loss resolved once: id, special schedule, options; configured per stage
 *   ./lr-search.ts         trainWithLrSearch, resolveLearningRates (`--lr a,b,c`, `--lr search`)
 *   ./special-schedule.ts  which stage to train: the loss's run, its pre-training, `--pretrained`
 *   ./stage.ts             trainStage: prepareRun → restoreOrInitialise → per epoch trainEpoch,
 *                          validateEpoch, concludeEpoch, saveEpoch → finishSession
 *   ./prepare.ts           run directory, skip finished runs, data, configured loss, config.json
 *   ./session.ts           model, optimizer, schedule state, log and batch stream of a session
 *   ./epoch.ts             the training steps and the validation steps of an epoch; globalDice
 *   ./epoch-end.ts         the schedule's decision, the log entry, the writes after an epoch
 *   ./checkpoints.ts       checkpoint/{latest,best}: write, read, recover after a kill
 *   ./command-lock.ts      the run directories' locks a command takes before any work
 *   ./run-log.ts           log.jsonl
 *   ../util/layout.ts      where every run, pre-training, LR search and test lives
 */
import { resolveRunLoss } from './run-loss.js';
import { resolveRunSettings } from './settings.js';
import { commandRunDirectories, trainWithSchedule } from './special-schedule.js';
import { lockRunDirectories } from './command-lock.js';
import type { TrainOptions, TrainOutcome } from './types.js';

/**
 * Train one run (one task, loss, learning rate and fold). Every argument is checked and the run
 * directory locked before any work (data synthesis and preprocessing included). Resumes an
 * unfinished run in the same directory; returns at once for a finished one. Throws RuntimeFailure
 * after marking the run failed when the loss diverges (a diverged run is not retrained: its
 * outcome is returned, 'failed'), InterruptedError on Ctrl-C (status 'interrupted': resumable),
 * and InputError (exit 2) when another process holds the run's lock.
 */
/** Check every argument of a training command without doing any work (throws UsageError / InputError). */
export function checkTrainOptions(options: TrainOptions): void {
  resolveRunLoss(options.loss, options.lossOptions);
  resolveRunSettings(options);
}

export async function trainRun(options: TrainOptions): Promise<TrainOutcome> {
  // The loss first: a typo in its id or options is a usage error before any data work.
  const loss = resolveRunLoss(options.loss, options.lossOptions);
  const settings = resolveRunSettings(options);
  const release = lockRunDirectories(commandRunDirectories(settings, loss, [options.learningRate]));
  try {
    return await trainWithSchedule(settings, loss, options.learningRate);
  } finally {
    release();
  }
}

export { trainWithLrSearch, resolveLearningRates } from './lr-search.js';
export { readRunLog } from './run-log.js';
export { recoverCheckpoints } from './checkpoints.js';
export { globalDice } from './epoch.js';
export { TRAIN_DEFAULTS } from './settings.js';
export { lrSearchFile } from '../util/layout.js';
export type { TrainOptions, TrainOutcome, EpochLogEntry, RunConfig, LrSearchOutcome, SelectionMode, CheckpointKind } from './types.js';
export { SELECTION_MODES, CHECKPOINT_KINDS } from './types.js';
export { selectionCases } from './data.js';
export type { TrainingCase } from './sampler.js';
