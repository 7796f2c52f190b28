/**
 * Catalogue entries of the distribution-based losses (paper §2.1): CE, WCE, TopK (percentage and
 * threshold), Focal, pCE. Formulas: ../distribution.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { groundTruthMaps } from '../boundary.js';
import { crossEntropyLoss, focalLoss, penalizedCrossEntropyLoss, topKLoss, topKThresholdLoss, weightedCrossEntropyLoss, type ThresholdOn } from '../distribution.js';
import type { LossDefinition } from '../definition.js';
import { classWeightsFor, makeLossFunction, plain, type CatalogueEntry } from '../entry.js';
import { CLASS_WEIGHTS, K_PERCENT, SMOOTH, num, str } from '../options.js';

function topkEntry(id: string, k: number, role: LossDefinition['role'], aliases: string[] = []): CatalogueEntry {
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

function thresholdEntry(t: number): CatalogueEntry {
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
      { name: 'threshold_on', type: 'choice', default: 'max', choices: ['max', 'true'], description: "'max': max_c p (released code); 'true': probability of the true class (paper Eq. 3)" },
    ],
    reference: 'ND_Crossentropy.py::TopKThreshold(threshold=t) (no trainer)',
    notes: 'mean CE over voxels with sg[max_c p] < t; 0 when none qualifies (released: NaN)',
    build: plain((o) => (x) => topKThresholdLoss(x.z, x.g, num(o, 'threshold'), str(o, 'threshold_on') as ThresholdOn)),
  };
}

export const DISTRIBUTION_LOSSES: readonly CatalogueEntry[] = [
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
    build: plain((o) => (x) => weightedCrossEntropyLoss(x.z, x.g, classWeightsFor(o, x))),
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
];
