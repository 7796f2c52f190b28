/**
 * Prediction of whole cases with a trained run (nnU-Net V1 `nnUNetTrainer.predict_preprocessed_data_return_seg_and_softmax`; docs/evaluation.md):
 * preprocessing with the run's plan → sliding windows (./sliding-window.ts) → class probabilities
 * resampled back to the cropped original grid and pasted into the original volume (background
 * outside the crop box) → argmax → `<case>.nii.gz` (uint8) with exactly the input's NIfTI geometry.
 *
 * A run directory (src/util/layout.ts) holds `config.json` (naming the preprocessed folder with
 * plans.json and splits.json) and `checkpoint/{best,latest}/` (model.json + weights.bin).
 * Cases come from the run's held-out test split, its fold's validation split, or a folder of images
 * (`<case>.nii.gz` with all channels, or `<case>_0000.nii.gz`, `<case>_0001.nii.gz`, … per channel).
 * A case that fails is reported and the others still run.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Volume } from '../data/volume.js';
import { readNifti, withData, writeNifti } from '../data/nifti.js';
import { loadDataset, loadCase, type CaseFiles } from '../data/dataset.js';
import { loadPlans, type Plans } from '../preprocess/plans.js';
import { splitCaseIds, type SplitName } from './runs.js';
import { resolveRunDirectory } from '../util/layout.js';
import { readRunStatus } from '../util/run-status.js';
import { TRAIN_DEFAULTS } from '../train/settings.js';
import { preprocessForInference, restoreToOriginal } from '../preprocess/inference.js';
import { loadModel } from '../model/checkpoint.js';
import { InputError, UsageError, errorMessage } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { throwIfInterrupted } from '../util/interrupt.js';
import { argmaxClasses, slidingWindowPredict, type PatchPredictor } from './sliding-window.js';
import { writePredictionRunInfo } from './run-info.js';

export interface PredictVolumeOptions {
  tta: boolean;
  /** Window step as a fraction of the patch (default 0.5). */
  stepFraction?: number;
  /** Keep the class probabilities on the original grid (class-major, each class i-fastest). */
  keepProbabilities?: boolean;
  onWindow?: (done: number, total: number) => void;
}

export interface VolumePrediction {
  /** Label values (plans.labels[c].value of the argmax class) on the input's grid, i-fastest. */
  labels: Uint8Array;
  probabilities?: Float32Array;
}

/** Segment one image volume (3D, or 4D with channels on the 4th axis) with `model` and `plans`. */
export function predictVolume(model: PatchPredictor, plans: Plans, image: Volume, id: string, options: PredictVolumeOptions): VolumePrediction {
  const input = preprocessForInference(plans, image, id);
  const numClasses = plans.numClasses;
  const probs = slidingWindowPredict(model, input.image, input.channels, input.shape, plans.patch_size, {
    tta: options.tta,
    numClasses,
    stepFraction: options.stepFraction ?? 0.5,
    ...(options.onWindow !== undefined ? { onWindow: options.onWindow } : {}),
  });
  const restored = restoreToOriginal(probs, numClasses, input.shape, input.meta);
  const classes = argmaxClasses(restored, numClasses);
  const values = plans.labels.map((l) => l.value);
  if (values.some((v, c) => v !== c)) {
    if (values.some((v) => v < 0 || v > 255)) throw new InputError(undefined, `${id}: label values ${values.join(', ')} do not fit uint8`);
    for (let n = 0; n < classes.length; n++) classes[n] = values[classes[n] as number] as number;
  }
  return options.keepProbabilities === true ? { labels: classes, probabilities: restored } : { labels: classes };
}

/** What `config.json` of a run must provide for prediction. */
interface RunConfigForPrediction {
  identity?: { task?: string; loss?: string; fold?: number };
  profile?: { name?: string };
  preprocessedDir?: string;
  checkpoint?: CheckpointChoice;
}

/**
 * Which weights: checkpoint/best; 'final' = checkpoint/latest of a finished run (nnU-Net V1's
 * model_final_checkpoint); 'latest' = checkpoint/latest whatever the run's state.
 */
export type CheckpointChoice = 'best' | 'final' | 'latest';

/** The checkpoint directory of a choice; 'final' requires the run to be done (status.json). */
export function runCheckpointDirectory(runDir: string, choice: CheckpointChoice): string {
  if (choice === 'final') {
    const state = readRunStatus(runDir)?.state;
    if (state !== 'done') throw new InputError(runDir, `--checkpoint final: the run is not finished (status ${state ?? 'missing'}); its final checkpoint does not exist yet (use best or latest)`);
  }
  return path.join(runDir, 'checkpoint', choice === 'best' ? 'best' : 'latest');
}

