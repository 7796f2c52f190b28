/**
 * The status file of a run (`status.json`, see ./layout.ts): written by training after every epoch,
 * read by prediction (which run of a loss won on validation) and by the benchmark grid (which
 * cells are done, running or failed).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomicSync } from './atomic.js';

/** Name of the status file inside a run directory (RUN_FILES.status of ./layout.ts). */
export const RUN_STATUS_FILE = 'status.json';

export type RunState = 'running' | 'done' | 'failed';

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
}

/** The status of a run, or undefined when the directory has none (never started). */
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
