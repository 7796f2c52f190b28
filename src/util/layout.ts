/**
 * The results layout: every path of the pipeline's outputs is built here and nowhere else, so
 * training, evaluation and the benchmark grid agree on where a run, a test or a ranking lives.
 * The roots come from ./paths.ts ($SEGLOSS_RESULTS, $SEGLOSS_PREPROCESSED, flags).
 *
 *   <preprocessed>/<task>/                                     preprocessedTaskDirectory
 *   <results>/<task>/<loss>/                                   lossDirectory
 *   <results>/<task>/<loss>/lr-<rate>/fold-<k>/seed-<s>/       runDirectory: one training run (RUN_FILES)
 *   <results>/<task>/_pretrain/<loss>/fold-<k>/seed-<s>/       pretrainDirectory: the model a special
 *                                                              schedule starts from, shared by every
 *                                                              fine-tuning run of the task, fold and seed
 *   <results>/<task>/<loss>/lr-search-fold-<k>-seed-<s>.json   lrSearchFile: an LR search and its winner
 *   <results>/<task>/<loss>/lr-choice.json                     lrChoiceFile: a benchmark's rate, chosen on the
 *                                                              mean validation score over its replicates
 *   <results>/<task>/<loss>/test/fold-<k>/seed-<s>/            testDirectory
 *     predictions/<case>.nii.gz                                testPredictionsDirectory
 *     evaluation/{per_case.csv,summary.json,results.csv}       testEvaluationDirectory, testResultsFile
 *   <results>/ranking/                                         rankingDirectory
 *   <results>/.benchmark/{cells,logs,locks}/                   benchmarkStateDirectory (a grid's own records)
 *   <results>/slurm/                                           slurmDirectory (`benchmark --emit slurm`)
 *
 * A run is identified by (task, loss, learning rate, fold, seed); its replicates — other folds,
 * other seeds — live side by side. A benchmark puts all of this under its own roots,
 * benchmarkRoot(<root>, <name>).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { InputError } from './errors.js';
import { readRunStatus, RUN_STATUS_FILE } from './run-status.js';

/**
 * The files of a run directory:
 *   config.json            the resolved configuration of the run
 *   log.jsonl              one JSON object per finished epoch
 *   status.json            { state: running | done | failed | interrupted, reason?, epoch?, bestValDice?, seconds?, pid?,
 *                          steps?, budgetSteps?, bestEpoch?, stopReason? } (./run-status.ts)
 *   curve.svg              training curve (losses, validation Dice, learning rate)
 *   checkpoint/latest/     model.json + weights.bin, optimizer.json + optimizer.bin, state.json,
 *                          log.jsonl (the log up to this checkpoint: what a resumed run continues)
 *   checkpoint/best/       the same for the epoch with the best validation criterion
 */
export const RUN_FILES = {
  config: 'config.json',
  log: 'log.jsonl',
  status: RUN_STATUS_FILE,
  curve: 'curve.svg',
  checkpoints: 'checkpoint',
  latest: path.join('checkpoint', 'latest'),
  best: path.join('checkpoint', 'best'),
} as const;

/** Learning rate as it appears in directory names and cell ids: 3e-4 → "3e-4", 0.001 → "1e-3". */
export function formatLearningRate(lr: number): string {
  const [mantissa, exponent] = lr.toExponential().split('e') as [string, string];
  return `${Number(mantissa)}e${Number(exponent)}`;
}

/** `fold-<k>/seed-<s>`: which replicate of a run, a pre-training or a test. */
function replicatePath(fold: number, seed: number): string {
  return path.join(`fold-${fold}`, `seed-${seed}`);
}

/** A benchmark's own root under a results or preprocessed root: `<root>/<name>`. */
export function benchmarkRoot(root: string, name: string): string {
  return path.join(root, name);
}

export function preprocessedTaskDirectory(preprocessedRoot: string, task: string): string {
  return path.join(preprocessedRoot, task);
}

/** Every run, LR search and test of one loss on one task: `<results>/<task>/<loss>`. */
export function lossDirectory(resultsRoot: string, task: string, loss: string): string {
  return path.join(resultsRoot, task, loss);
}

export function runDirectory(resultsRoot: string, task: string, loss: string, learningRate: number, fold: number, seed: number): string {
  return path.join(lossDirectory(resultsRoot, task, loss), `lr-${formatLearningRate(learningRate)}`, replicatePath(fold, seed));
}

export function pretrainDirectory(resultsRoot: string, task: string, loss: string, fold: number, seed: number): string {
  return path.join(resultsRoot, task, '_pretrain', loss, replicatePath(fold, seed));
}

export function lrSearchFile(resultsRoot: string, task: string, loss: string, fold: number, seed: number): string {
  return path.join(lossDirectory(resultsRoot, task, loss), `lr-search-fold-${fold}-seed-${seed}.json`);
}

