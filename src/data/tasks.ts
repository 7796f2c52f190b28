/**
 * Task registry: one YAML file per task in configs/tasks/<id>.yaml naming its modality,
 * labels and where its data lives, and finding (or, for toy tasks, synthesizing) that data.
 *
 * Where data is looked for, in order:
 * - toy tasks: `<synth root>/<task>` ($SEGLOSS_SYNTH or ./.segloss/synth; `synthDir` overrides),
 *   synthesized on first use (a non-default seed or case count gets its own folder
 *   `<task>-s<seed>-n<cases>` so that different settings never overwrite each other);
 * - real tasks: `<data>/<data_path>` for `options.data`, then $SEGLOSS_DATA, then $nnUNet_raw (each
 *   root also under the task's nnU-Net folder names, `aliases`: Task03_Liver, Dataset003_Liver), then
 *   the task's `fallback_path` relative to the package root (hippocampus: ../shared/data/...).
 *
 * A task reference (`resolveTask`) is a registered id, a path to a task YAML, a path to a dataset
 * folder (MSD or nnU-Net v2 layout; the task is built from its dataset.json), or an nnU-Net id
 * found under the data roots (`Dataset501_Name`, `501`, `Task04_Hippocampus`). docs/data.md.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { CONFIG_DIR, PACKAGE_ROOT, synthRoot } from '../util/paths.js';
import { InputError, UsageError } from '../util/errors.js';
import { readYamlFile } from '../util/yaml.js';
import { validateConfig } from '../util/config-schema.js';
import { loadDataset, type Dataset, type DatasetLabel } from './dataset.js';
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
  /** The YAML file the task came from (a task built from a dataset: its dataset.json). */
  file: string;
  /**
   * Dataset label value → task label value, applied to every label map before preprocessing
   * (values not listed keep their value). The study's merges of paper §3.1, e.g. liver {1: 1, 2: 1}.
   */
  labelMap?: Record<number, number>;
  /**
   * A published split file ({"folds": [{"train": [...], "val": [...]}, ...]}, absolute path): fold 0's
   * `val` list is the test set, its `train` list the training cases.
   */
  split?: string;
  /** Further folder names of the data under a data root (nnU-Net's Task03_Liver, Dataset003_Liver). */
  aliases?: string[];
  /** The dataset folder, when the reference named it (a dataset path or an nnU-Net id). */
  dataDir?: string;
  /** Where the task came from: the registry, a task YAML given by path, or a dataset folder. */
  origin?: 'registry' | 'yaml' | 'dataset';
}

export const TASKS_DIR = path.join(CONFIG_DIR, 'tasks');

let cache: Map<string, TaskSpec> | undefined;

function parseTask(file: string, raw: Record<string, unknown>, origin: 'registry' | 'yaml' = 'registry'): TaskSpec {
  const str = (key: string, required = true): string | undefined => {
    const v = raw[key];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw new InputError(file, `'${key}' must be a non-empty string`);
    return v.trim();
  };
  const expectedId = path.basename(file).replace(/\.ya?ml$/, '');
  // A task YAML given by path may leave out its id (the file name is used) or name another one.
  const id = origin === 'yaml' && raw['id'] === undefined ? expectedId : (str('id') as string);
  if (origin === 'registry' && id !== expectedId) throw new InputError(file, `id '${id}' does not match the file name (expected '${expectedId}')`);
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
  const description = origin === 'yaml' && raw['description'] === undefined ? `task ${id} from ${file}` : (str('description') as string);
  const spec: TaskSpec = { id, description, modality, labels, dataPath: str('data_path') as string, synthetic, file, origin };
  const labelMap = parseLabelMap(file, raw['label_map'], labels);
  if (labelMap !== undefined) spec.labelMap = labelMap;
  const split = str('split', false);
  if (split !== undefined) spec.split = resolveSplitFile(file, split);
  const aliases = raw['aliases'];
  if (aliases !== undefined) {
    if (!Array.isArray(aliases) || aliases.some((a) => typeof a !== 'string' || a.trim() === '')) throw new InputError(file, "'aliases' must be a list of folder names");
    spec.aliases = (aliases as string[]).map((a) => a.trim());
  }
  const download = str('download', false);
  if (download !== undefined) spec.download = download.replace(/\s+/g, ' ');
  const fallback = str('fallback_path', false);
  if (fallback !== undefined) spec.fallbackPath = fallback;
  if (synthetic) {
    if (!isToyTask(id)) throw new InputError(file, `synthetic task '${id}' has no generator (toy tasks: toy-liver, toy-livertumor, toy-pancreas, toy-multiorgan)`);
    spec.synthCases = intField('synth_cases') ?? 20;
    spec.synthSeed = intField('synth_seed') ?? 2021;
  } else if (download === undefined && origin === 'registry') {
    throw new InputError(file, "a real task needs 'download' (where to get the data and how to lay it out)");
  }
  return spec;
}

