/**
 * Catalogue entries of the region-based losses (paper §2.2): SS, Dice and its variants, IoU,
 * Lovász, Tversky, GDice, Focal Tversky, Asym, pGDice. Formulas: ../region.ts and ../lovasz.ts.
 */
import type { LossDefinition } from '../definition.js';
import { makeLossFunction, plain, type CatalogueEntry } from '../entry.js';
import { lovaszLoss, type LovaszInput } from '../lovasz.js';
import { REGION_OPTIONS, SMOOTH, bool, num, regionOptionsOf, str } from '../options.js';
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
} from '../region.js';

function diceEntry(id: string, name: string, batch: boolean, squared: boolean, role: LossDefinition['role']): CatalogueEntry {
  return {
    id,
    aliases: [],
    name,
    family: 'region',
    paperEquation: squared ? 'Eq. 8' : 'Eq. 9',
    role,
    options: [
      ...REGION_OPTIONS(batch),
      { name: 'denominator', type: 'choice', default: squared ? 'squared' : 'linear', choices: ['linear', 'squared'], description: "'linear': (2tp+s)/(2tp+fp+fn+s) (SoftDiceLoss); 'squared': 2(Σpg+s)/(Σg²+Σp²+s) (SoftDiceLossV2, Milletari)" },
      { name: 'square', type: 'boolean', default: false, description: "nnU-Net's square flag: square tp, fp, fn element-wise (linear denominator only)" },
    ],
    reference: squared ? 'dice_loss.py::SoftDiceLossV2 (no trainer)' : 'dice_loss.py::SoftDiceLoss (trainer nnUNetTrainer_Dice)',
    notes: 'returns −mean DSC (range [−1, 0]) as the released code does',
    build: plain((o) => (x) => (str(o, 'denominator') === 'squared' ? squaredDiceLoss(x.p(), x.g, regionOptionsOf(o)) : diceLoss(x.p(), x.g, regionOptionsOf(o), bool(o, 'square')))),
  };
}

export const REGION_LOSSES: readonly CatalogueEntry[] = [
  {
    id: 'ss',
    aliases: [],
    name: 'Sensitivity-specificity',
    family: 'region',
    paperEquation: 'Eq. 7',
    role: 'study',
    options: [...REGION_OPTIONS(), { name: 'r', type: 'number', default: 0.1, min: 0, max: 1, description: 'weight of the foreground (sensitivity) term, w in Eq. 7' }],
    reference: 'dice_loss.py::SSLoss (trainer nnUNetTrainer_SS)',
    notes: 'r = 0.1 hard-coded in the released code (NiftyNet: 0.05)',
    build: plain((o) => (x) => sensitivitySpecificityLoss(x.p(), x.g, regionOptionsOf(o), num(o, 'r'))),
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
    options: REGION_OPTIONS(),
    reference: 'dice_loss.py::IoULoss (trainer nnUNetTrainer_Iou)',
    notes: '−mean (tp+s)/(tp+fp+fn+s)',
    build: plain((o) => (x) => iouLoss(x.p(), x.g, regionOptionsOf(o))),
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
      ...REGION_OPTIONS(),
      { name: 'alpha', type: 'number', default: 0.3, min: 0, description: 'weight of false positives' },
      { name: 'beta', type: 'number', default: 0.7, min: 0, description: 'weight of false negatives' },
    ],
    reference: 'dice_loss.py::TverskyLoss (trainer nnUNetTrainer_Tversky)',
    notes: '−mean (tp+s)/(tp+α fp+β fn+s)',
    build: plain((o) => (x) => tverskyLoss(x.p(), x.g, regionOptionsOf(o), num(o, 'alpha'), num(o, 'beta'))),
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
      ...REGION_OPTIONS(),
      { name: 'alpha', type: 'number', default: 0.3, min: 0, description: 'Tversky weight of false positives' },
      { name: 'beta', type: 'number', default: 0.7, min: 0, description: 'Tversky weight of false negatives' },
      { name: 'gamma', type: 'number', default: 0.75, min: 0, description: 'exponent (1/γ of Eq. 16 with γ = 4/3)' },
      { name: 'per_class', type: 'boolean', default: false, description: 'apply the exponent per class before the mean (Abraham & Khan) instead of after (released code)' },
    ],
    reference: 'dice_loss.py::FocalTversky_loss (trainer nnUNetTrainer_FocalTversky)',
    notes: '(1 − mean TI)^0.75',
    build: plain((o) => (x) => focalTverskyLoss(x.p(), x.g, regionOptionsOf(o), num(o, 'alpha'), num(o, 'beta'), num(o, 'gamma'), bool(o, 'per_class'))),
  },
  {
    id: 'asym',
    aliases: [],
    name: 'Asymmetric similarity',
    family: 'region',
    paperEquation: 'Eq. 17',
    role: 'study',
    options: [...REGION_OPTIONS(), { name: 'beta', type: 'number', default: 1.5, min: 0, description: 'F-beta β: FN weight β²/(1+β²), FP weight 1/(1+β²)' }],
    reference: 'dice_loss.py::AsymLoss (trainer nnUNetTrainer_Asym)',
    notes: '−mean (tp+s)/(tp + w fn + (1−w) fp + s), w = β²/(1+β²)',
    build: plain((o) => (x) => {
      const b2 = num(o, 'beta') ** 2;
      const w = b2 / (1 + b2);
      return tverskyLoss(x.p(), x.g, regionOptionsOf(o), 1 - w, w);
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
];
