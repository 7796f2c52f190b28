/**
 * DSC, NSD and HD95 as DeepMind's surface-distance package computes them
 * (docs/evaluation.md, "Metric definitions"), from the sorted surface distances of
 * ./surface.ts.
 *
 * - DSC = 2|G ∩ P| / (|G| + |P|); NaN when both are empty (`compute_dice_coefficient`).
 * - NSD at τ mm (`compute_surface_dice_at_tolerance`) =
 *     (Σ area_G[d_G→P ≤ τ] + Σ area_P[d_P→G ≤ τ]) / (Σ area_G + Σ area_P)   (note: ≤).
 *   One side empty → 0 (the other side's distances are +∞); both empty → 0/0 = NaN.
 * - HD95 (`compute_robust_hausdorff(percent = 95)`) = max of the two directed, area-weighted
 *   95th percentiles; a directed percentile is d[min(idx, n − 1)] with idx the first index where
 *   cumsum(area)/Σ area ≥ 0.95 (no interpolation: an observed distance). An empty direction is +∞,
 *   so one or both masks empty → +∞.
 *
 * Sums emulate numpy: `np.sum` is pairwise summation and `np.cumsum` is sequential, so the
 * percentile crossing rounds exactly like the reference.
 *
 * Pure formulas, no other imports: ./metric-descriptors.ts (which the ranking stage reads) calls
 * them, and ./case-metrics.ts applies the descriptors to every label of a case.
 */
import type { SurfaceDistances } from './surface.js';

/** numpy's pairwise summation of a[start .. start+n) (`pairwise_sum` in loops_utils.h, block 128, unroll 8). */
export function pairwiseSum(a: Float64Array, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i] as number;
    return res;
  }
  if (n <= 128) {
    const r = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let j = 0; j < 8; j++) r[j] = a[start + j] as number;
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = (r[j] as number) + (a[start + i + j] as number);
    let res = ((r[0]! + r[1]!) + (r[2]! + r[3]!)) + ((r[4]! + r[5]!) + (r[6]! + r[7]!));
    for (; i < n; i++) res += a[start + i] as number;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/** Dice coefficient from voxel counts; NaN when both masks are empty. */
export function dsc(gtVoxels: number, predVoxels: number, intersectionVoxels: number): number {
  const sum = gtVoxels + predVoxels;
  if (sum === 0) return NaN;
  return (2 * intersectionVoxels) / sum;
}

/** Number of leading entries ≤ τ of an ascending array. */
function countAtMost(sorted: Float64Array, tau: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= tau) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Normalised surface Dice (surface Dice) at tolerance τ mm. */
export function nsd(sd: SurfaceDistances, toleranceMm: number): number {
  const overlapGt = pairwiseSum(sd.surfelAreasGtMm2, 0, countAtMost(sd.distancesGtToPredMm, toleranceMm));
  const overlapPred = pairwiseSum(sd.surfelAreasPredMm2, 0, countAtMost(sd.distancesPredToGtMm, toleranceMm));
  return (overlapGt + overlapPred) / (pairwiseSum(sd.surfelAreasGtMm2) + pairwiseSum(sd.surfelAreasPredMm2));
}

/** One directed area-weighted percentile (DeepMind's searchsorted rule); +∞ when empty. */
export function directedPercentile(distances: Float64Array, areas: Float64Array, percent: number): number {
  const n = distances.length;
  if (n === 0) return Infinity;
  const total = pairwiseSum(areas);
  const p = percent / 100;
  let cum = 0;
  for (let i = 0; i < n; i++) {
    cum += areas[i] as number;
    if (cum / total >= p) return distances[i] as number;
  }
  return distances[n - 1] as number;
}

/** Robust Hausdorff distance at `percent` (95 → HD95, 100 → HD) in mm. */
export function robustHausdorff(sd: SurfaceDistances, percent: number): number {
  return Math.max(
    directedPercentile(sd.distancesGtToPredMm, sd.surfelAreasGtMm2, percent),
    directedPercentile(sd.distancesPredToGtMm, sd.surfelAreasPredMm2, percent),
  );
}

/** HD95 in mm. */
export function hd95(sd: SurfaceDistances): number {
  return robustHausdorff(sd, 95);
}

/** Area-weighted mean distance per direction (gt→pred, pred→gt); NaN for an empty direction. */
export function averageSurfaceDistance(sd: SurfaceDistances): [number, number] {
  const mean = (d: Float64Array, a: Float64Array) => {
    const w = new Float64Array(d.length);
    for (let i = 0; i < d.length; i++) w[i] = (d[i] as number) * (a[i] as number);
    return pairwiseSum(w) / pairwiseSum(a);
  };
  return [mean(sd.distancesGtToPredMm, sd.surfelAreasGtMm2), mean(sd.distancesPredToGtMm, sd.surfelAreasPredMm2)];
}
