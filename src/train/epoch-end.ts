/**
 * The end of an epoch: the schedule's decision (./schedule.ts: moving averages, ReduceLROnPlateau,
 * best checkpoint, early stopping) and the epoch's log entry (concludeEpoch), then everything
 * written atomically (saveEpoch): checkpoint/best when the validation criterion improved,
 * checkpoint/latest, log.jsonl, curve.svg and status.json, and the summary line on stderr.
 */
import * as path from 'node:path';
import { writeFileAtomicSync } from '../util/atomic.js';
import { RUN_FILES } from '../util/layout.js';
import { outputOptions } from '../util/log.js';
import { outputColumns } from '../util/width.js';
import { writeRunStatus } from '../util/run-status.js';
import { writeCheckpoint, type CheckpointState } from './checkpoints.js';
import { renderCurveSvg, type CurvePoint } from './curve.js';
import { formatEpochLine } from './epoch-line.js';
import type { ValidationResult } from './epoch.js';
import { runLogText } from './run-log.js';
import { endEpoch } from './schedule.js';
import { finishedStopReason, runSeconds, statusCounters, type RunSession } from './session.js';
import type { EpochLogEntry } from './types.js';

/** When an epoch started, and the batch stream's counters then (for its timing fields). */
export interface EpochStart {
  atMillis: number;
  waitMillis: number;
  makeMillis: number;
}

export function startEpoch(session: RunSession): EpochStart {
  return { atMillis: performance.now(), waitMillis: session.stream.waitMillis, makeMillis: session.stream.makeMillis };
}

/** Apply the schedule to the epoch's losses and Dice, and append the epoch's entry to the session's log. */
export function concludeEpoch(session: RunSession, start: EpochStart, trainLoss: number, validation: ValidationResult): EpochLogEntry {
  const epoch = session.schedule.epoch;
  const decision = endEpoch(session.scheduleConfig, session.schedule, { trainLoss, valLoss: validation.loss, valDice: validation.dice ?? undefined });
  session.schedule = decision.state;
  const epochMillis = performance.now() - start.atMillis;
  const wait = session.stream.waitMillis - start.waitMillis;
  session.sessionWait += wait;
  const entry: EpochLogEntry = {
    epoch,
    trainLoss,
    valLoss: validation.loss,
    valDicePerClass: validation.dicePerClass,
    valDice: validation.dice,
    learningRate: session.optimizer.learningRate,
    trainLossMa: session.schedule.trainLossMa as number,
    lrReduced: decision.lrReduced,
    newBest: decision.newBest,
    seconds: epochMillis / 1000,
    dataWaitShare: wait / epochMillis,
    batchMillis: session.stream.makeMillis - start.makeMillis,
  };
  if (session.loss.weightAtStep !== undefined) entry.lossWeight = session.loss.weightAtStep(session.optimizer.iterations - 1);
  session.log.push(entry);
  return entry;
}

function toCurvePoint(e: EpochLogEntry): CurvePoint {
  return { epoch: e.epoch, trainLoss: e.trainLoss, valLoss: e.valLoss, valDice: e.valDice, learningRate: e.learningRate };
}

/** Write the finished epoch: checkpoints, log, curve, status; then report it. */
export async function saveEpoch(session: RunSession, entry: EpochLogEntry): Promise<void> {
  const { runDir, schedule, log, model, optimizer, settings } = session;
  const seconds = runSeconds(session);
  const state: CheckpointState = { schedule, optimizerStep: optimizer.iterations, rng: { seed: session.seed, state: session.rng.state() }, seconds };
  // checkpoint/best before checkpoint/latest: a kill between the two then leaves latest one
  // epoch behind, and the resumed run recomputes that epoch and rewrites best identically.
  // The other order would resume past an epoch whose best weights were never written.
  if (entry.newBest) await writeCheckpoint(path.join(runDir, RUN_FILES.best), model, optimizer, state, log);
  await writeCheckpoint(path.join(runDir, RUN_FILES.latest), model, optimizer, state, log);
  session.checkpointedSteps = optimizer.iterations;
  writeFileAtomicSync(path.join(runDir, RUN_FILES.log), runLogText(log));
  writeFileAtomicSync(path.join(runDir, RUN_FILES.curve), renderCurveSvg(session.title, log.map(toCurvePoint)));
  const done = schedule.stopped || schedule.epoch >= settings.epochs;
  const counters = statusCounters(session);
  writeRunStatus(runDir, done
    ? { state: 'done', reason: schedule.stopReason ?? `reached ${settings.epochs} epochs`, epoch: schedule.epoch, bestValDice: schedule.bestValDice, seconds, ...counters, stopReason: finishedStopReason(schedule.stopReason) }
    : { state: 'running', epoch: schedule.epoch, bestValDice: schedule.bestValDice, seconds, pid: process.pid, ...counters });
  settings.onEpoch?.(entry);
  if (settings.epochSummaries && !outputOptions().json) process.stderr.write(`${formatEpochLine(session.label, entry, outputColumns(process.stderr))}\n`);
}
