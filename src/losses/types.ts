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
  /** Current epoch (0-based) of the training stage. No catalogue loss depends on it: schedules follow `step`. */
  epoch?: number;
  /**
   * Optimizer steps of this training stage before the current one (0 at its first step; a
   * fine-tuning stage counts from its own start). A schedule the paper states per epoch follows it
   * in units of the study's epoch, `STUDY_EPOCH_ITERATIONS` = 250 steps (DiceBD's α), so it does
   * not depend on segloss's epoch length. Default 0.
   */
  step?: number;
  /** Voxel spacing (D, H, W) in mm for anisotropic distance maps. */
  spacingMm?: [number, number, number];
}

export type LossFunction = (logits: tf.Tensor5D, labels: tf.Tensor4D, context?: LossContext) => tf.Scalar;
