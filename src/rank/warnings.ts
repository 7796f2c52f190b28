/**
 * Warnings a careful reader of a loss comparison needs before trusting its leaderboard
 * (docs/ranking.md, "Warnings"; every trigger below is the exact rule):
 *
 * - `too-few-cases`: a task's n test cases make the smallest two-sided exact Wilcoxon p, 2/2^n,
 *   at least alpha, so no pair can differ significantly (n ≤ 5 at alpha 0.05). No top loss is
 *   named for that task (`Ranking.topLoss[task] = null`).
 * - `single-replicate`: some task has one trained network per loss; its differences may be
 *   training noise. One warning naming those tasks.
 * - `under-trained` (needs provenance): a loss's steps (largest over its replicates) are below 20 %
 *   of its budgetSteps, or a replicate's validation curve is still rising at its end (`isRising`).
 * - `unequal-compute` (needs provenance): within a task, the largest steps over the losses divided
 *   by the smallest is ≥ 1.5 (a smallest of 0 with a largest above 0 counts too).
 * - `lr-at-grid-edge` (needs provenance): at least two learning rates were searched and the chosen
 *   one is the largest or the smallest of them.
 * - `synthetic-data`: the caller says some tasks are synthetic (`rank --synthetic-tasks`; the
 *   benchmark passes its toy tasks): the leaderboard demonstrates the pipeline, not the losses.
 */
import { printable } from '../util/text.js';
import type { ProvenanceSummary, RankWarning, Replicate } from './types.js';

/**
 * With n paired cases the smallest two-sided exact Wilcoxon p is 2/2^n (every difference of one
 * sign); when that is ≥ alpha no pair of losses can ever differ significantly.
 */
export function noPairCanBeSignificant(nCases: number, alpha: number): boolean {
  return 2 / 2 ** nCases >= alpha;
}

/** Fraction of the budget below which a run counts as under-trained. */
export const UNDER_TRAINED_FRACTION = 0.2;
/** Ratio of largest to smallest steps within a task from which compute counts as unequal. */
export const UNEQUAL_COMPUTE_RATIO = 1.5;
/** Share of a learning curve's epochs that form its end, and the rise over the earlier best that counts. */
export const RISING_TAIL_FRACTION = 0.2;
export const RISING_MARGIN = 0.01;

/**
 * A validation curve is still rising at its end when, over its epochs with a score (E of them,
 * in epoch order), the best score of the last k = max(1, ⌈0.2·E⌉) exceeds the best of the E − k
 * earlier ones by more than 0.01. Curves with fewer than 2 scored epochs are not judged.
 */
export function isRising(points: { epoch: number; valDice: number | null }[]): boolean {
  const scores = [...points]
    .filter((p) => p.valDice !== null && Number.isFinite(p.valDice))
    .sort((a, b) => a.epoch - b.epoch)
    .map((p) => p.valDice as number);
  const E = scores.length;
  if (E < 2) return false;
  const k = Math.max(1, Math.ceil(RISING_TAIL_FRACTION * E - 1e-9));
  if (E - k < 1) return false;
  const earlier = Math.max(...scores.slice(0, E - k));
  const tail = Math.max(...scores.slice(E - k));
  return tail > earlier + RISING_MARGIN;
}

export interface WarningInput {
  tasks: string[];
  /** Number of test cases per task. */
  caseCounts: Record<string, number>;
  replicates: Record<string, Replicate[]>;
  alpha: number;
  provenance: ProvenanceSummary[] | null;
}

const fmt = (v: number): string => String(Number(v.toPrecision(4)));
/** A task or loss name inside a message (cut and escaped). */
const nm = (name: string): string => printable(name, 60);

