/**
 * Exact squared Euclidean distance transform with anisotropic sampling (Felzenszwalb &
 * Huttenlocher 2012, separable lower envelope of parabolas), in place on a Float64Array.
 *
 * Input: f = 0 at feature points, +∞ elsewhere, on a grid of shape [n0, n1, n2] stored
 * axis-0-fastest (index = x0 + n0·(x1 + n1·x2)). Output: f(x) = min over feature points p of
 *   ((x0 − p0)·s0)² + ((x1 − p1)·s1)² + ((x2 − p2)·s2)²,
 * accumulated in that order (axis 0 first, then 1, then 2), i.e. the same floating-point sum as
 * scipy's `distance_transform_edt(sampling=s)` forms from its feature transform. With no feature
 * point every value stays +∞ (DeepMind's convention for an empty surface).
 *
 * The one EDT of segloss: the surface distances of evaluation (src/eval/surface.ts) use the
 * squared transform directly; `distanceTransformEdt` / `edtOf` below put scipy's conventions on top
 * for the distance maps of the boundary losses (src/losses/distance.ts).
 */
import type { Vec3 } from '../util/vec3.js';
import { UsageError } from '../util/errors.js';

/** Work buffers for one line, reused across lines. */
interface LineBuffers {
  line: Float64Array;
  out: Float64Array;
  v: Int32Array;
  z: Float64Array;
}

function buffers(n: number): LineBuffers {
  return { line: new Float64Array(n), out: new Float64Array(n), v: new Int32Array(n), z: new Float64Array(n + 1) };
}

/** 1D transform of `b.line[0..n)` into `b.out`: out(q) = min_p line(p) + ((q − p)·s)². Returns false when all +∞. */
function transformLine(b: LineBuffers, n: number, s: number): boolean {
  const { line: f, out, v, z } = b;
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q] as number;
    if (fq === Infinity) continue;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    const qq = q * s;
    for (;;) {
      const p = v[k] as number;
      const pp = p * s;
      // abscissa (mm) where the parabolas rooted at p and q intersect
      const sect = (fq + qq * qq - ((f[p] as number) + pp * pp)) / (2 * (qq - pp));
      if (sect <= (z[k] as number)) {
        k--;
        if (k < 0) break;
        continue;
      }
      k++;
      v[k] = q;
      z[k] = sect;
      z[k + 1] = Infinity;
      break;
    }
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
    }
  }
  if (k < 0) return false;
  let j = 0;
  for (let q = 0; q < n; q++) {
    const qs = q * s;
    while ((z[j + 1] as number) < qs) j++;
    const p = v[j] as number;
    const d = (q - p) * s;
    out[q] = (f[p] as number) + d * d;
  }
  return true;
}

/**
 * The first axis (contiguous, stride 1) sees only 0 and +∞ (the input contract), where the lower
 * envelope reduces to the distance to the nearest zero of the line: two linear scans in place on
 * f[base, base + n), giving the same value ((q − p)·s)² as the envelope, bit for bit, in about a
 * third of its time. The forward scan leaves 0 exactly at the zeros (q − last > 0 elsewhere), which
 * the backward scan relies on; a line without zeros stays +∞.
 */
function nearestZeroLineInPlace(f: Float64Array, base: number, n: number, s: number): void {
  let last = -Infinity;
  for (let q = 0; q < n; q++) {
    if (f[base + q] === 0) last = q;
    else f[base + q] = q - last;
  }
  last = Infinity;
  for (let q = n - 1; q >= 0; q--) {
    const forward = f[base + q] as number;
    if (forward === 0) last = q;
    const d = Math.min(forward, last - q) * s;
    f[base + q] = d * d;
  }
}

