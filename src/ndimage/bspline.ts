/**
 * Cubic B-splines as scipy.ndimage uses them (ni_splines.c): the prefilter that turns samples into
 * spline coefficients (`spline_filter1d`, order 3), and the four basis weights that evaluate the
 * spline between samples. Interpolation with order 3 (./map-coordinates.ts, ./zoom.ts) is
 * "prefilter, then weight four coefficients per axis".
 *
 * Prefilter: gain 6 = (1 − z)(1 − 1/z), then one causal and one anticausal first-order recursion
 * with the pole z = √3 − 2; only the initial values depend on how the line is extended beyond its
 * ends (`SplineBoundary`).
 */
import type { Vec3 } from '../util/vec3.js';

/** The pole of the cubic B-spline prefilter. */
const POLE = Math.sqrt(3) - 2;
const GAIN = (1 - POLE) * (1 - 1 / POLE);

/**
 * How the line continues beyond its ends, with scipy's names:
 * - 'mirror': whole-sample symmetric, c[−k] = c[k] (what `map_coordinates(mode='constant')` and
 *   `spline_filter` use; the exact infinite sum for the causal initial value).
 * - 'reflect': half-sample symmetric, c[−1 − k] = c[k] (what `zoom(mode='nearest')` uses after padding
 *   the line with 12 edge values; the causal sum is cut after 40 terms, where |z|^k < 1e-20).
 */
export type SplineBoundary = 'mirror' | 'reflect';

/** Causal initial value, mirror extension: c0 = Σ_k z^k·(c_k + z^{n−1}·c_{n−1−k}) / (1 − z^{2(n−1)}). */
function initCausalMirror(buf: Float64Array, len: number, columns: number): void {
  const z = POLE;
  const zn1 = Math.pow(z, len - 1);
  for (let b = 0; b < columns; b++) {
    let c0 = (buf[b] as number) + zn1 * (buf[(len - 1) * columns + b] as number);
    let zi = z;
    for (let x = 1; x < len - 1; x++) {
      c0 += zi * ((buf[x * columns + b] as number) + zn1 * (buf[(len - 1 - x) * columns + b] as number));
      zi *= z;
    }
    buf[b] = c0 / (1 - zn1 * zn1);
  }
}

/** Causal initial value, reflect extension: c0 += z/(1 − z^{2n})·Σ_{i<n} z^i (c_i + z^n c_{n−1−i}), at most 40 terms. */
function initCausalReflect(buf: Float64Array, len: number, columns: number): void {
  const z = POLE;
  const zn = Math.pow(z, len);
  const terms = Math.min(len, 40);
  const factor = z / (1 - zn * zn);
  for (let b = 0; b < columns; b++) {
    const c0 = buf[b] as number;
    let sum = 0;
    let zi = 1;
    for (let i = 0; i < terms; i++) {
      sum += zi * ((buf[i * columns + b] as number) + zn * (buf[(len - 1 - i) * columns + b] as number));
      zi *= z;
    }
    buf[b] = sum * factor + c0;
  }
}

/** Anticausal initial value, mirror extension: c_{n−1} = z/(z² − 1)·(z·c_{n−2} + c_{n−1}). */
function initAnticausalMirror(buf: Float64Array, len: number, columns: number): void {
  const z = POLE;
  const last = (len - 1) * columns;
  const prev = (len - 2) * columns;
  for (let b = 0; b < columns; b++) buf[last + b] = (z / (z * z - 1)) * (z * (buf[prev + b] as number) + (buf[last + b] as number));
}

/** Anticausal initial value, reflect extension: c_{n−1} ·= z/(z − 1). */
function initAnticausalReflect(buf: Float64Array, len: number, columns: number): void {
  const z = POLE;
  const last = (len - 1) * columns;
  const f2 = z / (z - 1);
  for (let b = 0; b < columns; b++) buf[last + b] = (buf[last + b] as number) * f2;
}

/**
 * The cubic B-spline prefilter (scipy `spline_filter1d`, order 3) in place on `columns` lines of
 * `len` ≥ 2 samples stored sample-major: line b, sample t at buf[t·columns + b]. Every line gets
 * the same sequence of float64 operations, so the result does not depend on `columns`.
 */
