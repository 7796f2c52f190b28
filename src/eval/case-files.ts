/**
 * Evaluate one case from its files: read the ground truth and the prediction as label volumes,
 * check that they share the voxel grid, and compute DSC / NSD / HD95 per label (./metrics.ts).
 * Used in-process and by the worker threads of ./folders.ts (so everything here is plain data).
 */
import type { Volume } from '../data/volume.js';
import type { Vec3 } from '../util/vec3.js';
import { readNifti } from '../data/nifti.js';
import { InputError } from '../util/errors.js';
import { evaluateCase, type CaseMetrics } from './case-metrics.js';
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

/** Relative tolerance for spacings read from two headers (float32 pixdim written by different tools). */
const SPACING_RELATIVE_TOLERANCE = 1e-5;

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

/** Throw an InputError naming the case when prediction and ground truth are on different grids. */
export function checkSameGrid(caseId: string, gt: Volume, pred: Volume, predFile: string): void {
  const g = gt.shape.slice(0, 3).join('x');
  const p = pred.shape.slice(0, 3).join('x');
  if (pred.shape.length > 3 && (pred.shape[3] ?? 1) > 1) throw new InputError(predFile, `case ${caseId}: prediction has ${pred.shape[3]} channels, expected a 3D label map`);
  if (g !== p) throw new InputError(predFile, `case ${caseId}: prediction shape ${p} differs from the ground truth's ${g}`);
  for (let a = 0; a < 3; a++) {
    const sg = gt.spacingMm[a] as number;
    const sp = pred.spacingMm[a] as number;
    if (Math.abs(sg - sp) > SPACING_RELATIVE_TOLERANCE * Math.max(Math.abs(sg), Math.abs(sp))) {
      throw new InputError(predFile, `case ${caseId}: prediction spacing ${pred.spacingMm.join('x')} mm differs from the ground truth's ${gt.spacingMm.join('x')} mm`);
    }
  }
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
    checkSameGrid(task.caseId, gt, pred, task.predFile);
    predData = pred.data;
  }
  const gtData = gt.data;
  const labels = task.labels ?? [...new Set([...presentLabels(gtData), ...presentLabels(predData)])].sort((a, b) => a - b);
  return { caseId: task.caseId, metrics: evaluateCase(gtData, predData, shape, gt.spacingMm, labels, task.toleranceMm) };
}
