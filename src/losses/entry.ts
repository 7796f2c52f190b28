/**
 * A catalogue entry: a loss's definition plus how to build its function from resolved options.
 * The catalogue lists (./catalogue/<family>.ts) hold one entry per loss; ./registry.ts assembles
 * them. This file also holds the plumbing every entry shares: the loss function wrapper (shape
 * check, flattening, one-hot, lazy softmax, tf.tidy) and the class weights of WCE-type terms.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../util/errors.js';
import { checkShapes, classCounts, flatLogits, inverseClassFrequencies, oneHotFlat } from './common.js';
import type { ConfiguredLoss, LossDefinition } from './definition.js';
import type { LossOptions } from './options.js';
import type { LossContext, LossFunction } from './types.js';

export interface CatalogueEntry extends LossDefinition {
  /** The loss function (and what else the loss tells training) from its resolved options. */
  build(o: LossOptions): Omit<ConfiguredLoss, 'id' | 'options'>;
  /**
   * Optional last step of option resolution, after defaults and user values are merged and
   * type-checked: reconcile options that constrain each other (DiceBD: alpha_min ≤ alpha_start). The
   * result is what `ConfiguredLoss.options` (and so a run's config.json) records.
   */
  resolveOptions?(o: LossOptions): LossOptions;
}

/** What every loss sees: flattened logits z, one-hot g and (lazily) softmax p, all [B, V, C]. */
export interface LossInputs {
  z: tf.Tensor3D;
  g: tf.Tensor3D;
  p: () => tf.Tensor3D;
  labels: tf.Tensor4D;
  numClasses: number;
  context: LossContext | undefined;
}

export type Evaluator = (x: LossInputs) => tf.Scalar;

/** A `LossFunction` from an evaluator: shape check, flattening, one-hot and lazy softmax in one tf.tidy. */
export function makeLossFunction(evaluate: Evaluator): LossFunction {
  return (logits, labels, context) => {
    checkShapes(logits, labels);
    return tf.tidy(() => {
      const numClasses = logits.shape[4];
      const z = flatLogits(logits);
      const g = oneHotFlat(labels, numClasses);
      let p: tf.Tensor3D | undefined;
      return evaluate({ z, g, p: () => (p ??= tf.softmax(z)), labels, numClasses, context });
    });
  };
}

/** `build` of a loss that is only a function (no distance map, no schedule). */
export const plain = (evaluate: (o: LossOptions) => Evaluator) => (o: LossOptions) => ({ fn: makeLossFunction(evaluate(o)) });

/** class_weights option, or the inverse class frequencies of this batch when unset. */
export function classWeightsFor(o: LossOptions, x: LossInputs): number[] {
  const w = o['class_weights'] as number[] | undefined;
  if (w !== undefined) {
    if (w.length !== x.numClasses) throw new UsageError(`loss option class_weights has ${w.length} entries for ${x.numClasses} classes`);
    return w;
  }
  return inverseClassFrequencies(classCounts(x.labels.dataSync(), x.numClasses));
}

/** (D, H, W) of a label batch [B, D, H, W]. */
export function volumeOf(labels: tf.Tensor4D): [number, number, number] {
  return [labels.shape[1], labels.shape[2], labels.shape[3]];
}
