/**
 * Evaluate one case from its files: read the ground truth and the prediction as label volumes,
 * check that they share the voxel grid (./grid-check.ts), and compute every metric per label
 * (./case-metrics.ts).
 * Used in-process and by the worker threads of ./folders.ts (so everything here is plain data).
 */
import type { Vec3 } from '../util/vec3.js';
import { readNifti } from '../data/nifti.js';
import { InputError } from '../util/errors.js';
import { evaluateCase, type CaseMetrics } from './case-metrics.js';
import { checkSameGrid } from './grid-check.js';
import type { LabelData } from './surface.js';

export interface CaseTask {
  caseId: string;
  gtFile: string;
  /** Undefined when the prediction is missing: it is scored as an empty prediction. */
  predFile: string | undefined;
  /** Labels to score; undefined = every nonzero label present in the ground truth or the prediction. */
  labels: number[] | undefined;
  toleranceMm: number;
}

export interface CaseResult {
  caseId: string;
  /** The labels scored, ascending, each with its metrics. */
  metrics: CaseMetrics[];
}

/** Nonzero values present in a label volume, ascending. */
export function presentLabels(data: LabelData): number[] {
  const seen = new Set<number>();
  if (data instanceof Uint8Array) {
    const flags = new Uint8Array(256);
    for (let i = 0; i < data.length; i++) flags[data[i] as number] = 1;
    for (let v = 1; v < 256; v++) if (flags[v]) seen.add(v);
  } else {
    for (let i = 0; i < data.length; i++) {
      const v = data[i] as number;
      if (v !== 0) seen.add(v);
    }
  }
  return [...seen].sort((a, b) => a - b);
}

export async function evaluateCaseFiles(task: CaseTask): Promise<CaseResult> {
  const gt = await readNifti(task.gtFile, { kind: 'label' });
  if (gt.shape.length > 3 && (gt.shape[3] ?? 1) > 1) throw new InputError(task.gtFile, `case ${task.caseId}: ground truth has ${gt.shape[3]} channels, expected a 3D label map`);
  const shape = gt.shape.slice(0, 3) as Vec3;
  let predData: LabelData;
  if (task.predFile === undefined) {
    predData = new Uint8Array(gt.data.length);
  } else {
    const pred = await readNifti(task.predFile, { kind: 'label' });
    checkSameGrid(task.caseId, gt, task.gtFile, pred, task.predFile);
    predData = pred.data;
  }
  const gtData = gt.data;
  const labels = task.labels ?? [...new Set([...presentLabels(gtData), ...presentLabels(predData)])].sort((a, b) => a - b);
  return { caseId: task.caseId, metrics: evaluateCase(gtData, predData, shape, gt.spacingMm, labels, task.toleranceMm) };
}