export interface PredictCasesOptions {
  /** A run directory, or a loss directory results/<task>/<loss> (the best learning rate of `fold` and `seed` is taken). */
  runDir: string;
  /** Fold of the run when `runDir` is a loss directory (default TRAIN_DEFAULTS.fold, 0). */
  fold?: number;
  /** Seed of the run (which replicate) when `runDir` is a loss directory (default TRAIN_DEFAULTS.seed, 12345). */
  seed?: number;
  checkpoint?: CheckpointChoice;
  /** Which cases: the run's 'test' split or its fold's 'val' split … */
  split?: 'test' | 'val';
  /** … or a folder of images. */
  inputDir?: string;
  outDir: string;
  /** Mirroring TTA; default: on for runs trained with the 'paper' profile (as the study), else off. */
  tta?: boolean;
  saveProbabilities?: boolean;
  stepFraction?: number;
  /** Override the preprocessed folder named in config.json (plans.json, splits.json). */
  preprocessedDir?: string;
  onCase?: (event: { done: number; total: number; caseId: string; error?: string; seconds: number }) => void;
  onWindow?: (caseId: string, done: number, total: number) => void;
}

export interface CasePrediction {
  caseId: string;
  /** Written label map, or undefined when the case failed. */
  file?: string;
  probabilitiesFile?: string;
  error?: string;
  seconds: number;
}

export interface PredictionReport {
  runDir: string;
  checkpoint: CheckpointChoice;
  task: string;
  tta: boolean;
  cases: CasePrediction[];
  failed: number;
  outDir: string;
}

/** An input case: id and channel files (one 3D/4D file, or one file per channel). */
export interface InputCase {
  id: string;
  files: string[];
}

const NIFTI = /\.nii(\.gz)?$/;
const CHANNEL = /^(.*)_(\d{4})\.nii(\.gz)?$/;

/** Cases of an image folder: `<case>_NNNN.nii.gz` files grouped per case (channel order), else one file per case. */
export function listInputCases(dir: string): InputCase[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(dir, 'input folder does not exist');
  const names = readdirSync(dir).filter((n) => NIFTI.test(n) && !n.startsWith('.')).sort();
  if (names.length === 0) throw new InputError(dir, 'no .nii.gz / .nii images');
  const channelNames = names.filter((n) => CHANNEL.test(n));
  if (channelNames.length === names.length) {
    const groups = new Map<string, { channel: number; file: string }[]>();
    for (const n of names) {
      const m = CHANNEL.exec(n) as RegExpExecArray;
      const list = groups.get(m[1] as string) ?? [];
      list.push({ channel: Number(m[2]), file: path.join(dir, n) });
      groups.set(m[1] as string, list);
    }
    return [...groups].map(([id, list]) => {
      list.sort((a, b) => a.channel - b.channel);
      list.forEach((c, k) => {
        if (c.channel !== k) throw new InputError(c.file, `case ${id}: channel files must be numbered _0000, _0001, … without gaps`);
      });
      return { id, files: list.map((c) => c.file) };
    });
  }
  return names.map((n) => ({ id: n.replace(NIFTI, ''), files: [path.join(dir, n)] }));
}

async function readInputCase(c: InputCase): Promise<Volume> {
  const volumes = await Promise.all(c.files.map((f) => readNifti(f)));
  const first = volumes[0] as Volume;
  if (volumes.length === 1) return first;
  const n = (first.shape[0] as number) * (first.shape[1] as number) * (first.shape[2] as number);
  const data = new Float32Array(n * volumes.length);
  volumes.forEach((v, ch) => {
    if (v.data.length !== n) throw new InputError(c.files[ch], `case ${c.id}: channel ${ch} has shape [${v.shape.join(', ')}], channel 0 [${first.shape.join(', ')}]`);
    data.set(v.data, ch * n);
  });
  return { ...first, shape: [...first.shape.slice(0, 3), volumes.length], data };
}

function readRunConfig(runDir: string): RunConfigForPrediction {
  const file = path.join(runDir, 'config.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunConfigForPrediction;
  } catch (err) {
    throw new InputError(file, `cannot read the run's configuration (is this a run directory?): ${errorMessage(err)}`);
  }
}

