/**
 * Catalogue entries of the stand-alone boundary-based losses (paper §2.3): BD and HD. The study
 * trains them combined with Dice (./compound.ts). Formulas: ../boundary.ts.
 */
import { boundaryLoss, groundTruthMaps, hausdorffLoss, predictionMaps, type HdDistance } from '../boundary.js';
import { makeLossFunction, volumeOf, type CatalogueEntry } from '../entry.js';
import { HD_DISTANCE, str } from '../options.js';

export const BOUNDARY_LOSSES: readonly CatalogueEntry[] = [
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
];
