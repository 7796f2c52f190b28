/**
 * Run directory layout:
 *
 *   results/<task>/<loss>/lr-<rate>/fold-<k>/       one training run (runDirectory)
 *   results/<task>/_pretrain/<loss>/fold-<k>/       the pre-trained model a special schedule
 *                                                   starts from, shared by every fine-tuning run of
 *                                                   the task and fold (pretrainDirectory)
 * each holding
 *   config.json            the resolved configuration of the run
 *   log.jsonl              one JSON object per finished epoch
 *   status.json            { state: running | done | failed, reason?, epoch?, bestValDice?, seconds? }
 *   checkpoint/latest/     model.json + weights.bin, optimizer.json + optimizer.bin, state.json,
 *                          log.jsonl (the log up to this checkpoint: what a resumed run continues)
 *   checkpoint/best/       the same for the epoch with the best validation criterion
 *   curve.svg              training curve (losses, validation Dice, learning rate)
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { InputError } from '../util/errors.js';
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

/**
 * A run directory from `dir`: `dir` itself when it holds config.json, else — for a loss directory
 * `results/<task>/<loss>` — the `lr-<rate>/fold-<fold>` run that finished ('done') with the highest
 * best validation Dice (ties: the smaller learning rate), as `segloss train --lr search` chooses.
 * The test split never takes part in this choice (paper §3.2: rates are chosen on validation).
 */
export function resolveRunDirectory(dir: string, fold = 0): string {
  if (existsSync(path.join(dir, RUN_FILES.config))) return dir;
  if (!existsSync(dir)) throw new InputError(dir, 'run directory does not exist');
  const candidates = readdirSync(dir)
    .filter((n) => n.startsWith('lr-'))
    .map((n) => ({ rate: Number(n.slice(3)), runDir: path.join(dir, n, `fold-${fold}`) }))
    .filter((c) => existsSync(path.join(c.runDir, RUN_FILES.config)))
    .sort((a, b) => a.rate - b.rate);
  if (candidates.length === 0) throw new InputError(dir, `neither a run directory (config.json) nor a loss directory with lr-*/fold-${fold}/ runs`);
  let best: { runDir: string; dice: number } | undefined;
  for (const c of candidates) {
    const st = readRunStatus(c.runDir);
    if (st?.state !== 'done' || typeof st.bestValDice !== 'number') continue;
    if (best === undefined || st.bestValDice > best.dice) best = { runDir: c.runDir, dice: st.bestValDice };
  }
  if (best === undefined) throw new InputError(dir, `no finished run of fold ${fold} with a validation Dice (diverged or unfinished training?)`);
  return best.runDir;
}