/** In-place squared EDT of `f` (see the module comment). */
export function squaredEdtInPlace(f: Float64Array, shape: Vec3, spacingMm: Vec3): void {
  const [n0, n1, n2] = shape;
  if (f.length !== n0 * n1 * n2) throw new Error(`squaredEdtInPlace: ${f.length} values for shape ${shape.join('x')}`);
  const strides = [1, n0, n0 * n1];
  for (let line = 0; line < n1 * n2; line++) nearestZeroLineInPlace(f, line * n0, n0, spacingMm[0]);
  // axes 1 and 2: the lower envelope of parabolas rooted at the squared distances so far
  for (let axis = 1; axis < 3; axis++) {
    const n = shape[axis] as number;
    const stride = strides[axis] as number;
    const s = spacingMm[axis] as number;
    const b = buffers(n);
    // iterate over all lines along `axis`: the other two axes
    const [ua, ub] = axis === 1 ? [0, 2] : [0, 1];
    const na = shape[ua] as number;
    const nb = shape[ub] as number;
    const sa = strides[ua] as number;
    const sb = strides[ub] as number;
    for (let ib = 0; ib < nb; ib++) {
      for (let ia = 0; ia < na; ia++) {
        const base = ia * sa + ib * sb;
        let any = false;
        for (let q = 0, o = base; q < n; q++, o += stride) {
          const value = f[o] as number;
          b.line[q] = value;
          if (value !== Infinity) any = true;
        }
        if (!any) continue;
        transformLine(b, n, s);
        for (let q = 0, o = base; q < n; q++, o += stride) f[o] = b.out[q] as number;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// scipy.ndimage.distance_transform_edt on a C-order [D, H, W] array (W contiguous).
//
// For every non-zero voxel, the Euclidean distance (in mm when a spacing is given, else in voxels)
// to the nearest zero voxel of the array; zero voxels get 0. The array border is not a boundary.
// Squared distances are accumulated in float64; the result is float64 like scipy's. Edge case
// copied from scipy (1.10): a mask without any zero voxel has no feature; scipy then returns the
// distance to the phantom point (-1, 0, 0), i.e. sqrt(((i+1)s0)^2 + (j s1)^2 + (k s2)^2).

/** A [D, H, W] shape or spacing (C order: W contiguous). */
export type Shape3 = [number, number, number];

/**
 * Squared EDT of a binary mask (non-zero = foreground) with shape [D, H, W] and spacing in the
 * same axis order. Voxels with no zero anywhere in the array stay Infinity.
 */
function squaredEdt(isForeground: (i: number) => boolean, shape: Shape3, spacing: Shape3): Float64Array {
  const [nd, nh, nw] = shape;
  const g = new Float64Array(nd * nh * nw);
  for (let i = 0; i < g.length; i++) g[i] = isForeground(i) ? Infinity : 0;
  // A [D, H, W] array with W contiguous is the axis-0-fastest grid [W, H, D] of squaredEdtInPlace.
  squaredEdtInPlace(g, [nw, nh, nd], [spacing[2], spacing[1], spacing[0]]);
  return g;
}

/** The spacing of a [D, H, W] transform: three positive numbers (default isotropic 1); UsageError otherwise. */
export function checkSpacing(spacingMm: Shape3 | undefined): Shape3 {
  const s = spacingMm ?? [1, 1, 1];
  if (s.length !== 3 || s.some((x) => !(Number.isFinite(x) && x > 0))) {
    throw new UsageError(`distance transform: spacing must be three positive numbers, got [${s.join(', ')}]`);
  }
  return s;
}

/**
 * Exact Euclidean distance transform of a [D, H, W] mask (`scipy.ndimage.distance_transform_edt`).
 * `mask[i]` non-zero is foreground; returns, per voxel, the distance to the nearest zero voxel
 * (0 on zero voxels), scaled by `spacingMm` (D, H, W order; default isotropic 1).
 * `offset` lets callers transform one volume inside a larger buffer without copying.
 */
export function distanceTransformEdt(
  mask: ArrayLike<number> | ArrayLike<boolean>,
  shape: Shape3,
  spacingMm?: Shape3,
  offset = 0,
): Float64Array {
  const spacing = checkSpacing(spacingMm);
  const n = shape[0] * shape[1] * shape[2];
  if (mask.length < offset + n) throw new UsageError(`distance transform: mask has ${mask.length} values, shape [${shape.join(', ')}] needs ${n}`);
  const m = mask as ArrayLike<number | boolean>;
  return edtOf((i) => Boolean(m[offset + i]), shape, spacing);
}

/** EDT of an arbitrary foreground predicate over voxel indices of one [D, H, W] volume. */
export function edtOf(isForeground: (i: number) => boolean, shape: Shape3, spacing: Shape3): Float64Array {
  const sq = squaredEdt(isForeground, shape, spacing);
  const [nd, nh, nw] = shape;
  let anyZero = false;
  for (let i = 0; i < sq.length; i++) {
    if (sq[i] !== Infinity) {
      anyZero = true;
      break;
    }
  }
  if (!anyZero) {
    // scipy's feature transform has no site: it reports the phantom feature (-1, 0, 0).
    for (let d = 0; d < nd; d++) {
      for (let h = 0; h < nh; h++) {
        for (let w = 0; w < nw; w++) {
          const a = (d + 1) * spacing[0];
          const b = h * spacing[1];
          const c = w * spacing[2];
          sq[(d * nh + h) * nw + w] = a * a + b * b + c * c;
        }
      }
    }
  }
  for (let i = 0; i < sq.length; i++) sq[i] = Math.sqrt(sq[i]!);
  return sq;
}

