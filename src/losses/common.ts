/**
 * Building blocks shared by the losses: flattening, one-hot encoding, stop-gradient, and the
 * soft confusion counts tp/fp/fn of nnU-Net's `get_tp_fp_fn`.
 *
 * Every helper uses only the public tfjs API and only ops that have gradients on every backend
 * (wasm included): comparisons, TopK, gather and StridedSlice have no gradient in tfjs (see
 * docs/model.md), so anything computed from them runs inside `noGradient`,
 * a customGrad with a zero gradient, which is also how segloss expresses `torch.no_grad`/detach.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../util/errors.js';

/** Logits [B, D, H, W, C] reshaped to [B, V, C] (V = D·H·W); reductions on rank 3 are fast on wasm. */
export function flatLogits(logits: tf.Tensor): tf.Tensor3D {
  const [b, d, h, w, c] = logits.shape as [number, number, number, number, number];
  return tf.reshape(logits, [b, d * h * w, c]);
}

/** One-hot float32 [B, V, C] of an int label map [B, D, H, W]. */
export function oneHotFlat(labels: tf.Tensor, numClasses: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [b] = labels.shape;
    const flat = tf.reshape(labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32'), [-1]);
    // oneHot(…, 'float32') returns all zeros on tfjs-backend-wasm 4.22: build int32, then cast.
    const oh = tf.cast(tf.oneHot(flat as tf.Tensor1D, numClasses), 'float32');
    return tf.reshape(oh, [b!, -1, numClasses]);
  });
}

/** Check that logits and labels agree; throws UsageError naming the shapes. */
export function checkShapes(logits: tf.Tensor, labels: tf.Tensor): void {
  if (logits.rank !== 5) throw new UsageError(`loss: logits must be [B, D, H, W, C], got shape [${logits.shape.join(', ')}]`);
  if (labels.rank !== 4) throw new UsageError(`loss: labels must be [B, D, H, W], got shape [${labels.shape.join(', ')}]`);
  for (let i = 0; i < 4; i++) {
    if (logits.shape[i] !== labels.shape[i]) {
      throw new UsageError(`loss: logits [${logits.shape.join(', ')}] and labels [${labels.shape.join(', ')}] disagree`);
    }
  }
}

/**
 * Evaluate `compute(x)` without a gradient path back to `x` (the tfjs equivalent of torch's
 * `no_grad`/`detach`): the result is treated as a constant by tf.grad.
 */
export function noGradient<T extends tf.Tensor>(x: tf.Tensor, compute: (x: tf.Tensor) => T): T {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    return { value: compute(input), gradFunc: () => tf.zerosLike(input) };
  });
  return op(x) as T;
}

/** Soft confusion counts per class, [C] (batch) or [B, C] (per sample). */
export interface Confusion {
  tp: tf.Tensor;
  fp: tf.Tensor;
  fn: tf.Tensor;
}

/**
 * nnU-Net `get_tp_fp_fn(p, g, axes, square)`: tp = Σ p·g, fp = Σ p·(1-g), fn = Σ (1-p)·g over the
 * voxels (and the batch when `batchDice`). With `square` each product is squared element-wise
 * before summing (nnU-Net's flag, not Milletari's squared denominator).
 */
export function confusion(p: tf.Tensor3D, g: tf.Tensor3D, batchDice: boolean, square: boolean): Confusion {
  const axes = batchDice ? [0, 1] : [1];
  const pg = tf.mul(p, g);
  if (!square) {
    const tp = tf.sum(pg, axes);
    return { tp, fp: tf.sub(tf.sum(p, axes), tp), fn: tf.sub(tf.sum(g, axes), tp) };
  }
  const fpv = tf.sub(p, pg);
  const fnv = tf.sub(g, pg);
  return { tp: tf.sum(tf.square(pg), axes), fp: tf.sum(tf.square(fpv), axes), fn: tf.sum(tf.square(fnv), axes) };
}

/** Drop class 0 (the background) from the last axis when `includeBackground` is false. */
export function selectClasses(x: tf.Tensor, includeBackground: boolean): tf.Tensor {
  if (includeBackground) return x;
  const begin = x.shape.map((_, i) => (i === x.rank - 1 ? 1 : 0));
  const size = x.shape.map((s, i) => (i === x.rank - 1 ? s - 1 : s));
  return tf.slice(x, begin, size);
}

/**
 * Per-voxel cross-entropy −log softmax(z)_y, shape [B, V]. The log-softmax runs on [B·V, C]
 * (rank 2): tfjs's logSoftmax subtracts `max(z, -1)`, and segloss's wasm `Max` kernel patch
 * (src/engine/kernels/Max.ts, tfjs 4.22) mis-reads the axis of rank ≥ 3 inputs; on rank 2 the
 * stock kernel runs and the per-voxel max keeps the log-softmax numerically stable.
 */
export function voxelCrossEntropy(z: tf.Tensor3D, g: tf.Tensor3D): tf.Tensor2D {
  const [b, v, c] = z.shape;
  const logP = tf.reshape(tf.logSoftmax(tf.reshape(z, [b * v, c])), [b, v, c]);
  return tf.neg(tf.sum(tf.mul(g, logP), -1)) as tf.Tensor2D;
}

/** Count voxels per class in an int label array: counts[c] = #{i : labels[i] = c}. */
export function classCounts(labels: ArrayLike<number>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l >= 0 && l < numClasses) counts[l] = counts[l]! + 1;
  }
  return counts;
}

/**
 * WCE class weights as the paper sets them (paper §2.1.1): the reciprocal of each class's frequency,
 * w_c = N / n_c with N = Σ n_c. A class with no voxel gets weight 0 (it never occurs as a label,
 * so its weight is never used). The scale does not matter: WCE divides by the sum of weights.
 */
export function inverseClassFrequencies(counts: number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((n) => (n > 0 ? total / n : 0));
}