const LR_CHOICE_FILE = 'lr-choice.json';

/** A benchmark's learning-rate choice over a loss's replicates (src/study/lr-choice.ts); resolveRunDirectory follows it. */
export function lrChoiceFile(resultsRoot: string, task: string, loss: string): string {
  return path.join(lossDirectory(resultsRoot, task, loss), LR_CHOICE_FILE);
}

export function testDirectory(resultsRoot: string, task: string, loss: string, fold: number, seed: number): string {
  return path.join(lossDirectory(resultsRoot, task, loss), 'test', replicatePath(fold, seed));
}

export function testPredictionsDirectory(resultsRoot: string, task: string, loss: string, fold: number, seed: number): string {
  return path.join(testDirectory(resultsRoot, task, loss, fold, seed), 'predictions');
}

export function testEvaluationDirectory(resultsRoot: string, task: string, loss: string, fold: number, seed: number): string {
  return path.join(testDirectory(resultsRoot, task, loss, fold, seed), 'evaluation');
}

/** The per-case results of a test (challengeR's format), what the ranking reads. */
export function testResultsFile(resultsRoot: string, task: string, loss: string, fold: number, seed: number): string {
  return path.join(testEvaluationDirectory(resultsRoot, task, loss, fold, seed), 'results.csv');
}

export function rankingDirectory(resultsRoot: string): string {
  return path.join(resultsRoot, 'ranking');
}

export function benchmarkStateDirectory(resultsRoot: string): string {
  return path.join(resultsRoot, '.benchmark');
}

export function slurmDirectory(resultsRoot: string): string {
  return path.join(resultsRoot, 'slurm');
}

/**
 * A run directory from `dir`: `dir` itself when it holds config.json, else — for a loss directory
 * `<results>/<task>/<loss>` — the `lr-<rate>/fold-<fold>/seed-<seed>` run that finished ('done')
 * with the highest best validation Dice (ties: the smaller learning rate), as `segloss train
 * --lr search` chooses for that fold and seed. The test split never takes part in this choice
 * (paper §3.2: rates are chosen on validation). A benchmark's lr-choice.json (the rate with the best
 * mean over the loss's replicates) wins over that when it covers this fold and seed.
 */
export function resolveRunDirectory(dir: string, fold: number, seed: number): string {
  if (existsSync(path.join(dir, RUN_FILES.config))) return dir;
  if (!existsSync(dir)) throw new InputError(dir, 'run directory does not exist');
  const replicate = replicatePath(fold, seed);
  const chosen = chosenRunDirectory(dir, fold, seed);
  if (chosen !== undefined) return chosen;
  const candidates = readdirSync(dir)
    .filter((n) => n.startsWith('lr-'))
    .map((n) => ({ rate: Number(n.slice(3)), runDir: path.join(dir, n, replicate) }))
    .filter((c) => existsSync(path.join(c.runDir, RUN_FILES.config)))
    .sort((a, b) => a.rate - b.rate);
  if (candidates.length === 0) throw new InputError(dir, `neither a run directory (config.json) nor a loss directory with lr-*/${replicate}/ runs`);
  let best: { runDir: string; dice: number } | undefined;
  for (const c of candidates) {
    const st = readRunStatus(c.runDir);
    if (st?.state !== 'done' || typeof st.bestValDice !== 'number') continue;
    if (best === undefined || st.bestValDice > best.dice) best = { runDir: c.runDir, dice: st.bestValDice };
  }
  if (best === undefined) throw new InputError(dir, `no finished run of fold ${fold}, seed ${seed} with a validation Dice (diverged or unfinished training?)`);
  return best.runDir;
}

/** The run of `lr-choice.json`'s rate for this fold and seed, when the choice covers them; a failed run is an error. */
function chosenRunDirectory(lossDir: string, fold: number, seed: number): string | undefined {
  const file = path.join(lossDir, LR_CHOICE_FILE);
  if (!existsSync(file)) return undefined;
  let choice: { chosen: number | null; replicates: { seed: number; fold: number }[] };
  try {
    choice = JSON.parse(readFileSync(file, 'utf8')) as typeof choice;
  } catch {
    throw new InputError(file, 'not valid JSON (delete it; the benchmark writes it again)');
  }
  if (choice.chosen === null || !Array.isArray(choice.replicates) || !choice.replicates.some((r) => r.seed === seed && r.fold === fold)) return undefined;
  const runDir = path.join(lossDir, `lr-${formatLearningRate(choice.chosen)}`, replicatePath(fold, seed));
  const state = readRunStatus(runDir)?.state;
  if (state !== 'done') throw new InputError(runDir, `the chosen learning rate's run of fold ${fold}, seed ${seed} is ${state ?? 'missing'} (${file})`);
  return runDir;
}
