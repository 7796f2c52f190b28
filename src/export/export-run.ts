/**
 * `segloss export`: a trained run's weights as a safetensors file under nnU-Net V1 Generic_UNet
 * names (./generic-unet.ts), with the constructor arguments that rebuild the network in the file's
 * `__metadata__` and in a sidecar JSON (`<out>.json`); docs/export.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { UNet3D } from '../model/unet.js';
import { loadModel } from '../model/checkpoint.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import { RUN_FILES, resolveRunDirectory } from '../util/layout.js';
import { predictionRunInfo, type PredictionRunInfo } from '../eval/run-info.js';
import { encodeSafetensors, type SafetensorsTensor } from './safetensors.js';
import { genericUnetKwargs, genericUnetParameters, permuteAxes, type GenericUnetKwargs } from './generic-unet.js';

export const EXPORT_FORMAT = 'segloss-generic-unet-v1';

/** Generic_UNet's state_dict of a segloss model: name, PyTorch shape and values, in state_dict order. */
export function genericUnetStateDict(model: UNet3D): SafetensorsTensor[] {
  const byName = new Map(model.namedVariables().map(({ name, variable }) => [name, variable]));
  const values = (name: string) => {
    const v = byName.get(name);
    if (v === undefined) throw new Error(`export: the model has no weight '${name}'`);
    return { data: v.dataSync() as Float32Array, shape: v.shape };
  };
  return genericUnetParameters(model.topology).map((p) => {
    const count = p.shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (p.source.kind === 'zeros') data = new Float32Array(count);
    else if (p.source.kind === 'copy') data = Float32Array.from(values(p.source.seglossName).data);
    else {
      const w = values(p.source.seglossName);
      const t = permuteAxes(w.data, w.shape, p.source.permutation);
      if (t.shape.join(',') !== p.shape.join(',')) throw new Error(`export: ${p.source.seglossName} [${w.shape}] gives [${t.shape}] for ${p.name}, expected [${p.shape}]`);
      data = t.data;
    }
    return { name: p.name, shape: p.shape, data };
  });
}

/** The sidecar JSON (and, as strings, the safetensors metadata). */
export interface ExportPlan {
  format: typeof EXPORT_FORMAT;
  /** `Generic_UNet(**kwargs)` with the class names resolved (docs/export.md). */
  generic_unet_kwargs: GenericUnetKwargs;
  /** Input layout of the network: [batch, channels, z, y, x] with (z, y, x) = NIfTI (k, j, i). */
  input_axes: string;
  /** The training patch size (z, y, x), when the run records it. */
  patch_size: number[] | null;
  run: PredictionRunInfo | null;
}

export interface ExportOptions {
  /** A run directory, or a loss directory (the best learning rate of `fold` and `seed`). */
  runDir: string;
  fold: number;
  seed: number;
  /** `best` or the last epoch's checkpoint (`final`, stored as checkpoint/latest). */
  checkpoint: 'best' | 'final';
  /** The safetensors file; the plan goes to `<out>.json`. */
  out: string;
}

export interface ExportResult {
  runDir: string;
  file: string;
  planFile: string;
  tensors: number;
  parameters: number;
}

/** The checkpoint directory of a run for a checkpoint kind. */
export function checkpointDirectory(runDir: string, kind: 'best' | 'final'): string {
  const names = kind === 'best' ? ['best'] : ['final', 'latest'];
  for (const n of names) {
    const dir = path.join(runDir, RUN_FILES.checkpoints, n);
    if (existsSync(path.join(dir, 'model.json'))) return dir;
  }
  throw new InputError(path.join(runDir, RUN_FILES.checkpoints), `no '${kind}' model checkpoint (model.json)`);
}

export async function exportRun(options: ExportOptions): Promise<ExportResult> {
  const runDir = resolveRunDirectory(options.runDir, options.fold, options.seed);
  const ckDir = checkpointDirectory(runDir, options.checkpoint);
  const model = await loadModel(ckDir);
  try {
    const kwargs = genericUnetKwargs(model.topology);
    const tensors = genericUnetStateDict(model);
    let run: PredictionRunInfo | null = null;
    let patch: number[] | null = null;
    try {
      run = predictionRunInfo(runDir, path.basename(ckDir));
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
    }
    try {
      const config = JSON.parse(readFileSync(path.join(runDir, RUN_FILES.config), 'utf8')) as { identity?: { patchSize?: number[] } };
      const p = config.identity?.patchSize;
      if (Array.isArray(p) && p.length === 3) patch = [p[2] as number, p[1] as number, p[0] as number];
    } catch {
      patch = null;
    }
    const plan: ExportPlan = { format: EXPORT_FORMAT, generic_unet_kwargs: kwargs, input_axes: 'b, c, z, y, x (z, y, x = NIfTI k, j, i)', patch_size: patch, run };
    const metadata: Record<string, string> = {
      format: 'pt',
      segloss_format: EXPORT_FORMAT,
      generic_unet_kwargs: JSON.stringify(kwargs),
      input_axes: plan.input_axes,
      patch_size: JSON.stringify(patch),
      run: JSON.stringify(run),
    };
    await writeFileAtomic(options.out, encodeSafetensors(tensors, metadata));
    const planFile = `${options.out}.json`;
    await writeJsonAtomic(planFile, plan);
    return { runDir: path.resolve(runDir), file: path.resolve(options.out), planFile: path.resolve(planFile), tensors: tensors.length, parameters: tensors.reduce((n, t) => n + t.data.length, 0) };
  } finally {
    model.dispose();
  }
}
