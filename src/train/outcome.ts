/** What a training stage reports back (TrainOutcome), read from its status and latest checkpoint. */
import * as path from 'node:path';
import { RUN_FILES } from '../util/layout.js';
import type { RunStatus } from '../util/run-status.js';
import { hasCheckpoint, readCheckpointState } from './checkpoints.js';
import type { RunIdentity, TrainOutcome } from './types.js';

export type { RunIdentity };

export function runOutcome(run: RunIdentity, status: RunStatus, skipped: boolean, dataWaitShare: number | null): TrainOutcome {
  const outcome: TrainOutcome = {
    ...run,
    status: status.state === 'done' ? 'done' : 'failed',
    bestValDice: status.bestValDice ?? null,
    bestEpoch: null,
    epochs: status.epoch ?? 0,
    seconds: status.seconds ?? 0,
    dataWaitShare,
    skipped,
  };
  if (status.reason !== undefined) outcome.reason = status.reason;
  const latest = path.join(run.runDir, RUN_FILES.latest);
  if (hasCheckpoint(latest)) outcome.bestEpoch = readCheckpointState(latest).schedule.bestEpoch;
  return outcome;
}