/**
 * `label_map` of a task YAML: a mapping dataset value → task value; every target must be one of the
 * task's labels.
 */
function parseLabelMap(file: string, raw: unknown, labels: readonly TaskLabel[]): Record<number, number> | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InputError(file, "'label_map' must be a mapping dataset value: task value (e.g. {1: 1, 2: 1})");
  const taskValues = new Set(labels.map((l) => l.value));
  const out: Record<number, number> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const from = Number(k);
    if (!Number.isInteger(from) || from < 0) throw new InputError(file, `label_map key '${k}' is not a non-negative integer`);
    if (typeof v !== 'number' || !Number.isInteger(v) || !taskValues.has(v)) throw new InputError(file, `label_map ${k}: ${String(v)} is not one of the task's labels (${[...taskValues].join(', ')})`);
    out[from] = v;
  }
  return out;
}

/** A split file named in a task YAML: relative to the YAML's folder, else to configs/. */
function resolveSplitFile(file: string, split: string): string {
  const candidates = path.isAbsolute(split) ? [split] : [path.resolve(path.dirname(file), split), path.resolve(CONFIG_DIR, split)];
  const found = candidates.find((c) => existsSync(c));
  if (found === undefined) throw new InputError(file, `split file '${split}' not found (looked at ${candidates.join(', ')})`);
  return found;
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
    const spec = parseTask(file, readYamlFile(file, 'task', { snakeCase: true }));
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
  /** Toy tasks: seed (default: the task's synth_seed, i.e. the embedded default data). */
  seed?: number;
  /** Toy tasks: number of cases (default: the task's synth_cases). */
  cases?: number;
  /** Toy tasks: progress callback while synthesizing. */
  onCase?: (done: number, total: number) => void;
}

/** The raw data roots in the order they are searched: `data`, $SEGLOSS_DATA, $nnUNet_raw. */
export function dataRoots(data?: string): string[] {
  return [...new Set([data, process.env['SEGLOSS_DATA'], process.env['nnUNet_raw']].filter((r): r is string => r !== undefined && r !== '').map((r) => path.resolve(r)))];
}

/** Candidate folders for a real task's data, in the order they are tried. */
export function dataCandidates(spec: TaskSpec, data?: string): string[] {
  if (spec.dataDir !== undefined) return [spec.dataDir];
  const out: string[] = [];
  // A task YAML given by path: its data_path may be absolute or relative to the YAML's folder.
  if (spec.origin === 'yaml') out.push(path.resolve(path.dirname(spec.file), spec.dataPath));
  for (const root of dataRoots(data)) for (const name of [spec.dataPath, ...(spec.aliases ?? [])]) out.push(path.resolve(root, name));
  if (spec.fallbackPath !== undefined) out.push(path.resolve(PACKAGE_ROOT, spec.fallbackPath));
  return [...new Set(out)];
}

const isDatasetFolder = (dir: string) => existsSync(path.join(dir, 'dataset.json'));

/**
 * An nnU-Net dataset id under the data roots: `Dataset501_Name` or `Task04_Hippocampus` (the folder
 * name), `Dataset501` / `Task501` / `501` (by number: the folder `Dataset<nnn>_*` or `Task<nn…>_*`,
 * as nnU-Net v2's `maybe_convert_to_dataset_name` and v1's task-id lookup do). Undefined when the
 * reference does not look like such an id; an InputError when it does but nothing (or more than one
 * folder) matches.
 */
