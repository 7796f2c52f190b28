/**
 * Resizing on a regular grid as `scipy.ndimage.zoom(input, zoom, order, mode='nearest',
 * grid_mode=True)` (what skimage `resize(mode='edge', anti_aliasing=False)` calls), for i-fastest
 * arrays of any rank, order 0, 1 or 3. Used by preprocessing's resampling (src/preprocess/resample.ts).
 *
 * Output sample o of an axis maps to the input coordinate x = (o + 0.5)·(n_in/n_out) − 0.5. Order 3
 * pads each line with 12 edge values, turns it into cubic B-spline coefficients (./bspline.ts,
 * 'reflect' extension) and weights four of them; order 1 interpolates linearly and order 0 takes the
 * nearest sample, both with indices clamped to the line (edge mode). The tensor-product spline is
 * evaluated separably, one axis at a time: the same linear operator as scipy's 4×4×4 evaluation, up
 * to float rounding. NaNs read as 0.
 */
import { cubicBSplineWeights, splinePrefilter } from './bspline.js';

export type InterpolationOrder = 0 | 1 | 3;

/** Input coordinate of output voxel o, grid mode (align-corners false), as scipy computes it. */
function gridCoordinate(o: number, nIn: number, nOut: number): number {
  const zoom = nIn / nOut;
  return (o + 0.5) * zoom - 0.5;
}

/** Edge values padded on each side of a line before the spline prefilter (scipy `_prepad_for_spline_filter`). */
const SPLINE_PAD = 12;

/** Per output position: first source row and tap weights (indices already clamped for order 0/1). */
interface Taps {
  taps: number;
  index: Int32Array; // nOut × taps source rows (in the buffer's row numbering)
  weight: Float64Array; // nOut × taps
}

function makeTaps(nIn: number, nOut: number, order: InterpolationOrder): Taps {
  const taps = order === 3 ? 4 : order === 1 ? 2 : 1;
  const index = new Int32Array(nOut * taps);
  const weight = new Float64Array(nOut * taps);
  for (let o = 0; o < nOut; o++) {
    const x = gridCoordinate(o, nIn, nOut);
    if (order === 0) {
      index[o] = Math.min(nIn - 1, Math.max(0, Math.floor(x + 0.5)));
      weight[o] = 1;
    } else if (order === 1) {
      const i0 = Math.floor(x);
      const t = x - i0;
      index[2 * o] = Math.min(nIn - 1, Math.max(0, i0));
      index[2 * o + 1] = Math.min(nIn - 1, Math.max(0, i0 + 1));
      weight[2 * o] = 1 - t;
      weight[2 * o + 1] = t;
    } else {
      // Cubic B-spline weights at t = x − floor(x), taps floor(x)−1 .. floor(x)+2 (padded rows).
      const f = Math.floor(x);
      const w = cubicBSplineWeights(x - f, 'lowest-power-first');
      for (let k = 0; k < 4; k++) {
        index[4 * o + k] = f - 1 + k + SPLINE_PAD;
        weight[4 * o + k] = w[k] as number;
      }
    }
  }
  return { taps, index, weight };
}

/**
 * Resample one axis of an i-fastest array with dimensions `dims` (any rank) to `nOut` samples.
 * The array is viewed as [outer][n][inner]; columns (outer, inner) are processed in blocks.
 */
function resampleAxis(
  src: ArrayLike<number>,
  dims: readonly number[],
  axis: number,
  nOut: number,
  order: InterpolationOrder,
): Float32Array {
  const n = dims[axis] as number;
  let inner = 1;
  for (let a = 0; a < axis; a++) inner *= dims[a] as number;
  let outer = 1;
  for (let a = axis + 1; a < dims.length; a++) outer *= dims[a] as number;
  const out = new Float32Array(outer * nOut * inner);
  const taps = makeTaps(n, nOut, order);
  const pad = order === 3 ? SPLINE_PAD : 0;
  const len = n + 2 * pad;
  const columns = outer * inner;
  const B = Math.max(1, Math.min(columns, inner === 1 ? 64 : 2048));
  const buf = new Float64Array(len * B);
  const res = new Float64Array(nOut * B);
  const { index, weight } = taps;
  const T = taps.taps;
  for (let c0 = 0; c0 < columns; c0 += B) {
    const nb = Math.min(B, columns - c0);
    // Gather the block (with edge padding rows for the spline).
    for (let b = 0; b < nb; b++) {
      const col = c0 + b;
      const o = Math.floor(col / inner);
      const base = o * n * inner + (col - o * inner);
      for (let t = 0; t < n; t++) {
        const v = src[base + t * inner] as number;
        buf[(t + pad) * B + b] = v === v ? v : 0; // NaN → 0 (nnU-Net sets NaNs to 0 before resampling)
      }
      if (pad > 0) {
        const first = buf[pad * B + b] as number;
        const last = buf[(pad + n - 1) * B + b] as number;
        for (let t = 0; t < pad; t++) {
          buf[t * B + b] = first;
          buf[(pad + n + t) * B + b] = last;
        }
      }
    }
    if (order === 3) splinePrefilter(buf, len, B, 'reflect');
    res.fill(0);
    for (let m = 0; m < nOut; m++) {
      const rowOut = m * B;
      for (let k = 0; k < T; k++) {
        const w = weight[m * T + k] as number;
        const rowIn = (index[m * T + k] as number) * B;
        for (let b = 0; b < nb; b++) res[rowOut + b] = (res[rowOut + b] as number) + w * (buf[rowIn + b] as number);
      }
    }
    for (let b = 0; b < nb; b++) {
      const col = c0 + b;
      const o = Math.floor(col / inner);
      const base = o * nOut * inner + (col - o * inner);
      for (let m = 0; m < nOut; m++) out[base + m * inner] = res[m * B + b] as number;
    }
  }
  return out;
}

/**
 * Resize an N-D (here 2-D or 3-D) i-fastest array to `shapeOut` with a separable spline of the
 * given order; axes that shrink most are done first (fewer samples to carry). No clipping.
 */
export function zoomGrid(data: ArrayLike<number>, shapeIn: readonly number[], shapeOut: readonly number[], order: InterpolationOrder): Float32Array {
  const dims = [...shapeIn];
  const axes = dims.map((_, a) => a).filter((a) => dims[a] !== shapeOut[a]);
  axes.sort((a, b) => (shapeOut[a] as number) / (dims[a] as number) - (shapeOut[b] as number) / (dims[b] as number));
  let cur: ArrayLike<number> = data;
  for (const a of axes) {
    cur = resampleAxis(cur, dims, a, shapeOut[a] as number, order);
    dims[a] = shapeOut[a] as number;
  }
  return cur instanceof Float32Array && cur !== data ? cur : Float32Array.from(cur, (v) => (v === v ? v : 0));
}
