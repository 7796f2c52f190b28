/**
 * Replicates: the trained networks of one loss on one task, told apart by the optional `seed` and
 * `fold` columns of results.csv (docs/ranking.md, "Replicates"). Rows equal in (task, loss, case,
 * metric, label) and different in (seed, fold) are replicates; a loss's per-case value is the mean
 * over its replicates (after the N/A policy per replicate), so training randomness is averaged
 * before the study's rule is applied.
 */
import { quantile } from './ranks.js';
import type { Replicate, ReplicateRankSummary, ResultRow } from './types.js';

export const NO_REPLICATE: Replicate = { seed: null, fold: null };

export function replicateOf(row: ResultRow): Replicate {
  return { seed: row.seed ?? null, fold: row.fold ?? null };
}

/** A string key of a replicate, e.g. `3/0`, `3/`, `/`. */
export function replicateKey(r: Replicate): string {
  return `${r.seed ?? ''}/${r.fold ?? ''}`;
}

const compareNullable = (a: number | null, b: number | null): number => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a - b);

/** Order: by seed, then fold; a missing value first. */
export function compareReplicates(a: Replicate, b: Replicate): number {
  return compareNullable(a.seed, b.seed) || compareNullable(a.fold, b.fold);
}

/** "seed 3, fold 0", "seed 3", "no seed/fold". */
export function replicateText(r: Replicate): string {
  const parts = [r.seed === null ? '' : `seed ${r.seed}`, r.fold === null ? '' : `fold ${r.fold}`].filter((p) => p !== '');
  return parts.length === 0 ? 'no seed/fold' : parts.join(', ');
}

/** A loss's ranks over replicates: median (R type 7), range and the share of replicates where it ranks first. */
export function summariseReplicateRanks(ranks: number[]): ReplicateRankSummary {
  const sorted = [...ranks].sort((a, b) => a - b);
  return {
    median: quantile(sorted, 0.5),
    min: sorted[0] ?? NaN,
    max: sorted[sorted.length - 1] ?? NaN,
    shareFirst: sorted.length === 0 ? NaN : sorted.filter((r) => r === 1).length / sorted.length,
    count: sorted.length,
  };
}
