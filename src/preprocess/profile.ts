/**
 * Compute profiles (configs/profiles/<name>.yaml): the numbers nnU-Net's planner is run with.
 * `paper` holds nnU-Net V1's defaults; `cpu` shrinks the budget for a 2-core machine. A profile
 * is named (looked up in configs/profiles/) or given as a path to a YAML file.
 *
 * Keys (snake_case in YAML): base_features, max_features, vram_ref, default_batch_size,
 * min_batch_size, batch_max_dataset_fraction, min_bottleneck_edge, max_pools_per_axis,
 * conv_per_stage, target_spacing_factor, lowres_patient_factor, batch_size (fixed batch size
 * instead of the planner's, or null), and `overrides`: a list of { match: <glob on the task id
 * or dataset name>, ...keys } applied in order when the glob matches.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { readYamlFile } from '../util/yaml.js';
import { InputError, UsageError } from '../util/errors.js';
import { CONFIG_DIR } from '../util/paths.js';
import { NNUNET_V1_DEFAULTS, type PlannerSettings } from './plan.js';

export interface Profile extends PlannerSettings {
  /** Profile name (file name without .yaml) or the path it was read from. */
  name: string;
  description: string;
  /** Fixed batch size, or null for the planner's. */
  batchSize: number | null;
  /** Overrides that matched, by glob, in the order applied. */
  appliedOverrides: string[];
}

const NUMERIC_KEYS: Record<string, keyof PlannerSettings> = {
  base_features: 'baseFeatures',
  max_features: 'maxFeatures',
  vram_ref: 'vramRef',
  default_batch_size: 'defaultBatchSize',
  min_batch_size: 'minBatchSize',
  batch_max_dataset_fraction: 'batchMaxDatasetFraction',
  min_bottleneck_edge: 'minBottleneckEdge',
  max_pools_per_axis: 'maxPoolsPerAxis',
  conv_per_stage: 'convPerStage',
  target_spacing_factor: 'targetSpacingFactor',
  lowres_patient_factor: 'lowresPatientFactor',
};

export const PROFILE_DIR = path.join(CONFIG_DIR, 'profiles');

/** Path of a profile given by name or path. */
export function profilePath(profile: string): string {
  if (profile.endsWith('.yaml') || profile.endsWith('.yml') || profile.includes('/') || profile.includes(path.sep)) return path.resolve(profile);
  return path.join(PROFILE_DIR, `${profile}.yaml`);
}

/** Simple glob: `*` matches any run of characters, `?` one character. */
export function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  return re.test(text);
}

function applyKeys(file: string, target: Profile, values: Record<string, unknown>, where: string): void {
  for (const [key, value] of Object.entries(values)) {
    if (key === 'match' || key === 'description' || key === 'name' || key === 'overrides') continue;
    if (key === 'batch_size') {
      if (value === null) target.batchSize = null;
      else if (typeof value === 'number' && Number.isInteger(value) && value >= 1) target.batchSize = value;
      else throw new InputError(file, `${where}batch_size must be a positive integer or null, got ${JSON.stringify(value)}`);
      continue;
    }
    const field = NUMERIC_KEYS[key];
    if (field === undefined) throw new InputError(file, `${where}unknown key '${key}' (valid: ${[...Object.keys(NUMERIC_KEYS), 'batch_size', 'overrides'].join(', ')})`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new InputError(file, `${where}${key} must be a positive number, got ${JSON.stringify(value)}`);
    target[field] = value;
  }
}

/**
 * Load a profile by name (configs/profiles/<name>.yaml) or path, with the overrides whose glob
 * matches one of `names` (task id, dataset name) applied.
 */
export function loadProfile(profile: string, names: readonly string[] = []): Profile {
  const file = profilePath(profile);
  if (!existsSync(file)) {
    throw new UsageError(`unknown profile '${profile}' (no ${file}; use paper, cpu or a path to a YAML file)`);
  }
  const raw = readYamlFile(file, 'planning-profile');
  const result: Profile = {
    ...NNUNET_V1_DEFAULTS,
    name: file.startsWith(PROFILE_DIR + path.sep) ? path.basename(file).replace(/\.ya?ml$/, '') : file,
    description: typeof raw['description'] === 'string' ? raw['description'] : '',
    batchSize: null,
    appliedOverrides: [],
  };
  applyKeys(file, result, raw, '');
  const overrides = raw['overrides'];
  if (overrides !== undefined && overrides !== null) {
    if (!Array.isArray(overrides)) throw new InputError(file, 'overrides must be a list of { match: <glob>, ... }');
    overrides.forEach((o: unknown, idx: number) => {
      if (typeof o !== 'object' || o === null || typeof (o as Record<string, unknown>)['match'] !== 'string') {
        throw new InputError(file, `overrides[${idx}] needs a 'match' glob`);
      }
      const rec = o as Record<string, unknown>;
      const glob = rec['match'] as string;
      if (names.some((n) => globMatch(glob, n))) {
        applyKeys(file, result, rec, `overrides[${idx}].`);
        result.appliedOverrides.push(glob);
      }
    });
  }
  return result;
}
