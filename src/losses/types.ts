/**
 * The loss API shared by every loss and by training.
 *
 * logits: [B, D, H, W, C] float32 network outputs (before softmax), channels last.
 * labels: [B, D, H, W] int32 label map with values in [0, C).
 * A loss returns a scalar. Softmax is applied inside where the released code applies it.
 */
import type * as tf from '@tensorflow/tfjs';

export interface LossContext {
  /**
   * Signed or unsigned distance maps computed on the CPU per patch, outside the gradient,
   * laid out like the logits [B, D, H, W, C] (what boundary losses need; see the loss docs).
   */
  distanceMaps?: tf.Tensor5D;
  /** Current epoch (0-based), for losses whose weight follows a schedule (DiceBD). */
  epoch?: number;
  /** Voxel spacing (D, H, W) in mm for anisotropic distance maps. */
  spacingMm?: [number, number, number];
}

export type LossFunction = (logits: tf.Tensor5D, labels: tf.Tensor4D, context?: LossContext) => tf.Scalar;