export function rankingWarnings(input: WarningInput): RankWarning[] {
  const warnings: RankWarning[] = [];
  for (const task of input.tasks) {
    const n = input.caseCounts[task] ?? 0;
    if (noPairCanBeSignificant(n, input.alpha)) {
      warnings.push({
        code: 'too-few-cases',
        task,
        message: `task ${nm(task)} has ${n} test case(s): the smallest two-sided Wilcoxon p is 2/2^${n} = ${fmt(2 / 2 ** n)} ≥ alpha ${input.alpha}, so no loss can be significantly better than another and no top loss is named`,
      });
    }
  }
  const single = input.tasks.filter((t) => (input.replicates[t]?.length ?? 0) <= 1);
  if (single.length > 0) {
    const w: RankWarning = {
      code: 'single-replicate',
      message: `one trained network per loss on ${single.length === input.tasks.length ? (single.length === 1 ? `task ${nm(single[0] as string)}` : 'every task') : `task(s) ${single.map(nm).join(', ')}`}: differences between losses may be training noise (run several seeds)`,
    };
    if (single.length === 1) w.task = single[0] as string;
    warnings.push(w);
  }
  const prov = input.provenance ?? [];
  for (const s of prov) {
    const reasons: string[] = [];
    if (s.budgetSteps > 0 && s.steps < UNDER_TRAINED_FRACTION * s.budgetSteps) {
      reasons.push(`trained ${s.steps} of its ${s.budgetSteps} planned steps (${fmt((100 * s.steps) / s.budgetSteps)} % < ${100 * UNDER_TRAINED_FRACTION} %)`);
    } else if (s.profileSteps !== null && s.profileSteps > 0 && s.steps < UNDER_TRAINED_FRACTION * s.profileSteps) {
      // A capped run (benchmark `training: { epochs }`, `--epochs`) can finish its own budget and
      // still be a fraction of what its profile trains: a ranking of early learning speed.
      reasons.push(`trained ${s.steps} of the ${s.profileSteps} steps its training profile plans (${fmt((100 * s.steps) / s.profileSteps)} % < ${100 * UNDER_TRAINED_FRACTION} %)`);
    }
    const rising = s.valCurves.filter((c) => isRising(c.points));
    if (rising.length > 0) {
      reasons.push(`its validation score was still rising at the end (${rising.map((c) => `seed ${c.seed} fold ${c.fold}`).join(', ')})`);
    }
    if (reasons.length > 0) warnings.push({ code: 'under-trained', task: s.task, loss: s.loss, message: `${nm(s.loss)} on ${nm(s.task)}: ${reasons.join('; ')}` });
  }
  for (const task of input.tasks) {
    const ofTask = prov.filter((s) => s.task === task);
    if (ofTask.length < 2) continue;
    const most = ofTask.reduce((a, b) => (b.steps > a.steps ? b : a));
    const least = ofTask.reduce((a, b) => (b.steps < a.steps ? b : a));
    const unequal = least.steps === 0 ? most.steps > 0 : most.steps / least.steps >= UNEQUAL_COMPUTE_RATIO;
    if (unequal) {
      warnings.push({
        code: 'unequal-compute',
        task,
        message: `on ${nm(task)} ${nm(most.loss)} trained ${most.steps} steps and ${nm(least.loss)} ${least.steps} (ratio ${least.steps === 0 ? '∞' : fmt(most.steps / least.steps)} ≥ ${UNEQUAL_COMPUTE_RATIO}): the comparison mixes training budgets`,
      });
    }
  }
  for (const s of prov) {
    const rates = [...new Set(s.lrScores.map((x) => x.learningRate))];
    if (rates.length < 2) continue;
    const lo = Math.min(...rates);
    const hi = Math.max(...rates);
    if (s.learningRate === lo || s.learningRate === hi) {
      warnings.push({
        code: 'lr-at-grid-edge',
        task: s.task,
        loss: s.loss,
        message: `${nm(s.loss)} on ${nm(s.task)}: the chosen learning rate ${s.learningRate} is the ${s.learningRate === hi ? 'largest' : 'smallest'} of the ${rates.length} searched (${[...rates].sort((a, b) => a - b).join(', ')}); the best rate may lie outside the grid`,
      });
    }
  }
  return warnings;
}

/** The `synthetic-data` warning for these tasks (their results come from synthetic volumes). */
export function syntheticDataWarning(tasks: readonly string[]): RankWarning {
  const names = tasks.map((t) => nm(t)).join(', ');
  return {
    code: 'synthetic-data',
    message: `${tasks.length === 1 ? 'task' : 'tasks'} ${names}: synthetic data — a demonstration of the pipeline; these results say nothing about how the losses compare on real images`,
    ...(tasks.length === 1 ? { task: tasks[0] as string } : {}),
  };
}
