/**
 * Compound losses (paper §2.4 and §3.2) as the released trainers combine them.
 *
 * Inputs: logits z, probabilities p = softmax(z) and one-hot g, all [B, V, C]. The Dice term is
 * nnU-Net's `SoftDiceLoss` (no squares, smoothing 1e-5, background dropped, `batch_dice` from the
 * plan); its sign follows the released code: −DSC in dice_loss.py, 1 − DSC in boundary_loss.py.
 */
import * as tf from '@tensorflow/tfjs';
import { noGradient, voxelCrossEntropy } from './common.js';
import { crossEntropyLoss, focalLoss, topKLoss, weightedCrossEntropyLoss } from './distribution.js';
import { diceCoefficients, meanDice, type RegionOptions } from './region.js';
import { boundaryLoss, hausdorffLoss } from './boundary.js';

/** DiceCE, paper Eq. 22 as released (`DC_and_CE_loss`, aggregate 'sum'): L = CE + (−mean DSC). */
export function diceCeLoss(z: tf.Tensor3D, p: tf.Tensor3D, g: tf.Tensor3D, o: RegionOptions): tf.Scalar {
  return tf.tidy(() => tf.sub(crossEntropyLoss(z, g), meanDice(p, g, o)) as tf.Scalar);
}

/** Where ELL's exponent goes: released code (on the mean Dice, none on CE) or Wong et al. (per class and on CE). */
export type EllExponentOn = 'mean_dice' | 'per_class';

/**
 * Exponential logarithmic loss, paper Eq. 23. Released (`ExpLog_loss`, γ = 0.3, 0.8/0.2):
 * L = w_Dice·(−ln max(mean DSC, 1e−6))^γ + w_CE·WCE, the exponent on the *mean* Dice and none on
 * the CE term (`exponent_on: mean_dice`). Wong et al. (`exponent_on: per_class`):
 * L = w_Dice·mean_c (−ln max(DSC_c, 1e−6))^γ + w_CE·Σ_i w_{y_i}(−ln p_{y_i,i})^γ / Σ_i w_{y_i}.
 */
export function expLogLoss(
  z: tf.Tensor3D,
  p: tf.Tensor3D,
  g: tf.Tensor3D,
  o: RegionOptions,
  classWeights: number[],
  wDice: number,
  wCe: number,
  gamma: number,
  exponentOn: EllExponentOn,
): tf.Scalar {
  return tf.tidy(() => {
    if (exponentOn === 'mean_dice') {
      const dice = tf.pow(tf.neg(tf.log(tf.maximum(meanDice(p, g, o), 1e-6))), gamma);
      return tf.add(tf.mul(dice, wDice), tf.mul(weightedCrossEntropyLoss(z, g, classWeights), wCe)) as tf.Scalar;
    }
    const dice = tf.mean(tf.pow(tf.neg(tf.log(tf.maximum(diceCoefficients(p, g, o), 1e-6))), gamma));
    const w = tf.sum(tf.mul(g, tf.tensor1d(classWeights, 'float32')), -1);
    const ce = tf.div(tf.sum(tf.mul(w, tf.pow(voxelCrossEntropy(z, g), gamma))), tf.sum(w));
    return tf.add(tf.mul(dice, wDice), tf.mul(ce, wCe)) as tf.Scalar;
  });
}

/** DiceFocal, paper Eq. 24 as released (`DC_and_Focal_loss`): L = (−mean DSC) + Focal(α, γ, s). */
export function diceFocalLoss(z: tf.Tensor3D, p: tf.Tensor3D, g: tf.Tensor3D, o: RegionOptions, alpha: number, gamma: number): tf.Scalar {
  return tf.tidy(() => tf.sub(focalLoss(z, g, alpha, gamma, o.smooth), meanDice(p, g, o)) as tf.Scalar);
}

/** DiceTopK, paper Eq. 25 as released (`DC_and_topk_loss`, k = 10): L = TopK_k + (−mean DSC). */
export function diceTopKLoss(z: tf.Tensor3D, p: tf.Tensor3D, g: tf.Tensor3D, o: RegionOptions, kPercent: number): tf.Scalar {
  return tf.tidy(() => tf.sub(topKLoss(z, g, kPercent), meanDice(p, g, o)) as tf.Scalar);
}

/**
 * The study's epoch, in optimizer steps: 250 training iterations of one batch each (paper §3.2,
 * "one epoch is defined as the iteration over 250 training batches"; nnU-Net V1's
 * `NetworkTrainer.num_batches_per_epoch`). A schedule the paper states per epoch uses this unit,
 * so that it reaches the same values after the same number of steps whatever segloss's epoch
 * length (the cpu profile's epoch is 50 iterations).
 */
export const STUDY_EPOCH_ITERATIONS = 250;

/**
 * DiceBD's α at an optimizer step (paper §3.2, after Kervadec et al.: α = 1 at first, lowered by
 * 0.01 after each epoch until it reaches 0.01), counted in study epochs:
 * α(step) = max(α_min, α_start − α_step·⌊step / 250⌋), `step` = optimizer steps of the
 * fine-tuning stage before the current one.
 */
export function diceBoundaryAlpha(step: number, alphaStart: number, alphaStep: number, alphaMin: number): number {
  return Math.max(alphaMin, alphaStart - alphaStep * Math.floor(Math.max(0, step) / STUDY_EPOCH_ITERATIONS));
}

/**
 * DiceBD (paper §3.2): L = α(1 − mean DSC) + (1 − α)·BD. The released `DC_and_BD_loss` fixes
 * α = 0.01; the paper (after Kervadec) starts at α = 1 and lowers it by 0.01 per epoch to 0.01,
 * which `diceBoundaryAlpha` supplies per optimizer step.
 */
export function diceBoundaryLoss(p: tf.Tensor3D, g: tf.Tensor3D, phi: tf.Tensor3D, o: RegionOptions, alpha: number): tf.Scalar {
  return tf.tidy(() => {
    const dice = tf.sub(1, meanDice(p, g, o));
    return tf.add(tf.mul(dice, alpha), tf.mul(boundaryLoss(p, phi), 1 - alpha)) as tf.Scalar;
  });
}

/**
 * DiceHD (released `DC_and_HD_loss`, SegLossOdyssey trainer): a = sg[HD/((1 − DSC) + 1e−5)],
 * L = a(1 − DSC) + HD. The value is ≈ 2·HD; the gradient a∇(1 − DSC) + ∇HD balances the two
 * terms per batch (Karimi's α = ratio of the HD term to the Dice term, β = 1).
 */
export function diceHausdorffLoss(p: tf.Tensor3D, g: tf.Tensor3D, gtDist: tf.Tensor3D, predDist: tf.Tensor3D, o: RegionOptions): tf.Scalar {
  return tf.tidy(() => {
    const dice = tf.sub(1, meanDice(p, g, o));
    const hd = hausdorffLoss(p, g, gtDist, predDist);
    const a = noGradient(tf.stack([hd, dice]), (pair) => {
      const [h, d] = tf.unstack(pair);
      return tf.div(h!, tf.add(d!, 1e-5));
    });
    return tf.add(tf.mul(a, dice), hd) as tf.Scalar;
  });
}
