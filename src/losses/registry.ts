/**
 * The loss catalogue: every loss of the study and its variants, with metadata, option
 * specifications and defaults that reproduce the released SegLoss code as its trainers called it.
 *
 * `createLoss('topk', { k: 30 })` returns a `ConfiguredLoss` whose `fn` is a pure
 * `LossFunction(logits [B,D,H,W,C], labels [B,D,H,W], context?) → Scalar`. Option names are the
 * same across losses (`batchDice`, `includeBackground`, `smooth`, …). Unknown ids or options are a
 * `UsageError` that lists the valid ones.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../util/errors.js';
import type { LossContext, LossFunction } from './types.js';
import type { DistanceMapKind } from './distance.js';
import { checkShapes, classCounts, flatLogits, inverseClassFrequencies, oneHotFlat } from './common.js';
import {
  crossEntropyLoss,
  focalLoss,
  penalizedCrossEntropyLoss,
  topKLoss,
  topKThresholdLoss,
  weightedCrossEntropyLoss,
  type ThresholdOn,
} from './distribution.js';
import {
  diceLoss,
  focalTverskyLoss,
  generalisedDiceLoss,
  generalisedDiceV1Loss,
  iouLoss,
  penaltyGeneralisedDiceLoss,
  sensitivitySpecificityLoss,
  squaredDiceLoss,
  tverskyLoss,
  type RegionOptions,
} from './region.js';
import { lovaszLoss, type LovaszInput } from './lovasz.js';
import { boundaryLoss, groundTruthMaps, hausdorffLoss, predictionMaps, type HdDistance } from './boundary.js';
import { diceBoundaryLoss, diceCeLoss, diceFocalLoss, diceHausdorffLoss, diceTopKLoss, expLogLoss, type EllExponentOn } from './compound.js';

export type LossOptionValue = number | boolean | string | number[];
export type LossOptions = Record<string, LossOptionValue>;
export type LossFamily = 'distribution' | 'region' | 'boundary' | 'compound';

export interface LossOptionSpec {
  name: string;
  type: 'number' | 'boolean' | 'choice' | 'numbers';
  /** Default value; undefined means "unset" (documented in the description). */
  default: LossOptionValue | undefined;
  description: string;
  choices?: readonly string[];
  min?: number;
  max?: number;
}

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
  /** Weight of the first term at an epoch (DiceBD's α schedule). */
  weightAtEpoch?(epoch: number): number;
}

// ---------------------------------------------------------------------------------------------
// Option specifications shared by several losses.

const SMOOTH: LossOptionSpec = { name: 'smooth', type: 'number', default: 1e-5, min: 0, description: 'smoothing term s (the trainers pass 1e-5; constructor default 1)' };
const BATCH_DICE = (d: boolean): LossOptionSpec => ({
  name: 'batchDice',
  type: 'boolean',
  default: d,
  description: 'sum the soft counts over the batch too (nnU-Net batch Dice); training sets it from the plan',
});
const INCLUDE_BG: LossOptionSpec = { name: 'includeBackground', type: 'boolean', default: false, description: 'keep class 0 in the class mean (trainers: do_bg=False)' };
const REGION = (batch = true): LossOptionSpec[] => [BATCH_DICE(batch), INCLUDE_BG, SMOOTH];
const CLASS_WEIGHTS: LossOptionSpec = {
  name: 'classWeights',
  type: 'numbers',
  default: undefined,
  description: 'per-class CE weights; training sets the inverse class frequencies of the training set (unset: inverse frequencies of the batch)',
};
const K_PERCENT = (k: number): LossOptionSpec => ({ name: 'k', type: 'number', default: k, min: 0, max: 100, description: 'percentage of the worst voxels of the batch kept' });
const HD_DISTANCE: LossOptionSpec = {
  name: 'distance',
  type: 'choice',
  default: 'interior',
  choices: ['interior', 'unsigned'],
  description: "'interior': EDT inside the masks only (released code); 'unsigned': distance to the boundary on both sides (Karimi & Salcudean)",
};
const DICEBD_SCHEDULE: LossOptionSpec[] = [
  { name: 'alphaStart', type: 'number', default: 1, min: 0, max: 1, description: 'Dice weight α at epoch 0 (paper §3.2; 0.01 gives the released fixed 0.01/0.99)' },
  { name: 'alphaStep', type: 'number', default: 0.01, min: 0, description: 'α decrease per epoch' },
  { name: 'alphaMin', type: 'number', default: 0.01, min: 0, max: 1, description: 'α floor' },
];

