/**
 * The per-class distance maps that the boundary losses of the study use, computed on the CPU from
 * the labels with the exact Euclidean distance transform of ../ndimage/edt.ts
 * (`scipy.ndimage.distance_transform_edt`, the same transform evaluation uses).
 */
import { UsageError } from '../util/errors.js';
import { checkSpacing, edtOf, type Shape3 } from '../ndimage/edt.js';

/** Which per-class map a loss needs (see computeDistanceMaps). */
export type DistanceMapKind = 'signed' | 'interior' | 'unsigned' | 'penalty';

export const DISTANCE_MAP_KINDS: readonly DistanceMapKind[] = ['signed', 'interior', 'unsigned', 'penalty'];

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
