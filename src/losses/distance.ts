/**
 * Exact Euclidean distance transforms on the CPU, and the per-class distance maps that the
 * boundary losses of the study use.
 *
 * `distanceTransformEdt` equals `scipy.ndimage.distance_transform_edt(mask, sampling)`: for every
 * non-zero voxel, the Euclidean distance (in mm when a spacing is given, else in voxels) to the
 * nearest zero voxel of the array; zero voxels get 0. The array border is not a boundary.
 *
 * Algorithm: ../util/edt.ts, the exact separable transform (lower envelope of parabolas of
 * Felzenszwalb & Huttenlocher 2012, "Distance transforms of sampled functions", anisotropic
 * spacing exact too) that evaluation uses as well. Squared distances are accumulated in float64;
 * the result is float64 like scipy's.
 *
 * Edge case copied from scipy (1.10): a mask without any zero voxel has no feature; scipy then
 * returns the distance to the phantom point (-1, 0, 0), i.e. sqrt(((i+1)s0)^2 + (j s1)^2 + (k s2)^2).
 */
import { UsageError } from '../util/errors.js';
import { squaredEdtInPlace } from '../util/edt.js';

export type Shape3 = [number, number, number];

/** Which per-class map a loss needs (see computeDistanceMaps). */
export type DistanceMapKind = 'signed' | 'interior' | 'unsigned' | 'penalty';

export const DISTANCE_MAP_KINDS: readonly DistanceMapKind[] = ['signed', 'interior', 'unsigned', 'penalty'];

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

function checkSpacing(spacingMm: Shape3 | undefined): Shape3 {
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

/**
 * Inner boundary of a binary mask, as `skimage.segmentation.find_boundaries(mask, mode='inner')`
 * (connectivity 1): foreground voxels with at least one face neighbour in the background. The
 * array border is not a boundary (skimage's morphology reflects at the border).
 */
function innerBoundary(isForeground: (i: number) => boolean, shape: Shape3): Uint8Array {
  const [nd, nh, nw] = shape;
  const out = new Uint8Array(nd * nh * nw);
  for (let d = 0; d < nd; d++) {
    for (let h = 0; h < nh; h++) {
      for (let w = 0; w < nw; w++) {
        const i = (d * nh + h) * nw + w;
        if (!isForeground(i)) continue;
        if (
          (d > 0 && !isForeground(i - nh * nw)) ||
          (d < nd - 1 && !isForeground(i + nh * nw)) ||
          (h > 0 && !isForeground(i - nw)) ||
          (h < nh - 1 && !isForeground(i + nw)) ||
          (w > 0 && !isForeground(i - 1)) ||
          (w < nw - 1 && !isForeground(i + 1))
        ) {
          out[i] = 1;
        }
      }
    }
  }
  return out;
}

/**
 * Distance maps for the boundary losses, computed per sample and per class on the CPU (outside
 * the gradient), laid out [B, D, H, W, C] like the logits (C = numClasses), except `penalty`
 * which is [B, D, H, W, 1]:
 *
 * - `signed` (BD, released `compute_sdf`): for c >= 1 present in the sample,
 *   phi = EDT(not g_c) - EDT(g_c), then phi = 0 on the inner boundary of g_c. Channel 0 and absent
 *   classes are 0.
 * - `interior` (HD, released `compute_gt_dtm`): EDT(g_c) for c >= 1 present, i.e. the distance
 *   inside the mask only (0 outside). Channel 0 and absent classes are 0.
 * - `unsigned` (HD as in Karimi & Salcudean): EDT(g_c) + EDT(not g_c) for c >= 1 present.
 * - `penalty` (pCE, released `compute_edts_forPenalizedLoss` + 1, all foreground labels merged):
 *   with e_f = EDT(fg), a = (max e_f - e_f) fg, e_b = EDT(bg), b = (max e_b - e_b) bg:
 *   D = a / max a + b / max b + 1. Where the released code divides 0 by 0 (no foreground, no
 *   background, or a structure one voxel thick), that term is taken as 0 here, so D stays finite.
 */
export function computeDistanceMaps(
  labels: ArrayLike<number>,
  shape: [number, number, number, number],
  numClasses: number,
  kind: DistanceMapKind,
  spacingMm?: Shape3,
): Float32Array {
  const spacing = checkSpacing(spacingMm);
  const [nb, nd, nh, nw] = shape;
  const vol: Shape3 = [nd, nh, nw];
  const nv = nd * nh * nw;
  if (labels.length !== nb * nv) throw new UsageError(`distance maps: ${labels.length} labels for shape [${shape.join(', ')}]`);
  if (!DISTANCE_MAP_KINDS.includes(kind)) throw new UsageError(`distance maps: unknown kind '${kind}' (valid: ${DISTANCE_MAP_KINDS.join(', ')})`);
  if (kind === 'penalty') return penaltyMaps(labels, nb, vol, spacing);
  const nc = numClasses;
  const out = new Float32Array(nb * nv * nc);
  for (let b = 0; b < nb; b++) {
    const off = b * nv;
    for (let c = 1; c < nc; c++) {
      const inClass = (i: number): boolean => labels[off + i] === c;
      let any = false;
      for (let i = 0; i < nv; i++) {
        if (inClass(i)) {
          any = true;
          break;
        }
      }
      if (!any) continue;
      const inside = edtOf(inClass, vol, spacing);
      if (kind === 'interior') {
        for (let i = 0; i < nv; i++) out[(off + i) * nc + c] = inside[i]!;
        continue;
      }
      const outside = edtOf((i) => !inClass(i), vol, spacing);
      if (kind === 'unsigned') {
        for (let i = 0; i < nv; i++) out[(off + i) * nc + c] = inside[i]! + outside[i]!;
        continue;
      }
      const boundary = innerBoundary(inClass, vol);
      for (let i = 0; i < nv; i++) out[(off + i) * nc + c] = boundary[i] === 1 ? 0 : outside[i]! - inside[i]!;
    }
  }
  return out;
}

function penaltyMaps(labels: ArrayLike<number>, nb: number, vol: Shape3, spacing: Shape3): Float32Array {
  const nv = vol[0] * vol[1] * vol[2];
  const out = new Float32Array(nb * nv);
  for (let b = 0; b < nb; b++) {
    const off = b * nv;
    const fg = (i: number): boolean => labels[off + i]! > 0.5;
    const ef = edtOf(fg, vol, spacing);
    const eb = edtOf((i) => !fg(i), vol, spacing);
    let maxEf = 0;
    let maxEb = 0;
    for (let i = 0; i < nv; i++) {
      if (fg(i)) maxEf = Math.max(maxEf, ef[i]!);
      else maxEb = Math.max(maxEb, eb[i]!);
    }
    // a = (max e_f - e_f) on the foreground, b = (max e_b - e_b) on the background; note that the
    // released code takes max e_f over the whole EDT, which is the foreground maximum (EDT = 0 outside).
    let maxA = 0;
    let maxB = 0;
    for (let i = 0; i < nv; i++) {
      if (fg(i)) maxA = Math.max(maxA, maxEf - ef[i]!);
      else maxB = Math.max(maxB, maxEb - eb[i]!);
    }
    for (let i = 0; i < nv; i++) {
      let d = 1;
      if (fg(i)) d += maxA > 0 ? (maxEf - ef[i]!) / maxA : 0;
      else d += maxB > 0 ? (maxEb - eb[i]!) / maxB : 0;
      out[off + i] = d;
    }
  }
  return out;
}