// ---------------------------------------------------------------------------------------------
// Evaluation plumbing: every loss sees flattened logits z, one-hot g and (lazily) softmax p.

interface Inputs {
  z: tf.Tensor3D;
  g: tf.Tensor3D;
  p: () => tf.Tensor3D;
  labels: tf.Tensor4D;
  numClasses: number;
  context: LossContext | undefined;
}

type Evaluator = (x: Inputs) => tf.Scalar;

function makeLossFunction(evaluate: Evaluator): LossFunction {
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

const num = (o: LossOptions, k: string): number => o[k] as number;
const bool = (o: LossOptions, k: string): boolean => o[k] as boolean;
const str = (o: LossOptions, k: string): string => o[k] as string;
const region = (o: LossOptions): RegionOptions => ({ batchDice: bool(o, 'batchDice'), includeBackground: bool(o, 'includeBackground'), smooth: num(o, 'smooth') });

/** classWeights option, or the inverse class frequencies of this batch when unset. */
function weightsFor(o: LossOptions, x: Inputs): number[] {
  const w = o['classWeights'] as number[] | undefined;
  if (w !== undefined) {
    if (w.length !== x.numClasses) throw new UsageError(`loss option classWeights has ${w.length} entries for ${x.numClasses} classes`);
    return w;
  }
  return inverseClassFrequencies(classCounts(x.labels.dataSync(), x.numClasses));
}

function volumeOf(labels: tf.Tensor4D): [number, number, number] {
  return [labels.shape[1], labels.shape[2], labels.shape[3]];
}

function alphaSchedule(o: LossOptions): (epoch: number) => number {
  const start = num(o, 'alphaStart');
  const step = num(o, 'alphaStep');
  const min = Math.min(num(o, 'alphaMin'), start);
  return (epoch) => Math.max(min, start - step * Math.max(0, epoch));
}

interface Entry extends LossDefinition {
  build(o: LossOptions): Omit<ConfiguredLoss, 'id' | 'options'>;
}

const plain = (evaluate: (o: LossOptions) => Evaluator) => (o: LossOptions) => ({ fn: makeLossFunction(evaluate(o)) });

function topkEntry(id: string, k: number, role: LossDefinition['role'], aliases: string[] = []): Entry {
  return {
    id,
    aliases,
    name: `TopK ${k}%`,
    family: 'distribution',
    paperEquation: 'Eq. 4',
    role,
    options: [K_PERCENT(k)],
    reference: 'TopK_loss.py::TopKLoss(k) (nnU-Net\'s; trainer nnUNetTrainer_TopK10)',
    notes: 'mean CE of the k% worst voxels of the whole batch, K = floor(N·k/100)',
    build: plain((o) => (x) => topKLoss(x.z, x.g, num(o, 'k'))),
  };
}

function thresholdEntry(t: number): Entry {
  const id = `topkt0${Math.round(t * 10)}`;
  return {
    id,
    aliases: [],
    name: `TopK threshold ${t}`,
    family: 'distribution',
    paperEquation: 'Eq. 3',
    role: 'extra',
    options: [
      { name: 'threshold', type: 'number', default: t, min: 0, max: 1, description: 'keep voxels whose probability is below t' },
      { name: 'thresholdOn', type: 'choice', default: 'max', choices: ['max', 'true'], description: "'max': max_c p (released code); 'true': probability of the true class (paper Eq. 3)" },
    ],
    reference: 'ND_Crossentropy.py::TopKThreshold(threshold=t) (no trainer)',
    notes: 'mean CE over voxels with sg[max_c p] < t; 0 when none qualifies (released: NaN)',
    build: plain((o) => (x) => topKThresholdLoss(x.z, x.g, num(o, 'threshold'), str(o, 'thresholdOn') as ThresholdOn)),
  };
}

function diceEntry(id: string, name: string, batch: boolean, squared: boolean, role: LossDefinition['role']): Entry {
  return {
    id,
    aliases: [],
    name,
    family: 'region',
    paperEquation: squared ? 'Eq. 8' : 'Eq. 9',
    role,
    options: [
      ...REGION(batch),
      { name: 'denominator', type: 'choice', default: squared ? 'squared' : 'linear', choices: ['linear', 'squared'], description: "'linear': (2tp+s)/(2tp+fp+fn+s) (SoftDiceLoss); 'squared': 2(Σpg+s)/(Σg²+Σp²+s) (SoftDiceLossV2, Milletari)" },
      { name: 'square', type: 'boolean', default: false, description: "nnU-Net's square flag: square tp, fp, fn element-wise (linear denominator only)" },
    ],
    reference: squared ? 'dice_loss.py::SoftDiceLossV2 (no trainer)' : 'dice_loss.py::SoftDiceLoss (trainer nnUNetTrainer_Dice)',
    notes: 'returns −mean DSC (range [−1, 0]) as the released code does',
    build: plain((o) => (x) => (str(o, 'denominator') === 'squared' ? squaredDiceLoss(x.p(), x.g, region(o)) : diceLoss(x.p(), x.g, region(o), bool(o, 'square')))),
  };
}

const ENTRIES: Entry[] = [
  {
    id: 'ce',
    aliases: [],
    name: 'Cross entropy',
    family: 'distribution',
    paperEquation: 'Eq. 1',
    role: 'study',
    options: [],
    reference: 'ND_Crossentropy.py::CrossentropyND (trainer nnUNetTrainerCE)',
    notes: 'mean over all voxels of the batch; also what the released DistPenalizedCE returns',
    build: plain(() => (x) => crossEntropyLoss(x.z, x.g)),
  },
  {
    id: 'wce',
    aliases: [],
    name: 'Weighted cross entropy',
    family: 'distribution',
    paperEquation: 'Eq. 2',
    role: 'study',
    options: [CLASS_WEIGHTS],
    reference: 'ND_Crossentropy.py::WeightedCrossEntropyLoss (trainer nnUNetTrainerWCE, hard-coded weights)',
    notes: 'Σ w_y CE / Σ w_y (torch weighted mean); weights = inverse class frequencies of the training set',
    build: plain((o) => (x) => weightedCrossEntropyLoss(x.z, x.g, weightsFor(o, x))),
  },
  topkEntry('topk', 10, 'study', ['topk10']),
  topkEntry('topk30', 30, 'variant'),
  topkEntry('topk50', 50, 'variant'),
  topkEntry('topk70', 70, 'variant'),
  topkEntry('topk90', 90, 'variant'),
  thresholdEntry(0.1),
  thresholdEntry(0.3),
  thresholdEntry(0.5),
  thresholdEntry(0.7),
  thresholdEntry(0.9),
  {
    id: 'focal',
    aliases: [],
    name: 'Focal',
    family: 'distribution',
    paperEquation: 'Eq. 5',
    role: 'study',
    options: [
      { name: 'alpha', type: 'number', default: 0.5, min: 0, max: 1, description: 'class balance: α on the background, 1−α on the other classes' },
      { name: 'gamma', type: 'number', default: 2, min: 0, description: 'focusing exponent γ' },
      SMOOTH,
    ],
    reference: 'focal_loss.py::FocalLoss(apply_nonlin=softmax, alpha=0.5, gamma=2, smooth=1e-5) (trainer nnUNetTrainer_Focal)',
    notes: 'p_t uses the clamped one-hot and +s; α = 0.5 only halves the loss',
    build: plain((o) => (x) => focalLoss(x.z, x.g, num(o, 'alpha'), num(o, 'gamma'), num(o, 'smooth'))),
  },
  {
    id: 'pce',
    aliases: [],
    name: 'Distance map penalised CE',
    family: 'distribution',
    paperEquation: 'Eq. 6',
    role: 'study',
    options: [],
    reference: 'ND_Crossentropy.py::DistPenalizedCE + compute_edts_forPenalizedLoss (no trainer)',
    notes: 'mean CE·D with D = 1 + inverted, normalised EDTs (the released class computes D but returns plain CE)',
    build: () => ({
      fn: makeLossFunction((x) => {
        const d = groundTruthMaps(x.labels, x.numClasses, 'penalty', x.context);
        return penalizedCrossEntropyLoss(x.z, x.g, tf.reshape(d, [d.shape[0], d.shape[1]]) as tf.Tensor2D);
      }),
      distanceMaps: 'penalty',
    }),
  },
  {
    id: 'ss',
    aliases: [],
    name: 'Sensitivity-specificity',
    family: 'region',
    paperEquation: 'Eq. 7',
    role: 'study',
    options: [...REGION(), { name: 'r', type: 'number', default: 0.1, min: 0, max: 1, description: 'weight of the foreground (sensitivity) term, w in Eq. 7' }],
    reference: 'dice_loss.py::SSLoss (trainer nnUNetTrainer_SS)',
    notes: 'r = 0.1 hard-coded in the released code (NiftyNet: 0.05)',
    build: plain((o) => (x) => sensitivitySpecificityLoss(x.p(), x.g, region(o), num(o, 'r'))),
  },
  diceEntry('dice', 'Dice (batch)', true, false, 'study'),
  diceEntry('dicesq', 'Dice squared denominator (batch)', true, true, 'variant'),
  diceEntry('dicesample', 'Dice (sample)', false, false, 'variant'),
  diceEntry('dicesamplesq', 'Dice squared denominator (sample)', false, true, 'variant'),
  {
    id: 'iou',
    aliases: [],
    name: 'IoU (soft Jaccard)',
    family: 'region',
    paperEquation: 'Eq. 10',
    role: 'study',
    options: REGION(),
    reference: 'dice_loss.py::IoULoss (trainer nnUNetTrainer_Iou)',
    notes: '−mean (tp+s)/(tp+fp+fn+s)',
    build: plain((o) => (x) => iouLoss(x.p(), x.g, region(o))),
  },
  {
    id: 'lovasz',
    aliases: [],
    name: 'Lovász',
    family: 'region',
    paperEquation: 'Eqs. 11-13',
    role: 'study',
    options: [{ name: 'input', type: 'choice', default: 'logits', choices: ['logits', 'softmax'], description: "'logits': what the released trainer feeds; 'softmax': probabilities (Berman et al., paper Eq. 11)" }],
    reference: 'lovasz_loss.py::LovaszSoftmax (trainer nnUNetTrainer_Lovasz, fed raw logits)',
    notes: 'all classes incl. absent ones, whole batch flattened; fine-tuned after CE pre-training (paper §3.2)',
    schedule: { pretrainLoss: 'ce', finetuneRates: false },
    build: (o) => ({ fn: makeLossFunction((x) => lovaszLoss(x.z, x.g, x.labels, str(o, 'input') as LovaszInput)) }),
  },
  {
    id: 'tversky',
    aliases: [],
    name: 'Tversky',
    family: 'region',
    paperEquation: 'Eq. 14',
    role: 'study',
    options: [
      ...REGION(),
      { name: 'alpha', type: 'number', default: 0.3, min: 0, description: 'weight of false positives' },
      { name: 'beta', type: 'number', default: 0.7, min: 0, description: 'weight of false negatives' },
    ],
    reference: 'dice_loss.py::TverskyLoss (trainer nnUNetTrainer_Tversky)',
    notes: '−mean (tp+s)/(tp+α fp+β fn+s)',
    build: plain((o) => (x) => tverskyLoss(x.p(), x.g, region(o), num(o, 'alpha'), num(o, 'beta'))),
  },
  {
    id: 'gdice',
    aliases: [],
    name: 'Generalised Dice',
    family: 'region',
    paperEquation: 'Eq. 15',
    role: 'study',
    options: [
      { name: 'variant', type: 'choice', default: 'v2', choices: ['v2', 'v1'], description: "'v2': GDiceLossV2 (batch, as trained); 'v1': GDiceLoss (per sample, w = 1/(G+1e-10)²)" },
      SMOOTH,
    ],
    reference: 'dice_loss.py::GDiceLossV2 (trainer nnUNetTrainer_GDice)',
    notes: 'background included; absent class gets w = 1/s and the loss goes to ~1',
    build: plain((o) => (x) => (str(o, 'variant') === 'v1' ? generalisedDiceV1Loss(x.p(), x.g, num(o, 'smooth')) : generalisedDiceLoss(x.p(), x.g, num(o, 'smooth')))),
  },
  {
    id: 'focaltversky',
    aliases: [],
    name: 'Focal Tversky',
    family: 'region',
    paperEquation: 'Eq. 16',
    role: 'study',
    options: [
      ...REGION(),
      { name: 'alpha', type: 'number', default: 0.3, min: 0, description: 'Tversky weight of false positives' },
      { name: 'beta', type: 'number', default: 0.7, min: 0, description: 'Tversky weight of false negatives' },
      { name: 'gamma', type: 'number', default: 0.75, min: 0, description: 'exponent (1/γ of Eq. 16 with γ = 4/3)' },
      { name: 'perClass', type: 'boolean', default: false, description: 'apply the exponent per class before the mean (Abraham & Khan) instead of after (released code)' },
    ],
    reference: 'dice_loss.py::FocalTversky_loss (trainer nnUNetTrainer_FocalTversky)',
    notes: '(1 − mean TI)^0.75',
    build: plain((o) => (x) => focalTverskyLoss(x.p(), x.g, region(o), num(o, 'alpha'), num(o, 'beta'), num(o, 'gamma'), bool(o, 'perClass'))),
  },
  {
    id: 'asym',
    aliases: [],
    name: 'Asymmetric similarity',
    family: 'region',
    paperEquation: 'Eq. 17',
    role: 'study',
    options: [...REGION(), { name: 'beta', type: 'number', default: 1.5, min: 0, description: 'F-beta β: FN weight β²/(1+β²), FP weight 1/(1+β²)' }],
    reference: 'dice_loss.py::AsymLoss (trainer nnUNetTrainer_Asym)',
    notes: '−mean (tp+s)/(tp + w fn + (1−w) fp + s), w = β²/(1+β²)',
    build: plain((o) => (x) => {
      const b2 = num(o, 'beta') ** 2;
      const w = b2 / (1 + b2);
      return tverskyLoss(x.p(), x.g, region(o), 1 - w, w);
    }),
  },
  {
    id: 'pgdice',
    aliases: [],
    name: 'Penalty generalised Dice',
    family: 'region',
    paperEquation: 'Eq. 18',
    role: 'study',
    options: [{ name: 'k', type: 'number', default: 2.5, min: 0, description: 'penalty coefficient' }, SMOOTH],
    reference: 'dice_loss.py::PenaltyGDiceLoss (trainer nnUNetTrainer_pGDice; its kwargs crash, run with smooth=1e-5)',
    notes: 'L_GD/(1 + k(1 − L_GD)) on the per-sample GDice v1',
    build: plain((o) => (x) => penaltyGeneralisedDiceLoss(x.p(), x.g, num(o, 'smooth'), num(o, 'k'))),
  },
  {
    id: 'bd',
    aliases: [],
    name: 'Boundary',
    family: 'boundary',
    paperEquation: 'Eq. 20',
    role: 'extra',
    options: [],
    reference: 'boundary_loss.py::BDLoss + compute_sdf',
    notes: 'mean over B×(C−1)×V of p·φ; on its own for experiments, the study trains DiceBD',
    build: () => ({
      fn: makeLossFunction((x) => boundaryLoss(x.p(), groundTruthMaps(x.labels, x.numClasses, 'signed', x.context))),
      distanceMaps: 'signed',
    }),
  },
  {
    id: 'hd',
    aliases: [],
    name: 'Hausdorff distance',
    family: 'boundary',
    paperEquation: 'Eq. 21',
    role: 'extra',
    options: [HD_DISTANCE],
    reference: 'boundary_loss.py::HDLoss + compute_gt_dtm/compute_pred_dtm',
    notes: 'mean over B×(C−1)×V of (p−g)²(d_P²+d_G²); on its own for experiments, the study trains DiceHD',
    build: (o) => {
      const kind = str(o, 'distance') as HdDistance;
      return {
        fn: makeLossFunction((x) => {
          const p = x.p();
          const gt = groundTruthMaps(x.labels, x.numClasses, kind, x.context);
          return hausdorffLoss(p, x.g, gt, predictionMaps(p, volumeOf(x.labels), kind, x.context?.spacingMm));
        }),
        distanceMaps: kind,
      };
    },
  },
  {
    id: 'dicece',
    aliases: [],
    name: 'Dice + CE',
    family: 'compound',
    paperEquation: 'Eq. 22',
    role: 'study',
    options: REGION(),
    reference: 'dice_loss.py::DC_and_CE_loss (nnU-Net default trainer)',
    notes: 'CE − mean DSC',
    build: plain((o) => (x) => diceCeLoss(x.z, x.p(), x.g, region(o))),
  },
  {
    id: 'ell',
    aliases: [],
    name: 'Exponential logarithmic',
    family: 'compound',
    paperEquation: 'Eq. 23',
    role: 'study',
    options: [
      ...REGION(),
      CLASS_WEIGHTS,
      { name: 'wDice', type: 'number', default: 0.8, min: 0, description: 'weight of the Dice term' },
      { name: 'wCe', type: 'number', default: 0.2, min: 0, description: 'weight of the CE term' },
      { name: 'gamma', type: 'number', default: 0.3, min: 0, description: 'exponent γ' },
      { name: 'exponentOn', type: 'choice', default: 'meanDice', choices: ['meanDice', 'perClass'], description: "'meanDice': on the mean Dice, none on CE (released code); 'perClass': per class Dice and on CE (Wong et al.)" },
    ],
    reference: 'dice_loss.py::ExpLog_loss (trainer nnUNetTrainer_ExpLog)',
    notes: '0.8(−ln mean DSC)^0.3 + 0.2 WCE',
    build: plain((o) => (x) => expLogLoss(x.z, x.p(), x.g, region(o), weightsFor(o, x), num(o, 'wDice'), num(o, 'wCe'), num(o, 'gamma'), str(o, 'exponentOn') as EllExponentOn)),
  },
  {
    id: 'dicefocal',
    aliases: [],
    name: 'Dice + Focal',
    family: 'compound',
    paperEquation: 'Eq. 24',
    role: 'study',
    options: [
      ...REGION(),
      { name: 'alpha', type: 'number', default: 0.5, min: 0, max: 1, description: 'focal class balance' },
      { name: 'gamma', type: 'number', default: 2, min: 0, description: 'focal exponent' },
    ],
    reference: 'dice_loss.py::DC_and_Focal_loss (SegLossOdyssey V2 trainer)',
    notes: 'Focal − mean DSC (smooth shared by both terms)',
    build: plain((o) => (x) => diceFocalLoss(x.z, x.p(), x.g, region(o), num(o, 'alpha'), num(o, 'gamma'))),
  },
  {
    id: 'dicetopk',
    aliases: [],
    name: 'Dice + TopK',
    family: 'compound',
    paperEquation: 'Eq. 25',
    role: 'study',
    options: [...REGION(), K_PERCENT(10)],
    reference: 'dice_loss.py::DC_and_topk_loss (trainer nnUNetTrainer_DiceTopK10)',
    notes: 'TopK10 − mean DSC',
    build: plain((o) => (x) => diceTopKLoss(x.z, x.p(), x.g, region(o), num(o, 'k'))),
  },
  {
    id: 'dicebd',
    aliases: [],
    name: 'Dice + Boundary',
    family: 'compound',
    paperEquation: '§3.2 (Eqs. 9, 20)',
    role: 'study',
    options: [...REGION(), ...DICEBD_SCHEDULE],
    reference: 'boundary_loss.py::DC_and_BD_loss (SegLossOdyssey nnUNetTrainer_DiceBD)',
    notes: 'α(1 − DSC) + (1 − α)BD, α from 1 down 0.01/epoch to 0.01; after Dice pre-training',
    schedule: { pretrainLoss: 'dice', finetuneRates: true },
    build: (o) => {
      const schedule = alphaSchedule(o);
      return {
        fn: makeLossFunction((x) => diceBoundaryLoss(x.p(), x.g, groundTruthMaps(x.labels, x.numClasses, 'signed', x.context), region(o), schedule(x.context?.epoch ?? 0))),
        distanceMaps: 'signed',
        weightAtEpoch: schedule,
      };
    },
  },
  {
    id: 'dicehd',
    aliases: [],
    name: 'Dice + Hausdorff',
    family: 'compound',
    paperEquation: '§3.2 (Eqs. 9, 21)',
    role: 'study',
    options: [...REGION(), HD_DISTANCE],
    reference: 'boundary_loss.py::DC_and_HD_loss (SegLossOdyssey nnUNetTrainer_DiceHD)',
    notes: 'a(1 − DSC) + HD, a = sg[HD/(1 − DSC + 1e-5)] per batch; after Dice pre-training',
    schedule: { pretrainLoss: 'dice', finetuneRates: true },
    build: (o) => {
      const kind = str(o, 'distance') as HdDistance;
      return {
        fn: makeLossFunction((x) => {
          const p = x.p();
          const gt = groundTruthMaps(x.labels, x.numClasses, kind, x.context);
          return diceHausdorffLoss(p, x.g, gt, predictionMaps(p, volumeOf(x.labels), kind, x.context?.spacingMm), region(o));
        }),
        distanceMaps: kind,
      };
    },
  },
];

const BY_ID = new Map<string, Entry>();
for (const e of ENTRIES) {
  BY_ID.set(e.id, e);
  for (const a of e.aliases) BY_ID.set(a, e);
}

/** Canonical loss ids, in catalogue order (aliases such as topk10 are accepted by createLoss too). */
export const LOSS_IDS: readonly string[] = ENTRIES.map((e) => e.id);

/** Metadata of every loss (no functions), for `segloss losses` and documentation. */
export function listLosses(): LossDefinition[] {
  return ENTRIES.map(({ build: _build, ...def }) => ({ ...def, options: def.options.map((s) => ({ ...s })), ...(def.schedule !== undefined ? { schedule: { ...def.schedule } } : {}) }));
}

export function getLossDefinition(id: string): LossDefinition {
  const e = BY_ID.get(id);
  if (e === undefined) throw new UsageError(`unknown loss '${id}' (valid: ${[...BY_ID.keys()].join(', ')})`);
  const { build: _build, ...def } = e;
  return def;
}

function coerce(lossId: string, spec: LossOptionSpec, value: LossOptionValue): LossOptionValue {
  const bad = (why: string): never => {
    throw new UsageError(`loss '${lossId}' option ${spec.name}: ${why}`);
  };
  switch (spec.type) {
    case 'number': {
      const v = typeof value === 'string' ? Number(value) : value;
      if (typeof v !== 'number' || !Number.isFinite(v)) return bad(`expected a number, got '${String(value)}'`);
      if (spec.min !== undefined && v < spec.min) return bad(`must be ≥ ${spec.min}, got ${v}`);
      if (spec.max !== undefined && v > spec.max) return bad(`must be ≤ ${spec.max}, got ${v}`);
      return v;
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1' || value === 1) return true;
      if (value === 'false' || value === '0' || value === 0) return false;
      return bad(`expected true or false, got '${String(value)}'`);
    }
    case 'choice': {
      const v = String(value);
      if (!spec.choices!.includes(v)) return bad(`expected one of ${spec.choices!.join(', ')}, got '${v}'`);
      return v;
    }
    case 'numbers': {
      const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',').map((s) => Number(s.trim())) : [value];
      if (list.length === 0 || list.some((v) => typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
        return bad(`expected a comma-separated list of non-negative numbers, got '${String(value)}'`);
      }
      return list as number[];
    }
  }
}

/**
 * Configure a loss by id with option overrides (CLI `--loss-opt`, YAML). Unknown ids and options
 * are a UsageError listing the valid ones; values are checked and coerced to the option's type.
 */
export function createLoss(id: string, options: Record<string, LossOptionValue> = {}): ConfiguredLoss {
  const entry = BY_ID.get(id);
  if (entry === undefined) throw new UsageError(`unknown loss '${id}' (valid: ${[...BY_ID.keys()].join(', ')})`);
  const resolved: LossOptions = {};
  for (const spec of entry.options) if (spec.default !== undefined) resolved[spec.name] = spec.default;
  for (const [name, value] of Object.entries(options)) {
    const spec = entry.options.find((s) => s.name === name);
    if (spec === undefined) {
      const valid = entry.options.map((s) => s.name);
      throw new UsageError(`loss '${entry.id}' has no option '${name}' (valid: ${valid.length > 0 ? valid.join(', ') : 'none'})`);
    }
    resolved[name] = coerce(entry.id, spec, value);
  }
  if (entry.id.startsWith('dicebd') && num(resolved, 'alphaMin') > num(resolved, 'alphaStart')) resolved['alphaMin'] = resolved['alphaStart']!;
  return { id: entry.id, options: resolved, ...entry.build(resolved) };
}

/**
 * Parse `--loss-opt key=value` pairs. Numbers become numbers, true/false booleans, comma lists of
 * numbers arrays (classWeights=1,42.8); anything else stays a string (createLoss checks types).
 */
export function parseLossOptions(pairs: string[]): Record<string, LossOptionValue> {
  const out: Record<string, LossOptionValue> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--loss-opt: expected key=value, got '${pair}'`);
    const key = pair.slice(0, eq).trim();
    const raw = pair.slice(eq + 1).trim();
    if (raw === '') throw new UsageError(`--loss-opt ${key}: empty value`);
    let value: LossOptionValue;
    if (raw === 'true' || raw === 'false') value = raw === 'true';
    else if (raw.includes(',') && raw.split(',').every((s) => s.trim() !== '' && Number.isFinite(Number(s)))) value = raw.split(',').map(Number);
    else if (Number.isFinite(Number(raw))) value = Number(raw);
    else value = raw;
    out[key] = value;
  }
  return out;
}

/**
 * Loss options from a configuration file (YAML/JSON mapping such as `lossOptions: {k: 30}`):
 * checks that it is a mapping of numbers, booleans, strings or number lists; `createLoss` then
 * checks names and types against the loss. `source` names the file or key in error messages.
 */
export function lossOptionsFromConfig(raw: unknown, source: string): Record<string, LossOptionValue> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new UsageError(`${source}: loss options must be a mapping of name: value`);
  const out: Record<string, LossOptionValue> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const ok = typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'number'));
    if (!ok) throw new UsageError(`${source}: loss option ${k} must be a number, boolean, string or list of numbers`);
    out[k] = v as LossOptionValue;
  }
  return out;
}

export { inverseClassFrequencies };
