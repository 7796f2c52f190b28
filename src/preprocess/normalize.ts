/**
 * Intensity normalisation after resampling (nnU-Net V1 `GenericPreprocessor.resample_and_normalize`; docs/preprocessing.md).
 *
 * CT ("CT"/"ct"): x ← (clip(x, p0.5, p99.5) − mean) / sd with the dataset's pooled foreground
 * statistics (`DatasetAnalyzer.collect_intensity_properties`); no epsilon, no mask.
 * Other modalities: per-image z-score with population std, x ← (x − μ) / (σ + 1e-8). When the
 * dataset's median size reduction by cropping is below 0.75 (`useNonzeroMask`), μ and σ come from
 * the voxels inside the non-zero region (seg ≥ 0) and voxels outside are set to 0.
 */
import type { IntensityStats } from './fingerprint.js';
import { median } from './fingerprint.js';

/** nnU-Net's rule for using the non-zero mask in non-CT normalisation: median size reduction < 0.75. */
export function useNonzeroMask(sizeReductions: readonly number[]): boolean {
  return median(sizeReductions) < 0.75;
}

/** CT normalisation in place. */
export function normalizeCT(x: Float32Array, stats: Pick<IntensityStats, 'mean' | 'sd' | 'percentile_00_5' | 'percentile_99_5'>): void {
  const lo = stats.percentile_00_5;
  const hi = stats.percentile_99_5;
  for (let v = 0; v < x.length; v++) {
    const c = Math.min(hi, Math.max(lo, x[v] as number));
    x[v] = (c - stats.mean) / stats.sd;
  }
}

/** Per-image z-score in place; with `seg`, only voxels with seg ≥ 0 count and the rest become 0. */
export function normalizeZScore(x: Float32Array, seg?: ArrayLike<number>): void {
  let n = 0;
  let sum = 0;
  for (let v = 0; v < x.length; v++) {
    if (seg !== undefined && (seg[v] as number) < 0) continue;
    sum += x[v] as number;
    n++;
  }
  const mean = n > 0 ? sum / n : 0;
  let ss = 0;
  for (let v = 0; v < x.length; v++) {
    if (seg !== undefined && (seg[v] as number) < 0) continue;
    ss += ((x[v] as number) - mean) ** 2;
  }
  const sd = n > 0 ? Math.sqrt(ss / n) : 0;
  for (let v = 0; v < x.length; v++) {
    x[v] = seg !== undefined && (seg[v] as number) < 0 ? 0 : ((x[v] as number) - mean) / (sd + 1e-8);
  }
}
