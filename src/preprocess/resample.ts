/**
 * Resampling exactly as nnU-Net V1 does it (`resample_data_or_seg`; docs/preprocessing.md), on i-fastest volumes
 * (shape (ni, nj, nk), see src/data/volume.ts).
 *
 * Images (order 3): skimage `resize(order=3, mode='edge', anti_aliasing=False, clip=True)`, which
 * is `scipy.ndimage.zoom(order=3, mode='nearest', grid_mode=True)` (`zoomGrid`, src/ndimage/zoom.ts:
 * output voxel o maps to input coordinate x = (o + 0.5)·(n_in/n_out) − 0.5, where the value is the
 * cubic B-spline interpolant of the input) followed by clipping to the input's min/max.
 *
 * Separate z (anisotropic data, `resample_data_or_seg` with `do_separate_z`): every slice across the low-resolution axis is resized
 * in-plane as above (clipped to that slice's min/max), then the low-resolution axis is resampled
 * with nearest neighbour: x = (o + 0.5)·scale − 0.5, source = clamp(floor(x + 0.5)).
 *
 * Labels (`resample_data_or_seg` with is_seg, "one-hot linear"): for every label value c in ascending order the binary mask
 * (seg == c) is resized with order 1 (same grid, edge mode) and c is written where the result
 * ≥ 0.5; later labels overwrite earlier ones. Separate z: the same per slice, nearest along z.
 */
import type { Vec3 } from '../util/vec3.js';
import { zoomGrid, type InterpolationOrder } from '../ndimage/zoom.js';

/** Output shape of a resampling: round(spacingIn / spacingOut · shapeIn) per axis. */
export function resampledShape(shapeIn: Vec3, spacingInMm: Vec3, spacingOutMm: Vec3): Vec3 {
  return [0, 1, 2].map((a) => Math.max(1, pyRound((spacingInMm[a] as number) / (spacingOutMm[a] as number) * (shapeIn[a] as number)))) as Vec3;
}

/** numpy `round` (round half to even). */
export function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Anisotropy threshold of nnU-Net (RESAMPLING_SEPARATE_Z_ANISO_THRESHOLD). */
export const SEPARATE_Z_THRESHOLD = 3;

/** The single low-resolution axis of `spacing` if max/min > 3 and exactly one axis has the max, else null. */
function lowResAxis(spacingMm: Vec3): number | null {
  const max = Math.max(...spacingMm);
  const min = Math.min(...spacingMm);
  if (!(max / min > SEPARATE_Z_THRESHOLD)) return null;
  const axes = [0, 1, 2].filter((a) => spacingMm[a] === max);
  return axes.length === 1 ? (axes[0] as number) : null;
}

/**
 * nnU-Net's separate-z decision (`get_do_separate_z`, force_separate_z = None): the case's original spacing
 * decides if it is anisotropic, else the target spacing; the axis with the largest spacing is
 * resampled separately. Returns that axis (0, 1, 2 in i, j, k order) or null.
 */
export function separateZAxis(originalSpacingMm: Vec3, targetSpacingMm: Vec3): number | null {
  const max = Math.max(...originalSpacingMm);
  const min = Math.min(...originalSpacingMm);
  if (max / min > SEPARATE_Z_THRESHOLD) return lowResAxis(originalSpacingMm);
  const tmax = Math.max(...targetSpacingMm);
  const tmin = Math.min(...targetSpacingMm);
  if (tmax / tmin > SEPARATE_Z_THRESHOLD) return lowResAxis(targetSpacingMm);
  return null;
}

function clipToRange(values: Float32Array, min: number, max: number): void {
  for (let x = 0; x < values.length; x++) {
    const v = values[x] as number;
    if (v < min) values[x] = min;
    else if (v > max) values[x] = max;
  }
}

