/**
 * Task registry: one YAML file per task in configs/tasks/<id>.yaml naming its modality,
 * labels and where its data lives, and finding (or, for toy tasks, synthesizing) that data.
 *
 * Where data is looked for, in order:
 * - toy tasks: `<synth root>/<task>` ($SEGLOSS_SYNTH or ./.segloss/synth; `synthDir` overrides),
 *   synthesized on first use (a non-default seed or case count gets its own folder
 *   `<task>-s<seed>-n<cases>` so that different settings never overwrite each other);
 * - real tasks: `<data>/<dataPath>` for `options.data`, then $SEGLOSS_DATA, then $nnUNet_raw, then
 *   the task's `fallbackPath` relative to the package root (hippocampus: ../shared/data/...).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CONFIG_DIR, PACKAGE_ROOT, synthRoot } from '../util/paths.js';
import { InputError, UsageError } from '../util/errors.js';
import { readYamlFile } from '../util/yaml.js';
import { synthesizeDataset, isToyTask, GENERATOR_VERSION, type SynthProvenance } from './synth/toy.js';

export interface TaskLabel {
  value: number;
  name: string;
}

export interface TaskSpec {
  id: string;
  description: string;
  modality: 'CT' | 'MRI';
  /** Every label including 0 background, ascending by value. */
  labels: TaskLabel[];
  /** Folder of the dataset relative to $SEGLOSS_DATA (toy tasks: relative to the synth root). */
  dataPath: string;
  synthetic: boolean;
  /** Where to get the data and how to lay it out (real tasks). */
  download?: string;
  /** Extra place to look for the data, relative to the package root (used for hippocampus). */
  fallbackPath?: string;
  /** Toy tasks: cases synthesized on first use (default 20). */
  synthCases?: number;
  /** Toy tasks: seed of the embedded default data. */
  synthSeed?: number;
  /** The YAML file the task came from. */
  file: string;
}

export const TASKS_DIR = path.join(CONFIG_DIR, 'tasks');

let cache: Map<string, TaskSpec> | undefined;

function parseTask(file: string, raw: Record<string, unknown>): TaskSpec {
  const str = (key: string, required = true): string | undefined => {
    const v = raw[key];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw new InputError(file, `'${key}' must be a non-empty string`);
    return v.trim();
  };
  const id = str('id') as string;
  const expectedId = path.basename(file).replace(/\.ya?ml$/, '');
  if (id !== expectedId) throw new InputError(file, `id '${id}' does not match the file name (expected '${expectedId}')`);
  const modality = str('modality') as string;
  if (modality !== 'CT' && modality !== 'MRI') throw new InputError(file, `modality must be CT or MRI, got '${modality}'`);
  const labelsRaw = raw['labels'];
  if (typeof labelsRaw !== 'object' || labelsRaw === null || Array.isArray(labelsRaw)) throw new InputError(file, "'labels' must be a mapping value: name");
  const labels = Object.entries(labelsRaw as Record<string, unknown>).map(([k, v]) => {
    const value = Number(k);
    if (!Number.isInteger(value) || value < 0) throw new InputError(file, `label value '${k}' is not a non-negative integer`);
    if (typeof v !== 'string') throw new InputError(file, `label ${k} must have a name`);
    return { value, name: v };
  });
  labels.sort((a, b) => a.value - b.value);
  if (labels[0]?.value !== 0) throw new InputError(file, 'labels must include 0 (background)');
  const synthetic = raw['synthetic'] === true;
  const intField = (key: string): number | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new InputError(file, `'${key}' must be a non-negative integer`);
    return v;
  };
  const spec: TaskSpec = { id, description: str('description') as string, modality, labels, dataPath: str('dataPath') as string, synthetic, file };
  const download = str('download', false);
  if (download !== undefined) spec.download = download.replace(/\s+/g, ' ');
  const fallback = str('fallbackPath', false);
  if (fallback !== undefined) spec.fallbackPath = fallback;
  if (synthetic) {
    if (!isToyTask(id)) throw new InputError(file, `synthetic task '${id}' has no generator (toy tasks: toy-liver, toy-livertumor, toy-pancreas, toy-multiorgan)`);
    spec.synthCases = intField('synthCases') ?? 20;
    spec.synthSeed = intField('synthSeed') ?? 2021;
  } else if (download === undefined) {
    throw new InputError(file, "a real task needs 'download' (where to get the data and how to lay it out)");
  }
  return spec;
}

