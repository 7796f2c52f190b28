/**
 * Region-based losses (paper §2.2) as the released nnU-Net-V1 code computes them.
 *
 * Inputs: probabilities p = softmax(z) and one-hot g, both [B, V, C]. Soft counts come from
 * `confusion` (./common.ts); `batchDice` (option `batch_dice`) sums over the batch too (nnU-Net
 * "batch Dice"), otherwise per sample; `includeBackground: false` (option `include_background`)
 * drops class 0 (`do_bg=False`); the result is the plain
 * mean over what remains (classes, or samples × classes). Smoothing s is 1e-5 as the trainers set it.
 */
import * as tf from '@tensorflow/tfjs';
import { confusion, selectClasses } from './common.js';

export interface RegionOptions {
  batchDice: boolean;
  includeBackground: boolean;
  smooth: number;
}

function reduceAxes(batchDice: boolean): number[] {
  return batchDice ? [0, 1] : [1];
}

/** DSC_c = (2tp + s)/(2tp + fp + fn + s), per class (and sample), background dropped as asked. */
export function diceCoefficients(p: tf.Tensor3D, g: tf.Tensor3D, o: RegionOptions, square = false): tf.Tensor {
  return tf.tidy(() => {
    const { tp, fp, fn } = confusion(p, g, o.batchDice, square);
    const tp2 = tf.mul(tp, 2);
    const dsc = tf.div(tf.add(tp2, o.smooth), tf.add(tf.add(tf.add(tp2, fp), fn), o.smooth));
    return selectClasses(dsc, o.includeBackground);
  });
}

/** Mean soft DSC, the quantity every Dice-based loss and compound uses. */
export function meanDice(p: tf.Tensor3D, g: tf.Tensor3D, o: RegionOptions, square = false): tf.Scalar {
  return tf.tidy(() => tf.mean(diceCoefficients(p, g, o, square)) as tf.Scalar);
}

/**
 * Dice, paper Eq. 9 as released (`SoftDiceLoss`): L = −mean DSC_c (range [−1, 0]; Eq. 9's 1 − DSC
 * differs by a constant, same gradient). `square` is nnU-Net's element-wise squaring of tp/fp/fn.
 */
export function diceLoss(p: tf.Tensor3D, g: tf.Tensor3D, o: RegionOptions, square: boolean): tf.Scalar {
  return tf.tidy(() => tf.neg(meanDice(p, g, o, square)) as tf.Scalar);
}

/**
 * Dice with squared denominator, paper Eq. 8 as released (`SoftDiceLossV2`, Milletari):
 * DSC_c = 2(Σ p g + s)/(Σ g² + Σ p² + s) (the smoothing is doubled in the numerator, as in the
 * code); L = −mean DSC_c.
 */
export function squaredDiceLoss(p: tf.Tensor3D, g: tf.Tensor3D, o: RegionOptions): tf.Scalar {
  return tf.tidy(() => {
    const axes = reduceAxes(o.batchDice);
    const inter = tf.add(tf.sum(tf.mul(p, g), axes), o.smooth);
    const denom = tf.add(tf.add(tf.sum(tf.square(g), axes), tf.sum(tf.square(p), axes)), o.smooth);
    const dsc = tf.div(tf.mul(inter, 2), denom);
    return tf.neg(tf.mean(selectClasses(dsc, o.includeBackground))) as tf.Scalar;
  });
}

/**
 * Sensitivity–specificity, paper Eq. 7 as released (`SSLoss`): e = (g − p)²,
 * A_c = Σ e g/(Σ g + s), B_c = Σ e (1−g)/(Σ (1−g) + s), SS_c = r A_c + (1−r) B_c, L = mean SS_c.
 * r = 0.1 in the released code (w in Eq. 7).
 */
export function sensitivitySpecificityLoss(p: tf.Tensor3D, g: tf.Tensor3D, o: RegionOptions, r: number): tf.Scalar {
  return tf.tidy(() => {
    const axes = reduceAxes(o.batchDice);
    const e = tf.square(tf.sub(g, p));
    const eg = tf.mul(e, g);
    const sumG = tf.sum(g, axes);
    const sumBg = tf.sub(tf.sum(tf.onesLike(g), axes), sumG);
    const a = tf.div(tf.sum(eg, axes), tf.add(sumG, o.smooth));
    const b = tf.div(tf.sum(tf.sub(e, eg), axes), tf.add(sumBg, o.smooth));
    const ss = tf.add(tf.mul(a, r), tf.mul(b, 1 - r));
    return tf.mean(selectClasses(ss, o.includeBackground));
  });
}

/** IoU, paper Eq. 10 as released (`IoULoss`): IoU_c = (tp + s)/(tp + fp + fn + s), L = −mean IoU_c. */
export function iouLoss(p: tf.Tensor3D, g: tf.Tensor3D, o: RegionOptions): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tverskyIndex(p, g, o, 1, 1))) as tf.Scalar);
}