export function findNnunetDataset(ref: string, roots: readonly string[]): string | undefined {
  const named = /^(Dataset|Task)(\d+)_\S+$/.exec(ref);
  const numbered = /^(?:(Dataset|Task)(\d+)|(\d+))$/.exec(ref);
  if (named === null && numbered === null) return undefined;
  if (named !== null) {
    for (const root of roots) if (isDatasetFolder(path.join(root, ref))) return path.join(root, ref);
  }
  const where = roots.length > 0 ? roots.join(', ') : 'no data root set ($SEGLOSS_DATA, $nnUNet_raw or --data)';
  if (named !== null) throw new InputError(undefined, `dataset ${ref}: no folder ${ref} with a dataset.json in ${where}`);
  const num = Number(numbered?.[2] ?? numbered?.[3]);
  const prefix = numbered?.[1];
  for (const root of roots) {
    let names: string[];
    try {
      names = readdirSync(root).sort();
    } catch {
      continue;
    }
    const hits = names.filter((n) => {
      const m = /^(Dataset|Task)(\d+)_/.exec(n);
      return m !== null && Number(m[2]) === num && (prefix === undefined || m[1] === prefix) && isDatasetFolder(path.join(root, n));
    });
    if (hits.length > 1) throw new InputError(root, `dataset id ${ref} is ambiguous: ${hits.join(', ')}`);
    if (hits.length === 1) return path.join(root, hits[0] as string);
  }
  throw new InputError(undefined, `dataset ${ref}: no folder Dataset${String(num).padStart(3, '0')}_* or Task${String(num).padStart(2, '0')}_* with a dataset.json in ${where}`);
}

/** Characters kept in a task id built from a folder name (it names cache and result folders). */
const safeId = (name: string) => name.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[._]+/, '') || 'dataset';

/** The modality a task built from data gets: CT when any channel says CT, else MRI (z-score normalised). */
function modalityOf(ds: Dataset): 'CT' | 'MRI' {
  return ds.modalities.some((m) => m.toUpperCase().includes('CT')) ? 'CT' : 'MRI';
}

/** A task built from a dataset folder's dataset.json: its labels and modality, the folder as its data. */
export function taskFromDataset(dir: string): TaskSpec {
  const ds = loadDataset(dir);
  const id = safeId(path.basename(ds.root));
  return {
    id,
    description: `${ds.name} (${ds.layout === 'msd' ? 'MSD' : 'nnU-Net v2'} layout, ${ds.training.length} training cases; channels ${ds.modalities.join(', ')})`,
    modality: modalityOf(ds),
    labels: ds.labels.map((l: DatasetLabel) => ({ value: l.value, name: l.name })),
    dataPath: ds.root,
    synthetic: false,
    file: path.join(ds.root, 'dataset.json'),
    dataDir: ds.root,
    origin: 'dataset',
  };
}

/**
 * The task a reference names — the one place every command turns `--task` (or a benchmark's
 * `tasks:` entry) into a task (name its folders by the returned `id`):
 * 1. a registered id (configs/tasks/<id>.yaml);
 * 2. a path to a task YAML (`*.yaml`/`*.yml`);
 * 3. a path to a dataset folder with dataset.json (MSD or nnU-Net v2 layout; `taskFromDataset`);
 * 4. an nnU-Net id under `data`, $SEGLOSS_DATA, $nnUNet_raw (`findNnunetDataset`).
 * A registered id wins over a folder of the same name in the working directory (write `./name`);
 * once a path or nnU-Net id has been resolved, its `id` names that task for the rest of the process.
 */
export function resolveTask(ref: string, options: { data?: string } = {}): TaskSpec {
  const earlier = resolvedById.get(ref);
  if (earlier !== undefined) return earlier;
  const registered = registry().get(ref);
  if (registered !== undefined) return registered;
  const spec = resolveUnregistered(ref, options);
  // Later look-ups by id in this process (train's run directories, its preprocessing) mean this task.
  resolvedById.set(spec.id, spec);
  return spec;
}

/** Tasks resolved from a path or an nnU-Net id in this process, by their id. */
const resolvedById = new Map<string, TaskSpec>();

