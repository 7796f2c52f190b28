/**
 * plans.json and splits.json: their types, how they are read back, and the hash that ties cached
 * cases to the plan they were made with.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { Vec3 } from '../util/vec3.js';
import type { NetworkTopology } from '../model/topology.js';
import { InputError, errorMessage } from '../util/errors.js';
import type { IntensityStats } from './fingerprint.js';
import type { CasePlan, NormalizationPlan } from './case.js';
import type { Splits } from './splits.js';

export type { Splits } from './splits.js';

/** Version of the cache format and preprocessing code; bump to invalidate every cached case. */
export const PREPROCESS_VERSION = 1;

/** plans.json. Shapes and spacings in NIfTI axis order (i, j, k). */
export interface Plans {
  version: number;
  task: string;
  /** Profile name (or path) and the planner numbers it resolved to. */
  profile: string;
  profile_settings: {
    base_features: number;
    max_features: number;
    vram_ref: number;
    target_spacing_factor: number;
    batch_size: number | null;
    overrides: string[];
  };
  dataset_dir: string;
  modalities: string[];
  /** Every label including background, ascending. */
  labels: { value: number; name: string }[];
  /** Classes including background. */
  numClasses: number;
  /** The task's label_map (dataset value → task value) applied to every label map; absent: none. */
  label_map?: Record<string, number>;
  target_spacing_mm: Vec3;
  /** Median case shape after resampling to the target spacing (float). */
  median_shape: Vec3;
  patch_size: Vec3;
  /** Batch size used for training (the profile's fixed value, else the planner's). */
  batch_size: number;
  /** What nnU-Net's batch-size rule gives. */
  planned_batch_size: number;
  batch_dice: boolean;
  do_dummy_2D_data_aug: boolean;
  num_pool_per_axis: Vec3;
  pool_op_kernel_sizes: Vec3[];
  conv_kernel_sizes: Vec3[];
  /** nnU-Net's transpose_forward (z, y, x order) and stage count (2 ⇒ a 3d_lowres stage exists). */
  transpose_forward: number[];
  num_stages: number;
  vram_proxy: number;
  vram_ref: number;
  network: NetworkTopology;
  /** Per channel pooled foreground statistics (null for non-CT channels); present for CT datasets. */
  intensity?: (IntensityStats | null)[];
  normalization: NormalizationPlan;
  resampling: { image_order: 3; label_order: 1; order_z: 0; separate_z_threshold: number };
  /** Median fraction of voxels kept by the non-zero crop. */
  median_size_reduction: number;
  /** Preprocessed training cases, sorted as strings. */
  cases: string[];
  /** Cases left out (empty non-zero region). */
  skipped_cases: { id: string; reason: string }[];
  /** Hash of everything that determines a cached case's content. */
  plan_hash: string;
}

/** The part of the plan a case's preprocessing depends on. */
export function casePlanOf(plans: Pick<Plans, 'target_spacing_mm' | 'normalization' | 'intensity'>): CasePlan {
  return plans.intensity === undefined
    ? { targetSpacingMm: plans.target_spacing_mm, normalization: plans.normalization }
    : { targetSpacingMm: plans.target_spacing_mm, normalization: plans.normalization, intensity: plans.intensity };
}

/** Hash of the case-relevant plan fields (a change invalidates every cached case). */
export function planHash(plan: CasePlan): string {
  const key = JSON.stringify({ v: PREPROCESS_VERSION, t: plan.targetSpacingMm, n: plan.normalization, i: plan.intensity ?? null });
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(file, `cannot read (run 'segloss preprocess' first?): ${errorMessage(err)}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(file, `invalid JSON: ${errorMessage(err)}`);
  }
}

/** Read `<dir>/plans.json`. */
export function loadPlans(dir: string): Plans {
  const file = path.join(dir, 'plans.json');
  const p = readJson(file) as Partial<Plans>;
  const required: (keyof Plans)[] = ['task', 'modalities', 'labels', 'numClasses', 'target_spacing_mm', 'patch_size', 'batch_size', 'network', 'normalization', 'cases'];
  for (const k of required) if (p[k] === undefined) throw new InputError(file, `missing '${k}'`);
  if (p.version !== PREPROCESS_VERSION) throw new InputError(file, `made by another segloss version (format ${String(p.version)}, expected ${PREPROCESS_VERSION}); run 'segloss preprocess' again`);
  return p as Plans;
}

/** Read `<dir>/splits.json`. */
export function loadSplits(dir: string): Splits {
  const file = path.join(dir, 'splits.json');
  const s = readJson(file) as Partial<Splits>;
  if (!Array.isArray(s.test) || !Array.isArray(s.folds) || s.folds.some((f) => !Array.isArray(f.train) || !Array.isArray(f.val))) {
    throw new InputError(file, "expected { test: string[], folds: { train: string[], val: string[] }[] }");
  }
  const out: Splits = { seed: typeof s.seed === 'number' ? s.seed : 12345, test: s.test, folds: s.folds };
  if (typeof s.published === 'string') out.published = s.published;
  return out;
}
