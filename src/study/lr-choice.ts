/**
 * The learning rate a loss is tested with: the one with the best MEAN validation score over the
 * loss's replicates (seeds × folds), not each replicate's own best, so that every replicate of a
 * loss is tested at one rate and the choice itself is not a single run's luck (paper §3.2 chooses
 * on validation; with replicates, on their mean). Written to lrChoiceFile(...) (src/util/layout.ts),
 * which `predict --run <loss dir>` and `train --pretrained <loss dir>` follow.
 *
 * Score of a replicate: its run's best validation Dice (status.json `bestValDice`, the criterion of
 * checkpoint/best). A replicate whose run failed or never finished scores 0 — an empty prediction's
 * Dice, the study's N/A rule — so a rate that diverges on some seeds is penalised, not ignored.
 * A rate none of whose replicates finished cannot be chosen. Ties go to the smaller rate, as
 * resolveRunDirectory breaks them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeJsonAtomicSync } from '../util/atomic.js';
import { formatLearningRate, lrChoiceFile, runDirectory } from '../util/layout.js';
import { readRunStatus } from '../util/run-status.js';
import { InputError, errorMessage } from '../util/errors.js';

export const LR_CHOICE_VERSION = 1;

export interface Replicate {
  seed: number;
  fold: number;
}

export interface ReplicateScore extends Replicate {
  /** Best validation Dice of the run; null when it failed or did not finish. */
  score: number | null;
  /** The run's status.json state ('missing' when it has none). */
  state: string;
}

export interface RateScores {
  learningRate: number;
  /** Mean over every replicate, failed ones counted as 0; null when no replicate finished. */
  meanScore: number | null;
  scores: ReplicateScore[];
}

export interface LrChoice {
  version: number;
  task: string;
  loss: string;
  criterion: string;
  replicates: Replicate[];
  rates: RateScores[];
  /** The chosen rate; null when no rate has a finished replicate. */
  chosen: number | null;
}

export const LR_CHOICE_CRITERION =
  'mean over replicates (seeds x folds) of the run\'s best validation Dice (status.json bestValDice); a failed or unfinished replicate counts as 0; ties: the smaller rate';

/** Mean score of one rate: failed replicates count as 0; null when none finished. */
export function meanReplicateScore(scores: readonly (number | null)[]): number | null {
  if (scores.length === 0 || scores.every((s) => s === null)) return null;
  return scores.reduce<number>((sum, s) => sum + (s ?? 0), 0) / scores.length;
}

/** The chosen rate: highest mean; ties to the smaller rate; null when no rate has a mean. */
export function chooseRate(rates: readonly { learningRate: number; meanScore: number | null }[]): number | null {
  let best: { learningRate: number; meanScore: number } | null = null;
  for (const r of [...rates].sort((a, b) => a.learningRate - b.learningRate)) {
    if (r.meanScore === null) continue;
    if (best === null || r.meanScore > best.meanScore) best = { learningRate: r.learningRate, meanScore: r.meanScore };
  }
  return best?.learningRate ?? null;
}

/** Read every replicate's run at every rate and choose. */
export function computeLrChoice(resultsRoot: string, task: string, loss: string, rates: readonly number[], replicates: readonly Replicate[]): LrChoice {
  const rateScores: RateScores[] = rates.map((learningRate) => {
    const scores = replicates.map((r): ReplicateScore => {
      const status = readRunStatus(runDirectory(resultsRoot, task, loss, learningRate, r.fold, r.seed));
      const finished = status?.state === 'done' && typeof status.bestValDice === 'number' && Number.isFinite(status.bestValDice);
      return { seed: r.seed, fold: r.fold, score: finished ? (status.bestValDice as number) : null, state: status?.state ?? 'missing' };
    });
    return { learningRate, meanScore: meanReplicateScore(scores.map((s) => s.score)), scores };
  });
  return {
    version: LR_CHOICE_VERSION,
    task,
    loss,
    criterion: LR_CHOICE_CRITERION,
    replicates: replicates.map((r) => ({ seed: r.seed, fold: r.fold })),
    rates: rateScores,
    chosen: chooseRate(rateScores),
  };
}

export function writeLrChoice(resultsRoot: string, choice: LrChoice): string {
  const file = lrChoiceFile(resultsRoot, choice.task, choice.loss);
  writeJsonAtomicSync(file, choice);
  return file;
}

export function readLrChoice(resultsRoot: string, task: string, loss: string): LrChoice | undefined {
  const file = lrChoiceFile(resultsRoot, task, loss);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LrChoice;
  } catch (error) {
    throw new InputError(file, `not valid JSON (${errorMessage(error)})`);
  }
}

/** One line for humans: "3e-4 (mean 0.812 over 2 replicates; 3e-3: 0.790, 3e-5: n/a)". */
export function describeLrChoice(choice: LrChoice): string {
  const fmt = (v: number | null) => (v === null ? 'n/a' : v.toFixed(3));
  const others = choice.rates.filter((r) => r.learningRate !== choice.chosen).map((r) => `${formatLearningRate(r.learningRate)}: ${fmt(r.meanScore)}`);
  const chosen = choice.rates.find((r) => r.learningRate === choice.chosen);
  const head = chosen === undefined ? 'no rate finished' : `${formatLearningRate(chosen.learningRate)} (mean ${fmt(chosen.meanScore)} over ${choice.replicates.length} replicate${choice.replicates.length === 1 ? '' : 's'}`;
  return chosen === undefined ? `${head}${others.length > 0 ? ` (${others.join(', ')})` : ''}` : `${head}${others.length > 0 ? `; ${others.join(', ')}` : ''})`;
}