function minMax(data: ArrayLike<number>, start = 0, end = data.length): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let x = start; x < end; x++) {
    const raw = data[x] as number;
    const v = raw === raw ? raw : 0;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

export interface ResampleOptions {
  /** Interpolation order within the (in-plane) resize: 3 for images, 1 for probabilities. */
  order: InterpolationOrder;
  /** Axis resampled separately with nearest neighbour (see `separateZAxis`), or null. */
  separateZAxis: number | null;
  /** Clip each resize to its input's min/max (skimage clip=True). Default true. */
  clip?: boolean;
}

/** Dimensions of the slice across `axis` and the strides to address it in an (ni, nj, nk) volume. */
function sliceGeometry(shape: Vec3, axis: number): { u: number; v: number; su: number; sv: number; sa: number } {
  const strides = [1, shape[0], shape[0] * shape[1]];
  const others = [0, 1, 2].filter((a) => a !== axis) as [number, number];
  return {
    u: shape[others[0]] as number,
    v: shape[others[1]] as number,
    su: strides[others[0]] as number,
    sv: strides[others[1]] as number,
    sa: strides[axis] as number,
  };
}

function extractSlice(data: ArrayLike<number>, shape: Vec3, axis: number, s: number, out: Float32Array): void {
  const g = sliceGeometry(shape, axis);
  const base = s * g.sa;
  for (let y = 0; y < g.v; y++) {
    const row = base + y * g.sv;
    for (let x = 0; x < g.u; x++) {
      const val = data[row + x * g.su] as number;
      out[x + y * g.u] = val === val ? val : 0;
    }
  }
}

function insertSlice<T extends { [n: number]: number }>(slice: ArrayLike<number>, out: T, shape: Vec3, axis: number, s: number): void {
  const g = sliceGeometry(shape, axis);
  const base = s * g.sa;
  for (let y = 0; y < g.v; y++) {
    const row = base + y * g.sv;
    for (let x = 0; x < g.u; x++) out[row + x * g.su] = slice[x + y * g.u] as number;
  }
}

/**
 * Source slice for each output slice along the separate axis: map_coordinates order 0,
 * mode 'nearest' on x = (o + 0.5)·(n_in/n_out) − 0.5.
 */
function nearestSources(nIn: number, nOut: number): Int32Array {
  const src = new Int32Array(nOut);
  const scale = nIn / nOut;
  for (let o = 0; o < nOut; o++) src[o] = Math.min(nIn - 1, Math.max(0, Math.floor(scale * (o + 0.5) - 0.5 + 0.5)));
  return src;
}

/**
 * Visit every output slice along `axis`: `makeSlice(s)` produces the in-plane-resampled source
 * slice s (computed once per source slice), `put` writes it to output slice o.
 */
function separateZ(
  shapeIn: Vec3,
  shapeOut: Vec3,
  axis: number,
  makeSlice: (s: number, slice: Float32Array, planeIn: [number, number], planeOut: [number, number]) => ArrayLike<number>,
  put: (slice: ArrayLike<number>, o: number) => void,
): void {
  const gi = sliceGeometry(shapeIn, axis);
  const go = sliceGeometry(shapeOut, axis);
  const scratch = new Float32Array(gi.u * gi.v);
  const sources = nearestSources(shapeIn[axis] as number, shapeOut[axis] as number);
  let lastSource = -1;
  let lastSlice: ArrayLike<number> = scratch;
  for (let o = 0; o < sources.length; o++) {
    const s = sources[o] as number;
    if (s !== lastSource) {
      lastSlice = makeSlice(s, scratch, [gi.u, gi.v], [go.u, go.v]);
      lastSource = s;
    }
    put(lastSlice, o);
  }
}

/**
 * Resample an image channel (i-fastest, shape `shapeIn`) to `shapeOut` the nnU-Net way (`resample_data_or_seg`).
 * Returns the input converted to float32 when the shapes are equal (nnU-Net skips resampling).
 * NaNs are treated as 0.
 */
export function resampleImage(data: ArrayLike<number>, shapeIn: Vec3, shapeOut: Vec3, options: ResampleOptions): Float32Array {
  const clip = options.clip ?? true;
  // No float copy of the input: NaNs are mapped to 0 where values are read (memory: the bench
  // volume's input is 100 MB as float32).
  const src = data;
  if (shapeIn.every((n, a) => n === shapeOut[a])) return Float32Array.from(data, (v) => (v === v ? v : 0));
  const axis = options.separateZAxis;
  if (axis === null) {
    const out = zoomGrid(src, shapeIn, shapeOut, options.order);
    if (clip && options.order > 1) {
      const [min, max] = minMax(src);
      clipToRange(out, min, max);
    }
    return out;
  }
  const out = new Float32Array(shapeOut[0] * shapeOut[1] * shapeOut[2]);
  separateZ(
    shapeIn,
    shapeOut,
    axis,
    (s, slice, planeIn, planeOut) => {
      extractSlice(src, shapeIn, axis, s, slice);
      if (planeIn[0] === planeOut[0] && planeIn[1] === planeOut[1]) return slice;
      const r = zoomGrid(slice, planeIn, planeOut, options.order);
      if (clip && options.order > 1) {
        const [min, max] = minMax(slice);
        clipToRange(r, min, max);
      }
      return r;
    },
    (slice, o) => insertSlice(slice, out, shapeOut, axis, o),
  );
  return out;
}

export interface LabelResampleOptions {
  /** 1 = nnU-Net's one-hot linear rule (default), 0 = nearest neighbour. */
  order?: 0 | 1;
  separateZAxis: number | null;
}

/** Sorted distinct values of a label array. */
export function uniqueLabels(labels: ArrayLike<number>): number[] {
  const seen = new Set<number>();
  for (let x = 0; x < labels.length; x++) seen.add(labels[x] as number);
  return [...seen].sort((a, b) => a - b);
}

function resizeSegmentation(seg: ArrayLike<number>, shapeIn: readonly number[], shapeOut: readonly number[], order: 0 | 1, out: Int16Array): void {
  if (order === 0) {
    const r = zoomGrid(seg, shapeIn, shapeOut, 0);
    for (let x = 0; x < r.length; x++) out[x] = r[x] as number;
    return;
  }
  out.fill(0);
  const mask = new Float32Array(seg.length);
  const labels = uniqueLabels(seg);
  // Writing 0 onto the zero-initialised output first is a no-op, so the smallest label is
  // skipped when it is 0 (it is not when −1 is present: 0 must then overwrite −1).
  for (const c of labels[0] === 0 ? labels.slice(1) : labels) {
    for (let x = 0; x < seg.length; x++) mask[x] = seg[x] === c ? 1 : 0;
    const r = zoomGrid(mask, shapeIn, shapeOut, 1);
    for (let x = 0; x < r.length; x++) if ((r[x] as number) >= 0.5) out[x] = c;
  }
}

/**
 * Resample a label map (values may include −1 for "outside the non-zero region") with nnU-Net's
 * rule. Returns int16 labels of shape `shapeOut`.
 */
export function resampleLabels(labels: ArrayLike<number>, shapeIn: Vec3, shapeOut: Vec3, options: LabelResampleOptions): Int16Array {
  const order = options.order ?? 1;
  const out = new Int16Array(shapeOut[0] * shapeOut[1] * shapeOut[2]);
  if (shapeIn.every((n, a) => n === shapeOut[a])) {
    for (let x = 0; x < out.length; x++) out[x] = labels[x] as number;
    return out;
  }
  const axis = options.separateZAxis;
  if (axis === null) {
    resizeSegmentation(labels, shapeIn, shapeOut, order, out);
    return out;
  }
  let planeBuf: Int16Array | undefined;
  separateZ(
    shapeIn,
    shapeOut,
    axis,
    (s, slice, planeIn, planeOut) => {
      extractSlice(labels, shapeIn, axis, s, slice);
      if (planeIn[0] === planeOut[0] && planeIn[1] === planeOut[1]) return slice;
      planeBuf = new Int16Array(planeOut[0] * planeOut[1]);
      resizeSegmentation(slice, planeIn, planeOut, order, planeBuf);
      return planeBuf;
    },
    (slice, o) => insertSlice(slice, out, shapeOut, axis, o),
  );
  return out;
}
