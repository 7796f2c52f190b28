/**
 * Run directory layout (issue 6):
 *
 *   results/<task>/<loss>/lr-<rate>/fold-<k>/       one training run (runDirectory)
 *   results/<task>/_pretrain/<loss>/fold-<k>/       the pre-trained model a special schedule
 *                                                   starts from, shared by every fine-tuning run of
 *                                                   the task and fold (pretrainDirectory)
 * each holding
 *   config.json            the resolved configuration of the run
 *   log.jsonl              one JSON object per finished epoch
 *   status.json            { state: running | done | failed, reason?, epoch?, bestValDice?, seconds? }
 *   checkpoint/latest/     model.json + weights.bin, optimizer.json + optimizer.bin, state.json
 *   checkpoint/best/       the same for the epoch with the best validation criterion
 *   curve.svg              training curve (losses, validation Dice, learning rate)
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomicSync } from '../util/atomic.js';

/** Learning rate as it appears in directory names: 3e-4 → "3e-4", 0.001 → "1e-3". */
export function formatLearningRate(lr: number): string {
  const [mantissa, exponent] = lr.toExponential().split('e') as [string, string];
  return `${Number(mantissa)}e${Number(exponent)}`;
}

export function runDirectory(resultsRoot: string, task: string, loss: string, learningRate: number, fold: number): string {
  return path.join(resultsRoot, task, loss, `lr-${formatLearningRate(learningRate)}`, `fold-${fold}`);
}

export function pretrainDirectory(resultsRoot: string, task: string, loss: string, fold: number): string {
  return path.join(resultsRoot, task, '_pretrain', loss, `fold-${fold}`);
}

export const RUN_FILES = {
  config: 'config.json',
  log: 'log.jsonl',
  status: 'status.json',
  curve: 'curve.svg',
  latest: path.join('checkpoint', 'latest'),
  best: path.join('checkpoint', 'best'),
} as const;

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
  const file = path.join(runDir, RUN_FILES.status);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunStatus;
  } catch {
    return undefined;
  }
}

export function writeRunStatus(runDir: string, status: RunStatus): void {
  writeJsonAtomicSync(path.join(runDir, RUN_FILES.status), status);
}
