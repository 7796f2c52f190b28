/**
 * Gaussian filtering as `scipy.ndimage.gaussian_filter(input, sigma, mode, truncate=4)`: the
 * sampled, normalised Gaussian kernel, correlated along every axis in turn (./correlate.ts).
 * Used by augmentation's elastic deformation (src/train/augment.ts); the unnormalised weights give
 * nnU-Net's importance map of sliding-window inference (src/eval/sliding-window.ts).
 */
import { correlate1d, type BoundaryMode } from './correlate.js';

/** scipy's truncation radius: ⌊4σ + 0.5⌋ samples on each side. */
export function gaussianRadius(sigma: number): number {
  return Math.floor(4 * sigma + 0.5);
}

/** exp(−x²/2σ²) at x = −r … r (r = `gaussianRadius`), not normalised: 1 at the centre. */
export function gaussianWeights(sigma: number): Float64Array {
  const radius = gaussianRadius(sigma);
  const k = new Float64Array(2 * radius + 1);
  for (let x = -radius; x <= radius; x++) k[x + radius] = Math.exp((-0.5 * x * x) / (sigma * sigma));
  return k;
}

/** scipy.ndimage's Gaussian kernel: the weights above divided by their sum (summed from −r to r). */
export function gaussianKernel(sigma: number): Float64Array {
  const k = gaussianWeights(sigma);
  let sum = 0;
  for (let n = 0; n < k.length; n++) sum += k[n] as number;
  for (let n = 0; n < k.length; n++) k[n] = (k[n] as number) / sum;
  return k;
}

/**
 * Separable Gaussian filter over the axes of `dims` (i fastest), in place. Axes of size 1 are left
 * alone (a 2D field stored as [ni, nj, 1] is filtered in 2D).
 */
export function gaussianFilter(data: Float32Array, dims: readonly number[], sigma: number, mode: BoundaryMode): void {
  const kernel = gaussianKernel(sigma);
  for (let axis = 0; axis < dims.length; axis++) if ((dims[axis] as number) > 1) correlate1d(data, dims, axis, kernel, mode);
}
