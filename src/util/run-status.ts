/**
 * The status file of a run (`status.json`, see ./layout.ts): written by training after every epoch,
 * and when it stops (done, failed, interrupted), read by prediction (which run of a loss won on validation) and by the benchmark grid (which
 * cells are done, running or failed).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomicSync } from './atomic.js';

/** Name of the status file inside a run directory (RUN_FILES.status of ./layout.ts). */
export const RUN_STATUS_FILE = 'status.json';

/**
 * 'interrupted': stopped by SIGINT/SIGTERM at a safe point; resumable like 'running' (which, without
 * a live process, is what a killed run leaves behind).
 */
export type RunState = 'running' | 'done' | 'failed' | 'interrupted';

/**
 * Why a run stopped: its epoch budget ran out, early stopping (no train-loss improvement at the
 * lowest learning rate), the learning rate fell below its floor, it failed, or it was interrupted.
 * segloss's schedule stops at the floor only through early stopping, so it writes 'early-stop' there.
 */
export type StopReason = 'budget' | 'early-stop' | 'lr-floor' | 'failed' | 'interrupted';

export interface RunStatus {
  state: RunState;
  reason?: string;
  /** Epochs finished so far. */
  epoch?: number;
  /** Mean foreground validation Dice of the best checkpoint. */
  bestValDice?: number | null;
  /** Wall-clock seconds of training, summed over resumed sessions. */
  seconds?: number;
  /** Process id of the session that wrote a 'running' status. */
  pid?: number;
  /** Optimizer steps finished in this stage (a fine-tuning counts its own steps only). */
  steps?: number;
  /** Optimizer steps planned: epochs × iterations per epoch. */
  budgetSteps?: number;
  /** Epoch (0-based) of checkpoint/best; null before any. */
  bestEpoch?: number | null;
  /** Set once the run stopped (done, failed or interrupted). */
  stopReason?: StopReason;
}

/** The status of a run, or undefined when the directory has none (never started). Fields other than `state` may be missing (runs of older versions). */
export function readRunStatus(runDir: string): RunStatus | undefined {
  const file = path.join(runDir, RUN_STATUS_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunStatus;
  } catch {
    return undefined;
  }
}

export function writeRunStatus(runDir: string, status: RunStatus): void {
  writeJsonAtomicSync(path.join(runDir, RUN_STATUS_FILE), status);
}
