/**
 * One-dimensional correlation along one axis of an i-fastest array, in place, as
 * `scipy.ndimage.correlate1d(input, weights, axis, mode)`: out[x] = Σ_j w[j]·in[x − r + j] for an
 * odd number 2r + 1 of weights, with the array continued beyond its ends by `mode`:
 * - 'constant': zeros (cval 0) — taps outside the line are skipped;
 * - 'nearest': the edge value repeated.
 * Sums are formed in float64 from the first tap to the last and rounded to float32 once.
 * Separable filters (./gaussian.ts, the scanner blur of src/data/synth/field.ts) apply it axis by axis.
 */

export type BoundaryMode = 'constant' | 'nearest';

export function correlate1d(data: Float32Array, dims: readonly number[], axis: number, weights: Float64Array, mode: BoundaryMode): void {
  const n = dims[axis] as number;
  const radius = (weights.length - 1) / 2;
  if (!Number.isInteger(radius)) throw new Error(`correlate1d: ${weights.length} weights, an odd number expected`);
  let stride = 1;
  for (let a = 0; a < axis; a++) stride *= dims[a] as number;
  const outer = data.length / (n * stride);
  const line = new Float64Array(n);
  for (let o = 0; o < outer; o++) {
    for (let s = 0; s < stride; s++) {
      const base = o * n * stride + s;
      for (let x = 0; x < n; x++) line[x] = data[base + x * stride] as number;
      if (mode === 'constant') {
        for (let x = 0; x < n; x++) {
          let acc = 0;
          const lo = Math.max(0, x - radius);
          const hi = Math.min(n - 1, x + radius);
          for (let t = lo; t <= hi; t++) acc += (line[t] as number) * (weights[t - x + radius] as number);
          data[base + x * stride] = acc;
        }
      } else {
        for (let x = 0; x < n; x++) {
          // first tap outside the loop: the sum starts from it, not from 0 (keeps the sign of −0)
          let acc = (line[Math.min(n - 1, Math.max(0, x - radius))] as number) * (weights[0] as number);
          for (let j = 1; j < weights.length; j++) acc += (line[Math.min(n - 1, Math.max(0, x - radius + j))] as number) * (weights[j] as number);
          data[base + x * stride] = acc;
        }
      }
    }
  }
}
