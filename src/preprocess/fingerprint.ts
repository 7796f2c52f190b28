/**
 * Dataset fingerprint (nnU-Net `DatasetAnalyzer`): per case spacing, shape,
 * size after cropping and size reduction; for CT the foreground intensity statistics pooled over
 * all training cases from every 10th foreground voxel.
 */
import type { Vec3 } from '../util/vec3.js';

/** Intensity statistics of one modality (nnU-Net's key names, so plans read like nnU-Net's). */
export interface IntensityStats {
  median: number;
  mean: number;
  /** Population standard deviation (ddof = 0). */
  sd: number;
  mn: number;
  mx: number;
  percentile_99_5: number;
  percentile_00_5: number;
  /** Number of pooled samples the statistics were computed from. */
  samples: number;
}

/**
 * Every 10th foreground voxel (label > 0) of a cropped channel, in storage order, starting with
 * the first (`voxels[seg > 0][::10]`; nnU-Net's C order (z, y, x) is segloss's i-fastest order).
 */
export function foregroundSamples(image: ArrayLike<number>, seg: ArrayLike<number>, every = 10): Float32Array {
  const out: number[] = [];
  let count = 0;
  for (let x = 0; x < seg.length; x++) {
    if ((seg[x] as number) > 0) {
      if (count % every === 0) out.push(image[x] as number);
      count++;
    }
  }
  return Float32Array.from(out);
}

/** numpy `percentile(sorted, q)` with the default linear interpolation; `sorted` ascending. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = ((n - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  const t = pos - lo;
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  // numpy's _lerp: a + (b − a)·t, computed from the upper end when t ≥ 0.5.
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

/** Statistics of pooled samples (the input is not modified). Empty input gives NaNs and samples = 0. */
export function intensityStats(samples: ArrayLike<number>): IntensityStats {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  let sum = 0;
  for (let x = 0; x < n; x++) sum += sorted[x] as number;
  const mean = sum / n;
  let ss = 0;
  for (let x = 0; x < n; x++) ss += ((sorted[x] as number) - mean) ** 2;
  return {
    median: percentileSorted(sorted, 50),
    mean,
    sd: Math.sqrt(ss / n),
    mn: n > 0 ? (sorted[0] as number) : NaN,
    mx: n > 0 ? (sorted[n - 1] as number) : NaN,
    percentile_99_5: percentileSorted(sorted, 99.5),
    percentile_00_5: percentileSorted(sorted, 0.5),
    samples: n,
  };
}

/** Per-case part of the fingerprint. All shapes and spacings in (i, j, k). */
export interface CaseFingerprint {
  id: string;
  spacingMm: Vec3;
  originalShape: Vec3;
  shapeAfterCrop: Vec3;
  /** prod(shape after crop) / prod(original shape). */
  sizeReduction: number;
}

/** nnU-Net's CT test: the modality name is exactly "CT" or "ct". */
export function isCT(modality: string): boolean {
  return modality === 'CT' || modality === 'ct';
}

/** Median of numbers (numpy: mean of the two middle values for even counts). */
export function median(values: readonly number[]): number {
  return percentileSorted(Float64Array.from(values).sort(), 50);
}
