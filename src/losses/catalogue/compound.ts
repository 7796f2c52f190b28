/**
 * Catalogue entries of the compound losses (paper §2.4 and §3.2): DiceCE, ELL, DiceFocal,
 * DiceTopK, and the two fine-tuning losses DiceBD (with its α schedule) and DiceHD.
 * Formulas: ../compound.ts.
 */
import { groundTruthMaps, predictionMaps, type HdDistance } from '../boundary.js';
import { STUDY_EPOCH_ITERATIONS, diceBoundaryAlpha, diceBoundaryLoss, diceCeLoss, diceFocalLoss, diceHausdorffLoss, diceTopKLoss, expLogLoss, type EllExponentOn } from '../compound.js';
import { classWeightsFor, makeLossFunction, plain, volumeOf, type CatalogueEntry } from '../entry.js';
import { CLASS_WEIGHTS, HD_DISTANCE, K_PERCENT, REGION_OPTIONS, num, regionOptionsOf, str, type LossOptions, type LossOptionSpec } from '../options.js';

// ---------------------------------------------------------------------------------------------
// DiceBD's α schedule (paper §3.2, after Kervadec et al.): α from 1 down by 0.01 per study epoch
// (250 optimizer steps, STUDY_EPOCH_ITERATIONS) to 0.01.

const DICEBD_SCHEDULE: LossOptionSpec[] = [
  { name: 'alpha_start', type: 'number', default: 1, min: 0, max: 1, description: 'Dice weight α at step 0 (paper §3.2; 0.01 gives the released fixed 0.01/0.99)' },
  { name: 'alpha_step', type: 'number', default: 0.01, min: 0, description: `α decrease per study epoch (${STUDY_EPOCH_ITERATIONS} optimizer steps)` },
  { name: 'alpha_min', type: 'number', default: 0.01, min: 0, max: 1, description: 'α floor' },
];

function alphaSchedule(o: LossOptions): (step: number) => number {
  const start = num(o, 'alpha_start');
  const decrease = num(o, 'alpha_step');
  const floor = Math.min(num(o, 'alpha_min'), start);
  return (step) => diceBoundaryAlpha(step, start, decrease, floor);
}

/** A floor above the start means "no decrease": the recorded floor becomes the start. */
function clampAlphaFloor(o: LossOptions): LossOptions {
  return num(o, 'alpha_min') > num(o, 'alpha_start') ? { ...o, alpha_min: o['alpha_start']! } : o;
}