function resolveUnregistered(ref: string, options: { data?: string }): TaskSpec {
  if (/\.ya?ml$/i.test(ref)) {
    const file = path.resolve(ref);
    if (!existsSync(file)) throw new InputError(file, 'task file does not exist');
    const raw = readYamlFile(file, undefined, { snakeCase: true });
    // id and description may be left out here (parseTask fills them in); every other key meets the schema
    validateConfig('task', file, { id: 'id', description: 'description', ...raw });
    return parseTask(file, raw, 'yaml');
  }
  if (isDatasetFolder(ref)) return taskFromDataset(ref);
  const found = findNnunetDataset(ref, dataRoots(options.data));
  if (found !== undefined) return taskFromDataset(found);
  if (existsSync(ref)) {
    const what = statSync(ref).isDirectory() ? 'folder has no dataset.json (an MSD or nnU-Net v2 dataset folder needs one)' : 'not a task YAML (*.yaml) or a dataset folder';
    throw new InputError(path.resolve(ref), what);
  }
  if (ref.includes('/') || ref.includes(path.sep)) throw new InputError(path.resolve(ref), 'does not exist');
  throw new UsageError(
    `unknown task '${ref}' (registered: ${listTasks().map((t) => t.id).join(', ')}; or a task YAML, a dataset folder, or an nnU-Net id such as Dataset501_Name, 501, Task04_Hippocampus under $SEGLOSS_DATA / $nnUNet_raw)`,
  );
}

/** The task YAML `segloss task init DIR` prints: what `resolveTask(DIR)` uses, ready to edit. */
export function taskYaml(spec: TaskSpec): string {
  const q = (s: string) => (/^[\w./ -]+$/.test(s) && !/^[\d.-]/.test(s) && !/:\s|\s#/.test(s) ? s : JSON.stringify(s));
  const lines = [
    `# Task built from ${spec.file}; save as <id>.yaml, edit, and pass it as --task <file>.yaml`,
    `id: ${q(spec.id)}`,
    `description: ${q(spec.description)}`,
    `# CT: clipped to the foreground's 0.5-99.5 % percentiles, then z-scored; MRI: z-score per case`,
    `modality: ${spec.modality}`,
    'labels:',
    ...spec.labels.map((l) => `  ${l.value}: ${q(l.name)}`),
    `data_path: ${q(spec.dataPath)}`,
    'synthetic: false',
  ];
  if (spec.labelMap !== undefined) lines.push('label_map:', ...Object.entries(spec.labelMap).map(([k, v]) => `  ${k}: ${v}`));
  else lines.push('# merge or drop dataset labels before training (dataset value: task value), e.g.', '# label_map:', '#   2: 1');
  if (spec.split !== undefined) lines.push(`split: ${q(spec.split)}`);
  else lines.push('# a fixed split ({"folds": [{"train": [ids], "val": [ids]}, ...]}; fold 0 val = test set), e.g.', '# split: my_splits.json');
  return lines.join('\n') + '\n';
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
/** The folder name of toy data made with non-default generator settings: keyed by them, so no two settings share a folder. */
export function synthFolderName(dataPath: string, seed: number, cases: number): string {
  return `${dataPath}-s${seed}-n${cases}`;
}

export async function ensureTaskData(taskRef: string | TaskSpec, options: EnsureOptions = {}): Promise<string> {
  const spec = typeof taskRef === 'string' ? resolveTask(taskRef, options.data === undefined ? {} : { data: options.data }) : taskRef;
  if (spec.dataDir !== undefined) return spec.dataDir;
  if (spec.synthetic) {
    const seed = options.seed ?? (spec.synthSeed as number);
    const cases = options.cases ?? (spec.synthCases as number);
    const isDefault = seed === spec.synthSeed && cases === spec.synthCases;
    const dir = path.join(synthRoot(options.synthDir), isDefault ? spec.dataPath : synthFolderName(spec.dataPath, seed, cases));
    const p = readProvenance(dir);
    if (p !== undefined && p.generator === 'segloss-synth' && p.version === GENERATOR_VERSION && p.task === spec.id && p.seed === seed && p.cases === cases) return dir;
    const synthOptions: { cases: number; seed: number; onCase?: (done: number, total: number) => void } = { cases, seed };
    if (options.onCase !== undefined) synthOptions.onCase = options.onCase;
    await synthesizeDataset(spec.id, dir, synthOptions);
    return dir;
  }
  const candidates = dataCandidates(spec, options.data);
  for (const dir of candidates) if (isDatasetFolder(dir)) return dir;
  const looked = candidates.length > 0 ? `not found in ${candidates.join(', ')}` : 'no data folder set ($SEGLOSS_DATA or $nnUNet_raw)';
  throw new InputError(undefined, `task ${spec.id}: data ${looked}. ${spec.download ?? ''}`.trim());
}
