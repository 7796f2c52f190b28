/**
 * What the catalogue says about a loss (`LossDefinition`: metadata, options, special schedule) and
 * what `createLoss` returns (`ConfiguredLoss`: resolved options and the loss function).
 */
import type { DistanceMapKind } from './distance.js';
import type { LossOptions, LossOptionSpec } from './options.js';
import type { LossFunction } from './types.js';

export type LossFamily = 'distribution' | 'region' | 'boundary' | 'compound';

export interface LossDefinition {
  id: string;
  /** Other ids that select the same loss (e.g. topk10 for topk). */
  aliases: string[];
  name: string;
  family: LossFamily;
  /** Equation number in Ma et al. 2021 (e.g. "Eq. 4"), or the section for schedules. */
  paperEquation: string;
  /** One of the 20 losses of Table 2 ('study'), one of the 7 ranked variants ('variant'), or 'extra'. */
  role: 'study' | 'variant' | 'extra';
  options: LossOptionSpec[];
  /** The released code this reproduces (file::class, trainer). */
  reference: string;
  notes: string;
  /** The study's special schedule (paper §3.2), when the loss is not plug-and-play. */
  schedule?: LossSchedule;
}

/**
 * A special schedule of the study (paper §3.2): the loss fine-tunes a model first trained with
 * `pretrainLoss` (Lovász ← CE, DiceBD/DiceHD ← Dice). `finetuneRates`: the learning-rate search
 * uses the fine-tuning rates of footnote 7 ({3e-4, 3e-5, 3e-6, 1e-5, 1e-6}; the profile's
 * `finetune_lr_search`, a benchmark's `finetune_learning_rates`) instead of the training ones.
 * A fact about the loss, not about its options: read it with `getLossDefinition(id).schedule`.
 */
export interface LossSchedule {
  pretrainLoss: string;
  finetuneRates: boolean;
}

export interface ConfiguredLoss {
  id: string;
  options: LossOptions;
  fn: LossFunction;
  /** Kind of CPU-computed map the loss reads from context.distanceMaps (it computes it itself when absent). */
  distanceMaps?: DistanceMapKind;
  /**
   * Weight of the first term at an optimizer step of the training stage (DiceBD's α; the step as
   * in `LossContext.step`).
   */
  weightAtStep?(step: number): number;
}
