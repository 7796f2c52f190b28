/**
 * Every metric of every label of one case: compare each label's masks once (./surface.ts) and
 * apply each metric's formula (./metric-descriptors.ts) to the comparison.
 */
import type { Vec3 } from '../util/vec3.js';
import { METRIC_DESCRIPTORS, type MetricName } from './metric-descriptors.js';
import { compareLabel, labelExtents, type LabelData, type LabelExtent } from './surface.js';

/** Metrics of one foreground label of one case: one number per metric, plus the voxel counts. */
export interface CaseMetrics extends Record<MetricName, number> {
  label: number;
  gtVoxels: number;
  predVoxels: number;
  /** |G ∩ P|: the true positives (nnU-Net's TP). */
  intersectionVoxels: number;
  /** Voxels of the volume (TP + FP + FN + TN). */
  voxels: number;
}

/**
 * Every metric for each label of a pair of label volumes (same shape, axis-0-fastest, spacing
 * along the same axes). Voxels equal to a label are that label's foreground.
 */
export function evaluateCase(gt: LabelData, pred: LabelData, shape: Vec3, spacingMm: Vec3, labels: readonly number[], toleranceMm: number): CaseMetrics[] {
  const n = shape[0] * shape[1] * shape[2];
  if (gt.length !== n || pred.length !== n) throw new Error(`evaluateCase: ${gt.length} and ${pred.length} voxels for shape ${shape.join('x')}`);
  const eg = labelExtents(gt, shape, labels);
  const ep = labelExtents(pred, shape, labels);
  return labels.map((label) => {
    const cmp = compareLabel(gt, pred, shape, spacingMm, label, { gt: eg.get(label) as LabelExtent, pred: ep.get(label) as LabelExtent });
    const values = Object.fromEntries(METRIC_DESCRIPTORS.map((d) => [d.name, d.compute(cmp, { toleranceMm })])) as Record<MetricName, number>;
    return { label, ...values, gtVoxels: cmp.gtVoxels, predVoxels: cmp.predVoxels, intersectionVoxels: cmp.intersectionVoxels, voxels: n };
  });
}