export function splinePrefilter(buf: Float64Array, len: number, columns: number, boundary: SplineBoundary): void {
  const z = POLE;
  const n = len * columns;
  for (let x = 0; x < n; x++) buf[x] = (buf[x] as number) * GAIN;
  if (boundary === 'mirror') initCausalMirror(buf, len, columns);
  else initCausalReflect(buf, len, columns);
  for (let t = 1; t < len; t++) {
    const row = t * columns;
    const prev = row - columns;
    for (let b = 0; b < columns; b++) buf[row + b] = (buf[row + b] as number) + z * (buf[prev + b] as number);
  }
  if (boundary === 'mirror') initAnticausalMirror(buf, len, columns);
  else initAnticausalReflect(buf, len, columns);
  for (let t = len - 2; t >= 0; t--) {
    const row = t * columns;
    const next = row + columns;
    for (let b = 0; b < columns; b++) buf[row + b] = z * ((buf[next + b] as number) - (buf[row + b] as number));
  }
}

/** Lines filtered together by `splineFilter` (sample-major blocks, as ./zoom.ts gathers them). */
const BLOCK_COLUMNS = 64;

/**
 * Cubic B-spline coefficients of an i-fastest volume along every axis with `boundary` extension
 * (scipy `spline_filter(order=3, mode=…)`), in place. Axes of size 1 are left alone.
 */
export function splineFilter(data: Float32Array, dims: Vec3, boundary: SplineBoundary): void {
  let stride = 1;
  for (let axis = 0; axis < 3; axis++) {
    const n = dims[axis] as number;
    if (n > 1) {
      const lines = data.length / n;
      const columns = Math.min(BLOCK_COLUMNS, lines);
      const buf = new Float64Array(n * columns);
      // line l: outer index o = ⌊l / stride⌋, inner s = l mod stride, base o·n·stride + s
      for (let l0 = 0; l0 < lines; l0 += columns) {
        const nb = Math.min(columns, lines - l0);
        for (let b = 0; b < nb; b++) {
          const l = l0 + b;
          const o = Math.floor(l / stride);
          const base = o * n * stride + (l - o * stride);
          for (let t = 0; t < n; t++) buf[t * nb + b] = data[base + t * stride] as number;
        }
        splinePrefilter(buf, n, nb, boundary);
        for (let b = 0; b < nb; b++) {
          const l = l0 + b;
          const o = Math.floor(l / stride);
          const base = o * n * stride + (l - o * stride);
          for (let t = 0; t < n; t++) data[base + t * stride] = buf[t * nb + b] as number;
        }
      }
    }
    stride *= n;
  }
}

/**
 * Float order of the cubic weights. The two forms are the same polynomials summed in a different
 * order, which changes the last bit of about a quarter of the weights; each caller keeps the one
 * its results were produced with:
 * - 'highest-power-first': (1 − t)³/6, (3t³ − 6t² + 4)/6, (−3t³ + 3t² + 3t + 1)/6, t³/6
 *   (augmentation's `map_coordinates`, ./map-coordinates.ts);
 * - 'lowest-power-first': u·u·u/6 (u = 1 − t), (4 − 6t² + 3t³)/6, (1 + 3t + 3t² − 3t³)/6, t³/6
 *   (preprocessing's `zoom`, ./zoom.ts).
 */
export type CubicWeightOrder = 'highest-power-first' | 'lowest-power-first';

/**
 * The cubic B-spline basis weights of the four coefficients at floor(x) − 1 … floor(x) + 2 for
 * t = x − floor(x) ∈ [0, 1).
 */
export function cubicBSplineWeights(t: number, order: CubicWeightOrder): [number, number, number, number] {
  const t2 = t * t;
  const t3 = t2 * t;
  if (order === 'highest-power-first') return [(1 - t) ** 3 / 6, (3 * t3 - 6 * t2 + 4) / 6, (-3 * t3 + 3 * t2 + 3 * t + 1) / 6, t3 / 6];
  const u = 1 - t;
  return [(u * u * u) / 6, (4 - 6 * t2 + 3 * t3) / 6, (1 + 3 * t + 3 * t2 - 3 * t3) / 6, t3 / 6];
}
