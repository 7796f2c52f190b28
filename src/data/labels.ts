/**
 * A task's labels against a dataset's: the task's `label_map` (dataset value → task value; values
 * not listed keep their value) applied to dataset.json's labels must give exactly the task's label
 * values, else preprocessing would train another task than the one named (e.g. MSD Task03_Liver's
 * 0/1/2 read as a three-class task where the study's liver task is liver + tumour, paper §3.1.1).
 */
import type { TaskLabel } from './tasks.js';
import type { DatasetLabel } from './dataset.js';
import type { VoxelArray } from './volume.js';
import { InputError } from '../util/errors.js';

/** The task value of a dataset value under `labelMap` (identity for values it does not list). */
export function mapLabelValue(labelMap: Readonly<Record<number, number>> | undefined, value: number): number {
  return labelMap?.[value] ?? value;
}

const setText = (labels: readonly { value: number; name: string }[]) => `{${labels.map((l) => `${l.value} ${l.name}`).join(', ')}}`;

/**
 * Throw an InputError (exit 2) naming both label sets when the dataset's labels, mapped by the
 * task's `label_map`, are not exactly the task's labels.
 */
export function checkTaskLabels(file: string, taskId: string, taskLabels: readonly TaskLabel[], labelMap: Readonly<Record<number, number>> | undefined, datasetLabels: readonly DatasetLabel[]): void {
  const mapped = [...new Set(datasetLabels.map((l) => mapLabelValue(labelMap, l.value)))].sort((a, b) => a - b);
  const expected = taskLabels.map((l) => l.value);
  if (mapped.length === expected.length && mapped.every((v, i) => v === expected[i])) return;
  const mapText = labelMap === undefined ? 'no label_map' : `label_map ${Object.entries(labelMap).map(([k, v]) => `${k}→${v}`).join(', ')}`;
  throw new InputError(
    file,
    `dataset labels ${setText(datasetLabels)} give task values {${mapped.join(', ')}} (${mapText}), but task ${taskId} has labels ${setText(taskLabels)}; ` +
      'fix the label_map of the task YAML or use the data the task describes',
  );
}

/** A copy of a label map's voxels with `labelMap` applied (the same array when there is no map). */
export function applyLabelMap(data: VoxelArray, labelMap: Readonly<Record<number, number>> | undefined): VoxelArray {
  if (labelMap === undefined || Object.keys(labelMap).length === 0) return data;
  const out = new Uint8Array(data.length);
  for (let x = 0; x < data.length; x++) out[x] = mapLabelValue(labelMap, data[x] as number);
  return out;
}
