/**
 * Finding what prediction and evaluation work on: the run directory of a loss (the learning rate
 * that won on the validation fold), the cases of a split, and their ground-truth files.
 *
 * Layout (src/train/rundir.ts): results/<task>/<loss>/lr-<rate>/fold-<k>/{config.json,status.json,checkpoint/}.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { loadDataset } from '../data/dataset.js';
import { loadPlans, loadSplits } from '../data/preprocess/plans.js';
import { InputError } from '../util/errors.js';

export type SplitName = 'test' | 'val';

interface StatusFile {
  state?: string;
  bestValDice?: number | null;
}

function readStatus(runDir: string): StatusFile | undefined {
  try {
    return JSON.parse(readFileSync(path.join(runDir, 'status.json'), 'utf8')) as StatusFile;
  } catch {
    return undefined;
  }
}

/**
 * A run directory from `dir`: `dir` itself when it holds config.json, else — for a loss directory
 * `results/<task>/<loss>` — the `lr-<rate>/fold-<fold>` run that finished ('done') with the highest
 * best validation Dice (ties: the smaller learning rate), as `segloss train --lr search` chooses.
 */
export function resolveRunDirectory(dir: string, fold = 0): string {
  if (existsSync(path.join(dir, 'config.json'))) return dir;
  if (!existsSync(dir)) throw new InputError(dir, 'run directory does not exist');
  const candidates = readdirSync(dir)
    .filter((n) => n.startsWith('lr-'))
    .map((n) => ({ rate: Number(n.slice(3)), runDir: path.join(dir, n, `fold-${fold}`) }))
    .filter((c) => existsSync(path.join(c.runDir, 'config.json')))
    .sort((a, b) => a.rate - b.rate);
  if (candidates.length === 0) throw new InputError(dir, `neither a run directory (config.json) nor a loss directory with lr-*/fold-${fold}/ runs`);
  let best: { runDir: string; dice: number } | undefined;
  for (const c of candidates) {
    const st = readStatus(c.runDir);
    if (st?.state !== 'done' || typeof st.bestValDice !== 'number') continue;
    if (best === undefined || st.bestValDice > best.dice) best = { runDir: c.runDir, dice: st.bestValDice };
  }
  if (best === undefined) throw new InputError(dir, `no finished run of fold ${fold} with a validation Dice (diverged or unfinished training?)`);
  return best.runDir;
}

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

/** Ground-truth label files of a split (from the raw dataset the plan was made from) and the plan's foreground labels. */
export function splitGroundTruth(preprocessedDir: string, split: SplitName, fold = 0): { files: Map<string, string>; labels: number[]; source: string } {
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
  return {
    files,
    labels: plans.labels.map((l) => l.value).filter((v) => v !== 0),
    source: `${split === 'test' ? 'test' : `fold-${fold} validation`} split of ${plans.dataset_dir}`,
  };
}
