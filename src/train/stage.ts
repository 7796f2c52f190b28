/**
 * One training stage as a list of named steps, like nnU-Net v2's `nnUNetTrainer.run_training`:
 *
 *   prepareRun            directory, anything left to train?, data, loss, config.json  (./prepare.ts)
 *   restoreOrInitialise   model, optimizer, schedule, log, batch stream                 (./session.ts)
 *   for each epoch:
 *     trainEpoch          the training steps                                            (./epoch.ts)
 *     validateEpoch       the validation steps                                          (./epoch.ts)
 *     concludeEpoch       the schedule's decision and the epoch's log entry             (./epoch-end.ts)
 *     saveEpoch           checkpoints, log, curve, status                               (./epoch-end.ts)
 *   finishSession         the final status and the outcome                              (./session.ts)
 *
 * A run killed at any point resumes from checkpoint/latest at the start of the epoch it was in
 * and — because batches depend only on their index — continues exactly as the uninterrupted run
 * would have (docs/training.md, "Resume, failures, determinism").
 */
import { lockDirectory } from '../util/lock.js';
import { prepareRun, stageDirectory, type StageRequest } from './prepare.js';
import { closeSession, finishSession, recordStop, restoreOrInitialise } from './session.js';
import { trainEpoch, validateEpoch } from './epoch.js';
import { concludeEpoch, saveEpoch, startEpoch } from './epoch-end.js';
import type { RunSettings } from './settings.js';
import type { TrainOutcome } from './types.js';

/**
 * Train one stage, holding its directory's lock (../util/lock.ts; re-entrant: the command may
 * hold it already). Resumes an unfinished run in the same directory; returns at once for a
 * finished one. Throws RuntimeFailure after marking the run failed when the loss diverges (a
 * diverged run is not retrained: its outcome is returned, 'failed'), InterruptedError on Ctrl-C
 * (status 'interrupted': resumable), and InputError (exit 2) when another process holds the lock.
 */
export async function trainStage(settings: RunSettings, request: StageRequest): Promise<TrainOutcome> {
  const lock = lockDirectory(stageDirectory(settings, request), 'being trained');
  try {
    return await trainLockedStage(settings, request);
  } finally {
    lock.release();
  }
}

async function trainLockedStage(settings: RunSettings, request: StageRequest): Promise<TrainOutcome> {
  const preparation = await prepareRun(settings, request);
  if ('finished' in preparation) return preparation.finished;
  const session = await restoreOrInitialise(preparation.prepared);
  try {
    while (!session.schedule.stopped && session.schedule.epoch < settings.epochs) {
      const start = startEpoch(session);
      const trainLoss = await trainEpoch(session);
      const validation = await validateEpoch(session);
      const entry = concludeEpoch(session, start, trainLoss, validation);
      await saveEpoch(session, entry);
    }
  } catch (err) {
    recordStop(session, err);
    throw err;
  } finally {
    await closeSession(session);
  }
  return finishSession(session);
}
