/**
 * Evaluate one case from its files: read the reference and the prediction as label volumes, check
 * that both hold only declared labels (./label-check.ts) and share the voxel grid
 * (./grid-check.ts), and compute every metric per label (./case-metrics.ts). Used in-process and by
 * the worker threads of ./folders.ts (so everything here is plain data).
 */
import type { Vec3 } from '../util/vec3.js';
import { readNifti } from '../data/nifti.js';
import { applyLabelMap } from '../data/labels.js';
import { InputError } from '../util/errors.js';
import { evaluateCase, type CaseMetrics } from './case-metrics.js';
import { checkSameGrid } from './grid-check.js';
import { checkDeclaredLabels, type DeclaredLabels } from './label-check.js';
import type { LabelData } from './surface.js';

export interface CaseTask {
  caseId: string;
  gtFile: string;
  /** Undefined when the prediction is missing: it is scored as an empty prediction. */
  predFile: string | undefined;
  /** Foreground labels to score, ascending. */
  labels: number[];
  /** The labels the reference and the prediction may contain besides 0. */
  declared: DeclaredLabels;
  toleranceMm: number;
  /** The task's label_map (dataset value → task value), applied to the reference before anything else. */
  referenceLabelMap?: Record<number, number>;
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

/**
 * The foreground labels present in the reference files: the declaration when neither a plan nor
 * `--labels` gives one. A negative value is an error naming the file (0 is the background).
 */
export async function referenceLabels(gtFiles: readonly string[]): Promise<number[]> {
  const all = new Set<number>();
  for (const file of gtFiles) {
    const present = presentLabels((await readNifti(file, { kind: 'label' })).data);
    const negative = present.filter((v) => v < 0);
    if (negative.length > 0) throw new InputError(file, `reference label value(s) ${negative.slice(0, 5).join(', ')}${negative.length > 5 ? ' …' : ''} are negative (labels are 0 = background and positive integers)`);
    for (const v of present) all.add(v);
  }
  return [...all].sort((a, b) => a - b);
}

export async function evaluateCaseFiles(task: CaseTask): Promise<CaseResult> {
  const raw = await readNifti(task.gtFile, { kind: 'label' });
  if (raw.shape.length > 3 && (raw.shape[3] ?? 1) > 1) throw new InputError(task.gtFile, `case ${task.caseId}: ground truth has ${raw.shape[3]} channels, expected a 3D label map`);
  const gt = { ...raw, data: applyLabelMap(raw.data, task.referenceLabelMap) as LabelData };
  checkDeclaredLabels(task.gtFile, 'reference', task.caseId, gt.data, task.declared);
  const shape = gt.shape.slice(0, 3) as Vec3;
  let predData: LabelData;
  if (task.predFile === undefined) {
    predData = new Uint8Array(gt.data.length);
  } else {
    const pred = await readNifti(task.predFile, { kind: 'label' });
    checkSameGrid(task.caseId, gt, task.gtFile, pred, task.predFile);
    checkDeclaredLabels(task.predFile, 'prediction', task.caseId, pred.data, task.declared);
    predData = pred.data;
  }
  return { caseId: task.caseId, metrics: evaluateCase(gt.data, predData, shape, gt.spacingMm, task.labels, task.toleranceMm) };
}
