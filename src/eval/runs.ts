/**
 * Finding what prediction and evaluation work on: the run directory of a loss (the learning rate
 * that won on the validation fold), the cases of a split, and their ground-truth files.
 *
 * Layout (src/util/layout.ts): results/<task>/<loss>/lr-<rate>/fold-<k>/seed-<s>/{config.json,status.json,checkpoint/}.
 */
import * as path from 'node:path';
import { loadDataset } from '../data/dataset.js';
import { loadPlans, loadSplits } from '../preprocess/plans.js';
import { InputError } from '../util/errors.js';

export type SplitName = 'test' | 'val';

/** Case ids of the held-out test split, or of fold `fold`'s validation split, of a preprocessed task. */
export function splitCaseIds(preprocessedDir: string, split: SplitName, fold = 0): string[] {
  const splits = loadSplits(preprocessedDir);
  const file = path.join(preprocessedDir, 'splits.json');
  if (split === 'test') {
    if (splits.test.length === 0) throw new InputError(file, 'the test split is empty (dataset too small); use the val split or explicit folders');
    return [...splits.test];
  }
  const f = splits.folds[fold];
  if (f === undefined) throw new InputError(file, `no fold ${fold} (there are ${splits.folds.length})`);
  return [...f.val];
}

/**
 * Ground-truth label files of a split (from the raw dataset the plan was made from), the plan's
 * foreground labels, and the plan's label_map: the raw files hold dataset values, which
 * preprocessing mapped to the task's before training (e.g. MSD liver's 0/1/2 → the study's 0/1),
 * so evaluation must map the references the same way.
 */
export function splitGroundTruth(
  preprocessedDir: string,
  split: SplitName,
  fold = 0,
): { files: Map<string, string>; labels: number[]; source: string; labelMap?: Record<number, number> } {
  const plans = loadPlans(preprocessedDir);
  const ids = splitCaseIds(preprocessedDir, split, fold);
  const ds = loadDataset(plans.dataset_dir);
  const byId = new Map(ds.training.map((c) => [c.id, c]));
  const files = new Map<string, string>();
  for (const id of ids) {
    const label = byId.get(id)?.label;
    if (label === undefined) throw new InputError(plans.dataset_dir, `case ${id} of the ${split} split has no label file in the dataset`);
    files.set(id, label);
  }
  const labelMap = plans.label_map === undefined ? undefined : Object.fromEntries(Object.entries(plans.label_map).map(([k, v]) => [Number(k), v]));
  return {
    files,
    ...(labelMap !== undefined && Object.keys(labelMap).length > 0 ? { labelMap } : {}),
    labels: plans.labels.map((l) => l.value).filter((v) => v !== 0),
    source: `${split === 'test' ? 'test' : `fold-${fold} validation`} split of ${plans.dataset_dir}`,
  };
}