/** Predict every case of a split or folder with a trained run; writes `<outDir>/<case>.nii.gz`. */
export async function predictCases(options: PredictCasesOptions): Promise<PredictionReport> {
  if ((options.split === undefined) === (options.inputDir === undefined)) throw new UsageError('give exactly one of --split test|val and --input DIR');
  const fold = options.fold ?? TRAIN_DEFAULTS.fold;
  const runDir = resolveRunDirectory(options.runDir, fold, options.seed ?? TRAIN_DEFAULTS.seed);
  const config = readRunConfig(runDir);
  // The flag, else the run's own choice (config.json, `train --checkpoint`), else best.
  const checkpoint = options.checkpoint ?? config.checkpoint ?? 'best';
  const preDir = options.preprocessedDir ?? config.preprocessedDir;
  if (preDir === undefined) throw new InputError(path.join(runDir, 'config.json'), "no 'preprocessedDir' (the folder with plans.json)");
  const plans = loadPlans(preDir);
  const checkpointDir = runCheckpointDirectory(runDir, checkpoint);
  if (!existsSync(path.join(checkpointDir, 'model.json'))) throw new InputError(checkpointDir, `no model checkpoint (model.json) — has the run saved a '${checkpoint}' checkpoint?`);

  // cases: (id, loader)
  let cases: { id: string; load: () => Promise<Volume> }[];
  if (options.inputDir !== undefined) {
    cases = listInputCases(options.inputDir).map((c) => ({ id: c.id, load: () => readInputCase(c) }));
  } else {
    const ids = splitCaseIds(preDir, options.split as SplitName, config.identity?.fold ?? fold);
    const ds = loadDataset(plans.dataset_dir);
    const byId = new Map<string, CaseFiles>(ds.training.map((c) => [c.id, c]));
    cases = ids.map((id) => ({
      id,
      load: async () => {
        const files = byId.get(id);
        if (files === undefined) throw new InputError(plans.dataset_dir, `case ${id} of the split is not in the dataset`);
        return (await loadCase(ds, { id: files.id, images: files.images })).image;
      },
    }));
  }

  const tta = options.tta ?? config.profile?.name === 'paper';
  const model = await loadModel(checkpointDir);
  const results: CasePrediction[] = [];
  try {
    if (JSON.stringify(model.topology) !== JSON.stringify(plans.network)) {
      throw new InputError(checkpointDir, 'the checkpoint network does not match the plan (was the dataset preprocessed again with another profile?)');
    }
    const idList = cases.map((c) => c.id).join('\n') + '\n';
    await writeFileAtomic(path.join(options.outDir, 'cases.txt'), idList);
    await writePredictionRunInfo(options.outDir, runDir, checkpoint);
    for (const c of cases) {
      throwIfInterrupted();
      const t0 = performance.now();
      const record: CasePrediction = { caseId: c.id, seconds: 0 };
      try {
        const image = await c.load();
        const pred = predictVolume(model, plans, image, c.id, {
          tta,
          ...(options.stepFraction !== undefined ? { stepFraction: options.stepFraction } : {}),
          keepProbabilities: options.saveProbabilities === true,
          ...(options.onWindow !== undefined ? { onWindow: (d: number, t: number) => options.onWindow?.(c.id, d, t) } : {}),
        });
        const shape3 = image.shape.slice(0, 3);
        const file = path.join(options.outDir, `${c.id}.nii.gz`);
        await writeNifti(file, withData(image, pred.labels, shape3), { datatype: 'uint8' });
        record.file = file;
        if (pred.probabilities !== undefined) {
          const pfile = path.join(options.outDir, `${c.id}_probabilities.nii.gz`);
          await writeNifti(pfile, withData(image, pred.probabilities, [...shape3, plans.numClasses]), { datatype: 'float32' });
          record.probabilitiesFile = pfile;
        }
      } catch (err) {
        if (err instanceof Error && err.name === 'InterruptedError') throw err;
        record.error = errorMessage(err);
      }
      record.seconds = (performance.now() - t0) / 1000;
      results.push(record);
      options.onCase?.({ done: results.length, total: cases.length, caseId: c.id, seconds: record.seconds, ...(record.error !== undefined ? { error: record.error } : {}) });
    }
  } finally {
    model.dispose();
  }
  return {
    runDir: path.resolve(runDir),
    checkpoint,
    task: config.identity?.task ?? plans.task,
    tta,
    cases: results,
    failed: results.filter((r) => r.error !== undefined).length,
    outDir: path.resolve(options.outDir),
  };
}