function registry(): Map<string, TaskSpec> {
  if (cache !== undefined) return cache;
  const map = new Map<string, TaskSpec>();
  let files: string[];
  try {
    files = readdirSync(TASKS_DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch {
    throw new InputError(TASKS_DIR, 'task registry folder is missing');
  }
  for (const f of files) {
    const file = path.join(TASKS_DIR, f);
    const spec = parseTask(file, readYamlFile(file, 'task'));
    map.set(spec.id, spec);
  }
  cache = map;
  return map;
}

/** Every registered task, real tasks first then toy tasks, each alphabetical. */
export function listTasks(): TaskSpec[] {
  return [...registry().values()].sort((a, b) => Number(a.synthetic) - Number(b.synthetic) || a.id.localeCompare(b.id));
}

/** The task with this id, or a UsageError listing the valid ids. */
export function getTask(id: string): TaskSpec {
  const spec = registry().get(id);
  if (spec === undefined) throw new UsageError(`unknown task '${id}' (valid: ${listTasks().map((t) => t.id).join(', ')})`);
  return spec;
}

export interface EnsureOptions {
  /** Data root overriding $SEGLOSS_DATA / $nnUNet_raw (real tasks). */
  data?: string;
  /** Synth root overriding $SEGLOSS_SYNTH (toy tasks). */
  synthDir?: string;
  /** Toy tasks: seed (default: the task's synthSeed, i.e. the embedded default data). */
  seed?: number;
  /** Toy tasks: number of cases (default: the task's synthCases). */
  cases?: number;
  /** Toy tasks: progress callback while synthesizing. */
  onCase?: (done: number, total: number) => void;
}

/** Candidate folders for a real task's data, in the order they are tried. */
export function dataCandidates(spec: TaskSpec, data?: string): string[] {
  const roots = [data, process.env['SEGLOSS_DATA'], process.env['nnUNet_raw']].filter((r): r is string => r !== undefined && r !== '');
  const out = roots.map((r) => path.resolve(r, spec.dataPath));
  if (spec.fallbackPath !== undefined) out.push(path.resolve(PACKAGE_ROOT, spec.fallbackPath));
  return [...new Set(out)];
}

function readProvenance(dir: string): SynthProvenance | undefined {
  try {
    const json = JSON.parse(readFileSync(path.join(dir, 'dataset.json'), 'utf8')) as { segloss?: SynthProvenance };
    return json.segloss;
  } catch {
    return undefined;
  }
}

/**
 * The dataset folder of a task. Toy tasks are synthesized on first use (and remade when the
 * generator version changed); real tasks must exist, else a one-line InputError says where to
 * download the data and how to lay it out.
 */
export async function ensureTaskData(taskId: string, options: EnsureOptions = {}): Promise<string> {
  const spec = getTask(taskId);
  if (spec.synthetic) {
    const seed = options.seed ?? (spec.synthSeed as number);
    const cases = options.cases ?? (spec.synthCases as number);
    const isDefault = seed === spec.synthSeed && cases === spec.synthCases;
    const dir = path.join(synthRoot(options.synthDir), isDefault ? spec.dataPath : `${spec.dataPath}-s${seed}-n${cases}`);
    const p = readProvenance(dir);
    if (p !== undefined && p.generator === 'segloss-synth' && p.version === GENERATOR_VERSION && p.task === spec.id && p.seed === seed && p.cases === cases) return dir;
    const synthOptions: { cases: number; seed: number; onCase?: (done: number, total: number) => void } = { cases, seed };
    if (options.onCase !== undefined) synthOptions.onCase = options.onCase;
    await synthesizeDataset(spec.id, dir, synthOptions);
    return dir;
  }
  const candidates = dataCandidates(spec, options.data);
  for (const dir of candidates) if (existsSync(path.join(dir, 'dataset.json'))) return dir;
  const looked = candidates.length > 0 ? `not found in ${candidates.join(', ')}` : 'no data folder set ($SEGLOSS_DATA or $nnUNet_raw)';
  throw new InputError(undefined, `task ${spec.id}: data ${looked}. ${spec.download ?? ''}`.trim());
}
