/**
 * How the ranked networks were trained, summarised per (task, loss) over its replicates
 * (docs/ranking.md, "Provenance"). The entries come from `provenance.json` files beside the
 * results (src/util/provenance.ts, one entry per replicate) or from `RankOptions.provenance`.
 *
 * Aggregation over a loss's replicates: steps, budgetSteps, profileSteps and epochs = the largest (steps already
 * count a pre-training stage); seconds = the sum (the compute spent); stopReason = the distinct
 * reasons, sorted, joined by ", "; lrScores = per rate tried, the mean of the replicates' non-null
 * scores (null when every replicate failed at it); the checkpoint epoch when all replicates agree,
 * else null. The learning rate and the checkpoint kind must be the same for every replicate (the
 * replicate mean compares one configuration per loss); otherwise the input is refused, naming them.
 */
import { InputError } from '../util/errors.js';
import { printable } from '../util/text.js';
import type { ProvenanceEntry } from '../util/provenance.js';
import { compareReplicates } from './replicates.js';
import { naturalCompare } from './tables.js';
import type { ProvenanceSummary } from './types.js';

function distinct<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/** One summary per (task, loss) of the ranking that has entries, sorted by task then loss. */
export function summariseProvenance(entries: ProvenanceEntry[], tasks: string[], losses: string[]): ProvenanceSummary[] {
  const groups = new Map<string, Map<string, ProvenanceEntry>>();
  for (const e of entries) {
    if (!tasks.includes(e.task) || !losses.includes(e.loss)) continue;
    const key = `${e.task}\u0000${e.loss}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = new Map()));
    // The same replicate read twice (two results files of one run): the first entry counts.
    const rk = `${e.seed}/${e.fold}`;
    if (!g.has(rk)) g.set(rk, e);
  }
  const summaries: ProvenanceSummary[] = [];
  for (const g of groups.values()) {
    const list = [...g.values()].sort((a, b) => compareReplicates(a, b));
    const first = list[0] as ProvenanceEntry;
    const where = `provenance of task '${printable(first.task)}', loss '${printable(first.loss)}'`;
    const rates = distinct(list.map((e) => e.learningRate));
    if (rates.length > 1) {
      throw new InputError(undefined, `${where}: its replicates were tested at different learning rates (${list.map((e) => `seed ${e.seed} fold ${e.fold}: ${e.learningRate}`).join('; ')}); rank one learning rate per loss`);
    }
    const kinds = distinct(list.map((e) => e.checkpoint.kind));
    if (kinds.length > 1) {
      throw new InputError(undefined, `${where}: its replicates tested different checkpoints (${kinds.join(', ')}); rank one checkpoint kind per loss`);
    }
    const epochs = distinct(list.map((e) => e.checkpoint.epoch));
    const tried = distinct(list.flatMap((e) => e.lrScores.map((s) => s.learningRate))).sort((a, b) => a - b);
    const lrScores = tried.map((learningRate) => {
      const scores = list.flatMap((e) => e.lrScores.filter((s) => s.learningRate === learningRate && s.score !== null).map((s) => s.score as number));
      return { learningRate, score: scores.length === 0 ? null : scores.reduce((s, v) => s + v, 0) / scores.length };
    });
    summaries.push({
      task: first.task,
      loss: first.loss,
      steps: Math.max(...list.map((e) => e.steps)),
      budgetSteps: Math.max(...list.map((e) => e.budgetSteps)),
      profileSteps: list.every((e) => e.profileSteps !== undefined) ? Math.max(...list.map((e) => e.profileSteps as number)) : null,
      epochs: Math.max(...list.map((e) => e.epochs)),
      stopReason: distinct(list.map((e) => e.stopReason)).sort().join(', '),
      learningRate: first.learningRate,
      lrScores,
      replicates: list.map((e) => ({ seed: e.seed, fold: e.fold })),
      checkpoint: { kind: first.checkpoint.kind, epoch: epochs.length === 1 ? (epochs[0] as number | null) : null },
      seconds: list.reduce((s, e) => s + e.seconds, 0),
      valCurves: list.map((e) => ({ seed: e.seed, fold: e.fold, points: e.valCurve.map((p) => ({ epoch: p.epoch, valDice: p.valDice })) })),
    });
  }
  return summaries.sort((a, b) => naturalCompare(a.task, b.task) || naturalCompare(a.loss, b.loss));
}