/** Tversky index TI_c = (tp + s)/(tp + α fp + β fn + s), background dropped as asked. */
export function tverskyIndex(p: tf.Tensor3D, g: tf.Tensor3D, o: RegionOptions, alpha: number, beta: number): tf.Tensor {
  return tf.tidy(() => {
    const { tp, fp, fn } = confusion(p, g, o.batchDice, false);
    const ti = tf.div(tf.add(tp, o.smooth), tf.add(tf.add(tf.add(tp, tf.mul(fp, alpha)), tf.mul(fn, beta)), o.smooth));
    return selectClasses(ti, o.includeBackground);
  });
}

/**
 * Tversky, paper Eq. 14 as released (`TverskyLoss`, α = 0.3 on FP, β = 0.7 on FN): L = −mean TI_c.
 * Asym (paper Eq. 17, `AsymLoss`, β = 1.5) is the special case α = 1/(1+β²), β' = β²/(1+β²).
 */
export function tverskyLoss(p: tf.Tensor3D, g: tf.Tensor3D, o: RegionOptions, alpha: number, beta: number): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tverskyIndex(p, g, o, alpha, beta))) as tf.Scalar);
}

/**
 * Focal Tversky, paper Eq. 16. Released (`FocalTversky_loss`, γ = 0.75): L = (1 − mean TI_c)^γ,
 * the exponent applied after the class mean. `perClass` applies it per class first, as Abraham &
 * Khan do: L = mean (1 − TI_c)^γ.
 */
export function focalTverskyLoss(p: tf.Tensor3D, g: tf.Tensor3D, o: RegionOptions, alpha: number, beta: number, gamma: number, perClass: boolean): tf.Scalar {
  return tf.tidy(() => {
    const ti = tverskyIndex(p, g, o, alpha, beta);
    if (perClass) return tf.mean(tf.pow(tf.sub(1, ti), gamma));
    return tf.pow(tf.sub(1, tf.mean(ti)), gamma) as tf.Scalar;
  });
}

/**
 * Generalised Dice, paper Eq. 15, as trained (`GDiceLossV2`): batch and voxels flattened, background
 * included; G_c = Σ g_c, w_c = sg[1/max(G_c², s)],
 * L = 1 − 2 Σ_c w_c Σ p_c g_c / max(Σ_c w_c Σ (p_c + g_c), s). No smoothing in the numerator; an
 * absent class gets w = 1/s and the loss goes to about 1.
 */
export function generalisedDiceLoss(p: tf.Tensor3D, g: tf.Tensor3D, smooth: number): tf.Scalar {
  return tf.tidy(() => {
    const axes = [0, 1];
    const sumG = tf.sum(g, axes);
    const w = tf.div(1, tf.maximum(tf.square(sumG), smooth));
    const inter = tf.sum(tf.mul(tf.sum(tf.mul(p, g), axes), w));
    const denom = tf.sum(tf.mul(tf.add(tf.sum(p, axes), sumG), w));
    return tf.sub(1, tf.div(tf.mul(inter, 2), tf.maximum(denom, smooth))) as tf.Scalar;
  });
}

/**
 * Generalised Dice v1 (released `GDiceLoss`, the per-sample version pGDice builds on): per sample
 * b, w_bc = 1/(G_bc + 1e−10)², GD_b = 2(Σ_c w I + s)/(Σ_c w (P + G) + s), L = mean_b (1 − GD_b).
 * Background included; an absent class gets w = 1e20, so GD → 0 and the loss → 1.
 */
export function generalisedDiceV1Loss(p: tf.Tensor3D, g: tf.Tensor3D, smooth: number): tf.Scalar {
  return tf.tidy(() => {
    const sumG = tf.sum(g, 1);
    const w = tf.div(1, tf.square(tf.add(sumG, 1e-10)));
    const inter = tf.sum(tf.mul(w, tf.sum(tf.mul(p, g), 1)), 1);
    const union = tf.sum(tf.mul(w, tf.add(tf.sum(p, 1), sumG)), 1);
    const gd = tf.div(tf.mul(tf.add(inter, smooth), 2), tf.add(union, smooth));
    return tf.mean(tf.sub(1, gd));
  });
}

/**
 * Penalty GDice, paper Eq. 18 as released (`PenaltyGDiceLoss`, k = 2.5):
 * L = L_GD/(1 + k(1 − L_GD)) with L_GD the per-sample GDice v1 loss.
 */
export function penaltyGeneralisedDiceLoss(p: tf.Tensor3D, g: tf.Tensor3D, smooth: number, k: number): tf.Scalar {
  return tf.tidy(() => {
    const l = generalisedDiceV1Loss(p, g, smooth);
    return tf.div(l, tf.add(1, tf.mul(k, tf.sub(1, l)))) as tf.Scalar;
  });
}
