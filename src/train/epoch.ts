/**
 * The two halves of an epoch (nnU-Net V1 `nnUNetTrainer.run_training`): `iterations` training
 * steps (forward, loss, backward, AMSGrad Adam) and `valBatches` validation steps without a
 * gradient (loss and hard per-class TP/FP/FN → global Dice per class, as
 * `nnUNetTrainer.finish_online_evaluation`). Batches come from the session's stream in the order
 * the uninterrupted run takes them.
 */
import * as tf from '@tensorflow/tfjs';
import type { LossContext } from '../losses/types.js';
import { InterruptedError, RuntimeFailure } from '../util/errors.js';
import { interruptRequested } from '../util/interrupt.js';
import { formatLearningRate } from '../util/layout.js';
import { progressBar } from '../util/log.js';
import type { Batch } from './batches.js';
import { markFailed, type RunSession } from './session.js';

/** What the validation steps of an epoch measured. */
export interface ValidationResult {
  /** Mean loss over the validation batches. */
  loss: number;
  /** Global Dice per foreground class; null where 2TP + FP + FN = 0. */
  dicePerClass: (number | null)[];
  /** Mean of the non-null per-class Dice values; null when there is none. */
  dice: number | null;
}

/** Global Dice per foreground class from summed counts; null where 2TP + FP + FN = 0. */
export function globalDice(tp: number[], fp: number[], fn: number[]): (number | null)[] {
  const out: (number | null)[] = [];
  for (let c = 1; c < tp.length; c++) {
    const den = 2 * (tp[c] as number) + (fp[c] as number) + (fn[c] as number);
    out.push(den === 0 ? null : (2 * (tp[c] as number)) / den);
  }
  return out;
}

function meanOfPresent(values: (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null);
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
}

function batchTensors(batch: Batch): { x: tf.Tensor5D; y: tf.Tensor4D; dm?: tf.Tensor5D } {
  const [b, d, h, w, c] = batch.shape;
  const x = tf.tensor5d(batch.image, [b, d, h, w, c]);
  const y = tf.tensor4d(batch.labels, [b, d, h, w], 'int32');
  if (batch.distanceMaps !== undefined) return { x, y, dm: tf.tensor5d(batch.distanceMaps, [b, d, h, w, batch.distanceChannels ?? 1]) };
  return { x, y };
}

/**
 * The context a loss sees: the epoch, the voxel spacing, the optimizer step (DiceBD's α follows the
 * study's schedule per step, docs/losses.md) and the batch's distance maps when the loss needs them.
 */
function lossContext(session: RunSession, dm: tf.Tensor5D | undefined, step: number): LossContext {
  const base: LossContext = { epoch: session.schedule.epoch, spacingMm: session.spacingDhw, step };
  return dm !== undefined ? { ...base, distanceMaps: dm } : base;
}

/**
 * The training steps of the session's current epoch; returns the mean training loss. A NaN or
 * infinite loss stops the run before its update is applied: the run is marked failed with the
 * epoch and iteration (paper Table 3, "training failed") and a RuntimeFailure is thrown.
 */
export async function trainEpoch(session: RunSession): Promise<number> {
  const { model, optimizer, stream, loss, settings } = session;
  const epoch = session.schedule.epoch;
  const iterations = settings.iterations;
  optimizer.learningRate = session.schedule.learningRate;
  const bar = progressBar(iterations, `epoch ${epoch}`, ['loss', 'lr']);
  let lossSum = 0;
  for (let it = 0; it < iterations; it++) {
    if (interruptRequested()) throw new InterruptedError(`interrupted in epoch ${epoch}; re-run the same command (or add --resume) to continue from the start of that epoch`);
    const { batch } = await stream.next();
    const { x, y, dm } = batchTensors(batch);
    const ctx = lossContext(session, dm, optimizer.iterations);
    let value: number;
    try {
      const { value: v, grads } = tf.variableGrads(() => loss.fn(model.apply(x, true)[0] as tf.Tensor5D, y, ctx), model.variables);
      value = (await v.data())[0] as number;
      v.dispose();
      if (Number.isFinite(value)) optimizer.applyGradients(model.variables.map((vv) => grads[vv.name]));
      tf.dispose(grads);
    } finally {
      tf.dispose([x, y, ...(dm !== undefined ? [dm] : [])]);
    }
    if (!Number.isFinite(value)) {
      const reason = `diverged: training loss is ${value} in epoch ${epoch}, iteration ${it}`;
      markFailed(session, reason, epoch);
      bar.stop();
      throw new RuntimeFailure(`${settings.task}/${session.request.loss.id} lr ${formatLearningRate(session.request.learningRate)}: ${reason} (run marked failed)`);
    }
    lossSum += value;
    bar.update(it + 1, { loss: value.toFixed(4), lr: session.schedule.learningRate.toExponential(1) });
  }
  bar.stop();
  return lossSum / iterations;
}

/** The validation steps of the session's current epoch: mean loss and global Dice per class over the batches. */
export async function validateEpoch(session: RunSession): Promise<ValidationResult> {
  const { model, stream, loss } = session;
  const valBatches = session.settings.valBatches;
  const numClasses = session.data.plans.numClasses;
  let meanLoss = 0;
  const tp = new Array<number>(numClasses).fill(0);
  const fp = new Array<number>(numClasses).fill(0);
  const fn = new Array<number>(numClasses).fill(0);
  for (let b = 0; b < valBatches; b++) {
    const { batch } = await stream.next();
    const { x, y, dm } = batchTensors(batch);
    // The step of the epoch's last training iteration: validation sees that iteration's loss
    // weights, as the study validates before its end-of-epoch update.
    const ctx = lossContext(session, dm, session.optimizer.iterations - 1);
    const [l, tpT, fpT, fnT] = tf.tidy(() => {
      const logits = model.apply(x, false)[0] as tf.Tensor5D;
      const lv = loss.fn(logits, y, ctx);
      const pred = tf.oneHot(tf.argMax(logits, -1).flatten(), numClasses);
      const truth = tf.oneHot(y.flatten(), numClasses);
      const hits = pred.mul(truth).sum(0);
      return [lv, hits, pred.sum(0).sub(hits), truth.sum(0).sub(hits)];
    });
    const [lv, tpv, fpv, fnv] = await Promise.all([l.data(), tpT.data(), fpT.data(), fnT.data()]);
    tf.dispose([l, tpT, fpT, fnT, x, y, ...(dm !== undefined ? [dm] : [])]);
    meanLoss += (lv[0] as number) / valBatches;
    for (let c = 0; c < numClasses; c++) {
      tp[c] += tpv[c] as number;
      fp[c] += fpv[c] as number;
      fn[c] += fnv[c] as number;
    }
  }
  const dicePerClass = globalDice(tp, fp, fn);
  return { loss: meanLoss, dicePerClass, dice: meanOfPresent(dicePerClass) };
}
