/**
 * Boundary-based losses (paper §2.3) as released in test/loss_functions/boundary_loss.py.
 *
 * Distance maps are computed on the CPU per training patch (./distance.ts), stay outside the
 * gradient, cover classes c ≥ 1 only and are 0 for classes absent from a sample. Both losses
 * average over B × (C−1) × V, zeros included, as the released `.mean()` over channels 1… does.
 */
import * as tf from '@tensorflow/tfjs';
import { computeDistanceMaps, type DistanceMapKind } from './distance.js';
import { edtOf, type Shape3 } from '../ndimage/edt.js';
import type { LossContext } from './types.js';
import { UsageError } from '../util/errors.js';

/** Which distances HD uses: released interior-only EDT, or distance to the boundary on both sides (Karimi). */
export type HdDistance = 'interior' | 'unsigned';

function foregroundVoxels(b: number, d: number, h: number, w: number, c: number): number {
  return b * (c - 1) * d * h * w;
}

/**
 * The ground-truth map a boundary loss needs, [B, V, C]: taken from `context.distanceMaps` when the
 * caller computed it already (training does, per patch), else computed here from the labels.
 */
export function groundTruthMaps(labels: tf.Tensor, numClasses: number, kind: DistanceMapKind, context: LossContext | undefined): tf.Tensor3D {
  const [b, d, h, w] = labels.shape as [number, number, number, number];
  const channels = kind === 'penalty' ? 1 : numClasses;
  if (context?.distanceMaps !== undefined) {
    const m = context.distanceMaps;
    const expected = [b, d, h, w, channels];
    if (m.shape.length !== 5 || m.shape.some((s, i) => s !== expected[i])) {
      throw new UsageError(`loss: context.distanceMaps has shape [${m.shape.join(', ')}], the '${kind}' map needs [${expected.join(', ')}]`);
    }
    return tf.reshape(m, [b, d * h * w, channels]);
  }
  const values = computeDistanceMaps(labels.dataSync() as Int32Array, [b, d, h, w], numClasses, kind, context?.spacingMm);
  return tf.tensor3d(values, [b, d * h * w, channels], 'float32');
}

/**
 * The prediction's map for HD (released `compute_pred_dtm`): for c ≥ 1 and each sample, the EDT
 * inside {sg[p_c] > 0.5} (`interior`), or EDT(mask) + EDT(not mask) (`unsigned`), 0 when the mask
 * is empty. Reads the probabilities back to the CPU.
 */
export function predictionMaps(p: tf.Tensor3D, volume: Shape3, kind: HdDistance, spacingMm?: Shape3): tf.Tensor3D {
  const [nb, nv, nc] = p.shape;
  const probs = p.dataSync();
  const out = new Float32Array(nb * nv * nc);
  const spacing: Shape3 = spacingMm ?? [1, 1, 1];
  for (let b = 0; b < nb; b++) {
    for (let c = 1; c < nc; c++) {
      const inMask = (i: number): boolean => probs[(b * nv + i) * nc + c]! > 0.5;
      let any = false;
      for (let i = 0; i < nv && !any; i++) any = inMask(i);
      if (!any) continue;
      const inside = edtOf(inMask, volume, spacing);
      const outside = kind === 'unsigned' ? edtOf((i) => !inMask(i), volume, spacing) : undefined;
      for (let i = 0; i < nv; i++) out[(b * nv + i) * nc + c] = inside[i]! + (outside === undefined ? 0 : outside[i]!);
    }
  }
  return tf.tensor3d(out, [nb, nv, nc], 'float32');
}

/**
 * BD, paper Eq. 20 as released (`BDLoss`): L = mean over (B, C−1, V) of p_c · φ_c with φ the
 * `signed` map (φ = EDT(¬g) − EDT(g), 0 on the inner boundary; channel 0 is 0).
 */
export function boundaryLoss(p: tf.Tensor3D, phi: tf.Tensor3D): tf.Scalar {
  return tf.tidy(() => {
    const [b, v, c] = p.shape;
    return tf.div(tf.sum(tf.mul(p, phi)), foregroundVoxels(b, v, 1, 1, c)) as tf.Scalar;
  });
}

/**
 * HD, paper Eq. 21 as released (`HDLoss`, α = 2): L = mean over (B, C−1, V) of
 * (p_c − g_c)² · (d^P_c² + d^G_c²), with the released interior-only distances by default.
 */
export function hausdorffLoss(p: tf.Tensor3D, g: tf.Tensor3D, gtDist: tf.Tensor3D, predDist: tf.Tensor3D): tf.Scalar {
  return tf.tidy(() => {
    const [b, v, c] = p.shape;
    const weight = tf.add(tf.square(predDist), tf.square(gtDist));
    return tf.div(tf.sum(tf.mul(tf.square(tf.sub(p, g)), weight)), foregroundVoxels(b, v, 1, 1, c)) as tf.Scalar;
  });
}
