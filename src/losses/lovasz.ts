/**
 * Lovász-Softmax, paper Eqs. 11–13, as released (`LovaszSoftmax`, reduction 'mean').
 *
 * All B·V voxels of the batch are flattened together (no per-image mode). For every class c,
 * background and absent classes included (no 'present' filter): e_i = |1[y_i = c] − x_{c,i}|,
 * sorted in decreasing order; loss_c = Σ_j e_(j) · ΔJ_j with ΔJ the discrete derivative of the
 * Jaccard loss of the sorted ground truth (`lovasz_grad`); L = mean_c loss_c.
 *
 * The released trainer feeds the raw logits as x (`input: 'logits'`, the default, kept for
 * fidelity); Berman et al. and paper Eq. 11 use softmax probabilities (`input: 'softmax'`).
 *
 * tfjs has no gradient for TopK, and gather has none on wasm, so the permutation is applied to the
 * constant side: inside `noGradient` the errors are sorted with `topk`, ΔJ is computed with
 * `cumsum` and scattered back to voxel order with `scatterND`, giving weights w_i; then
 * L = mean_c Σ_i e_{c,i} w_{c,i}, whose gradient is exactly the Lovász gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { noGradient } from './common.js';

export type LovaszInput = 'logits' | 'softmax';

/** ΔJ weights in voxel order for errors e [C, N] and ground truth fg [C, N]. */
function lovaszWeights(e: tf.Tensor2D, fg: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [c, n] = e.shape;
    const order = tf.topk(e, n, true).indices; // [C, N], decreasing errors
    const offsets = tf.reshape(tf.range(0, c * n, n, 'int32'), [c, 1]);
    const flatIdx = tf.cast(tf.reshape(tf.add(order, offsets), [-1]), 'int32');
    const gtSorted = tf.reshape(tf.gather(tf.reshape(fg, [-1]), flatIdx), [c, n]);
    const gts = tf.sum(gtSorted, 1, true);
    const intersection = tf.sub(gts, tf.cumsum(gtSorted, 1));
    const union = tf.add(gts, tf.cumsum(tf.sub(1, gtSorted), 1));
    const jaccard = tf.sub(1, tf.div(intersection, union));
    const previous = tf.concat([tf.zeros([c, 1]), tf.slice(jaccard, [0, 0], [c, n - 1])], 1);
    const delta = tf.sub(jaccard, previous);
    const scatterIdx = tf.reshape(flatIdx, [-1, 1]);
    return tf.reshape(tf.scatterND(scatterIdx, tf.reshape(delta, [-1]), [c * n]), [c, n]) as tf.Tensor2D;
  });
}

/** Lovász loss from flattened logits z [B, V, C] and one-hot g [B, V, C]. */
export function lovaszLoss(z: tf.Tensor3D, g: tf.Tensor3D, input: LovaszInput): tf.Scalar {
  return tf.tidy(() => {
    const c = z.shape[2];
    const x = input === 'softmax' ? tf.softmax(z) : z;
    const xT = tf.transpose(tf.reshape(x, [-1, c])) as tf.Tensor2D; // [C, N]
    const fgT = tf.transpose(tf.reshape(g, [-1, c])) as tf.Tensor2D;
    const e = tf.abs(tf.sub(fgT, xT)) as tf.Tensor2D;
    const w = noGradient(e, (errors) => lovaszWeights(errors as tf.Tensor2D, fgT));
    return tf.div(tf.sum(tf.mul(e, w)), c) as tf.Scalar;
  });
}