export const COMPOUND_LOSSES: readonly CatalogueEntry[] = [
  {
    id: 'dicece',
    aliases: [],
    name: 'Dice + CE',
    family: 'compound',
    paperEquation: 'Eq. 22',
    role: 'study',
    options: REGION_OPTIONS(),
    reference: 'dice_loss.py::DC_and_CE_loss (nnU-Net default trainer)',
    notes: 'CE − mean DSC',
    build: plain((o) => (x) => diceCeLoss(x.z, x.p(), x.g, regionOptionsOf(o))),
  },
  {
    id: 'ell',
    aliases: [],
    name: 'Exponential logarithmic',
    family: 'compound',
    paperEquation: 'Eq. 23',
    role: 'study',
    options: [
      ...REGION_OPTIONS(),
      CLASS_WEIGHTS,
      { name: 'w_dice', type: 'number', default: 0.8, min: 0, description: 'weight of the Dice term' },
      { name: 'w_ce', type: 'number', default: 0.2, min: 0, description: 'weight of the CE term' },
      { name: 'gamma', type: 'number', default: 0.3, min: 0, description: 'exponent γ' },
      { name: 'exponent_on', type: 'choice', default: 'mean_dice', choices: ['mean_dice', 'per_class'], description: "'mean_dice': on the mean Dice, none on CE (released code); 'per_class': per class Dice and on CE (Wong et al.)" },
    ],
    reference: 'dice_loss.py::ExpLog_loss (trainer nnUNetTrainer_ExpLog)',
    notes: '0.8(−ln mean DSC)^0.3 + 0.2 WCE',
    build: plain((o) => (x) => expLogLoss(x.z, x.p(), x.g, regionOptionsOf(o), classWeightsFor(o, x), num(o, 'w_dice'), num(o, 'w_ce'), num(o, 'gamma'), str(o, 'exponent_on') as EllExponentOn)),
  },
  {
    id: 'dicefocal',
    aliases: [],
    name: 'Dice + Focal',
    family: 'compound',
    paperEquation: 'Eq. 24',
    role: 'study',
    options: [
      ...REGION_OPTIONS(),
      { name: 'alpha', type: 'number', default: 0.5, min: 0, max: 1, description: 'focal class balance' },
      { name: 'gamma', type: 'number', default: 2, min: 0, description: 'focal exponent' },
    ],
    reference: 'dice_loss.py::DC_and_Focal_loss (SegLossOdyssey V2 trainer)',
    notes: 'Focal − mean DSC (smooth shared by both terms)',
    build: plain((o) => (x) => diceFocalLoss(x.z, x.p(), x.g, regionOptionsOf(o), num(o, 'alpha'), num(o, 'gamma'))),
  },
  {
    id: 'dicetopk',
    aliases: [],
    name: 'Dice + TopK',
    family: 'compound',
    paperEquation: 'Eq. 25',
    role: 'study',
    options: [...REGION_OPTIONS(), K_PERCENT(10)],
    reference: 'dice_loss.py::DC_and_topk_loss (trainer nnUNetTrainer_DiceTopK10)',
    notes: 'TopK10 − mean DSC',
    build: plain((o) => (x) => diceTopKLoss(x.z, x.p(), x.g, regionOptionsOf(o), num(o, 'k'))),
  },
  {
    id: 'dicebd',
    aliases: [],
    name: 'Dice + Boundary',
    family: 'compound',
    paperEquation: '§3.2 (Eqs. 9, 20)',
    role: 'study',
    options: [...REGION_OPTIONS(), ...DICEBD_SCHEDULE],
    reference: 'boundary_loss.py::DC_and_BD_loss (SegLossOdyssey nnUNetTrainer_DiceBD)',
    notes: `α(1 − DSC) + (1 − α)BD, α from 1 down 0.01 per study epoch (${STUDY_EPOCH_ITERATIONS} optimizer steps) to 0.01; after Dice pre-training`,
    schedule: { pretrainLoss: 'dice', finetuneRates: true },
    resolveOptions: clampAlphaFloor,
    build: (o) => {
      const schedule = alphaSchedule(o);
      return {
        fn: makeLossFunction((x) => diceBoundaryLoss(x.p(), x.g, groundTruthMaps(x.labels, x.numClasses, 'signed', x.context), regionOptionsOf(o), schedule(x.context?.step ?? 0))),
        distanceMaps: 'signed',
        weightAtStep: schedule,
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
    options: [...REGION_OPTIONS(), HD_DISTANCE],
    reference: 'boundary_loss.py::DC_and_HD_loss (SegLossOdyssey nnUNetTrainer_DiceHD)',
    notes: 'a(1 − DSC) + HD, a = sg[HD/(1 − DSC + 1e-5)] per batch; after Dice pre-training',
    schedule: { pretrainLoss: 'dice', finetuneRates: true },
    build: (o) => {
      const kind = str(o, 'distance') as HdDistance;
      return {
        fn: makeLossFunction((x) => {
          const p = x.p();
          const gt = groundTruthMaps(x.labels, x.numClasses, kind, x.context);
          return diceHausdorffLoss(p, x.g, gt, predictionMaps(p, volumeOf(x.labels), kind, x.context?.spacingMm), regionOptionsOf(o));
        }),
        distanceMaps: kind,
      };
    },
  },
];
