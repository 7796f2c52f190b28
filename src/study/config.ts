/**
 * Benchmark configuration: the grid tasks × losses × learning rates and how to run it.
 * YAML files in configs/ (smoke.yaml is the embedded default); every key is validated and an
 * unknown key or loss id is an error naming it.
 */
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { InputError, errorMessage } from '../util/errors.js';
import { readYamlFile } from '../util/yaml.js';
import { warn } from '../util/log.js';
import { CONFIG_DIR } from '../util/paths.js';
import { TRAIN_DEFAULTS } from '../train/settings.js';
import { DEFAULT_RANK_METRICS, isMetricName, METRIC_NAMES } from '../eval/metric-descriptors.js';

export interface BenchmarkConfig {
  /** Name of the benchmark; results go to `<results root>/<name>` unless `results` is set. */
  name: string;
  /** Path of the YAML file it was read from. */
  file: string;
  description: string;
  /** Task ids (they name the task's folders). */
  tasks: string[];
  /** Per task id, the reference the YAML gave (a registered id, a task YAML, a dataset folder, an nnU-Net id): what `--task` of its commands gets. */
  taskRefs: Record<string, string>;
  losses: string[];
  /** Learning rates searched per loss; the best on the validation fold is tested (paper §3.2). */
  learningRates: number[];
  /**
   * Learning rates searched when fine-tuning a pre-trained model (DiceBD, DiceHD); paper
   * footnote 7 uses {3e-4, 3e-5, 3e-6, 1e-5, 1e-6}. Default: `learningRates`.
   */
  finetuneLearningRates: number[];
  /** Learning rate of the shared pre-training (CE for Lovász, Dice for DiceBD/DiceHD); default: the profile's. */
  pretrainLearningRate?: number;
  /** Cross-validation fold used for training/validation (the test split is never used to choose): the first of `folds`. */
  fold: number;
  /**
   * Replicates: every (seed, fold) pair trains its own run of every (task, loss, learning rate).
   * `seeds` undefined = one seed, the global `--seed` (default 12345); `folds` defaults to [fold].
   */
  seeds?: number[];
  folds: number[];
  /** Which cases train and which choose (`nested` | `paper`); undefined = the trainer's default (nested). */
  selection?: 'nested' | 'paper';
  /** Which checkpoint is tested (`best` | `final`); undefined = the trainer's default (best). */
  checkpoint?: 'best' | 'final';
  /** Planning/training profile: 'cpu' or 'paper' (configs/profiles/<name>.yaml). */
  profile: string;
  /** Training overrides; undefined keeps the profile's value. */
  training: { epochs?: number; iterations?: number; valBatches?: number };
  /** Per-loss hyper-parameter overrides, e.g. { topk: { k: 30 } }. */
  lossOptions: Record<string, Record<string, number | boolean | string>>;
  /** Number of synthetic cases per toy task. */
  synthCases: number;
  evaluation: { toleranceMm: number; tta: boolean };
  ranking: { metrics: string[]; alpha: number; bootstrap: number };
  /** Parallel cells on one machine (each cell is a child process). */
  jobs: number;
  /** Directory overrides (relative to the working directory); undefined = segloss defaults. */
  paths: { data?: string; synth?: string; preprocessed?: string; results?: string };
}

type Raw = Record<string, unknown>;

const TOP_KEYS = [
  'name', 'description', 'tasks', 'losses', 'learning_rates', 'finetune_learning_rates', 'pretrain_lr', 'fold', 'folds', 'seeds',
  'selection', 'checkpoint', 'profile', 'training',
  'loss_options', 'synth', 'evaluation', 'ranking', 'deterministic', 'jobs', 'paths',
] as const;

function checkKeys(file: string, where: string, value: Raw, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new InputError(file, `unknown key '${where}${key}' (valid: ${allowed.map((k) => where + k).join(', ')})`);
    }
  }
}

function section(file: string, raw: Raw, key: string, allowed: readonly string[]): Raw {
  const value = raw[key];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new InputError(file, `'${key}' must be a mapping`);
  checkKeys(file, `${key}.`, value as Raw, allowed);
  return value as Raw;
}

function stringList(file: string, key: string, value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string')) {
    throw new InputError(file, `'${key}' must be a non-empty list of names`);
  }
  return value as string[];
}

function numberValue(file: string, key: string, value: unknown, check: (n: number) => boolean = Number.isFinite): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !check(n)) throw new InputError(file, `'${key}' has an invalid value '${String(value)}'`);
  return n;
}

function optionalNumber(file: string, key: string, value: unknown, check?: (n: number) => boolean): number | undefined {
  return value === undefined || value === null ? undefined : numberValue(file, key, value, check);
}

/**
 * Upper bounds of the config's counts: far beyond any sensible study (the paper trains 1000 epochs
 * of 250 iterations), low enough that a typo (`epochs: 1e12`) is refused before any work.
 */
export const CONFIG_LIMITS = {
  epochs: 10_000,
  iterations: 100_000,
  valBatches: 10_000,
  synthCases: 10_000,
  jobs: 256,
  bootstrap: 100_000,
  seeds: 100,
  /** nnU-Net's five-fold cross-validation: folds 0 … 4. */
  folds: 5,
} as const;

/** A whole number in [1, max], or a one-line error naming the key and the bound. */
function countValue(file: string, key: string, value: unknown, max: number, min = 1): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new InputError(file, `'${key}' must be a whole number from ${min} to ${max}, got '${String(value)}'`);
  }
  return n;
}

function optionalCount(file: string, key: string, value: unknown, max: number): number | undefined {
  return value === undefined || value === null ? undefined : countValue(file, key, value, max);
}

/** A non-empty list of distinct whole numbers in [min, max] (a single number is a list of one). */
function integerList(file: string, key: string, value: unknown, min: number, max: number, maxLength = Infinity): number[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new InputError(file, `'${key}' must not be empty`);
  if (list.length > maxLength) throw new InputError(file, `'${key}' lists ${list.length} values, at most ${maxLength}`);
  const numbers = list.map((v) => {
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      throw new InputError(file, `'${key}' must list whole numbers from ${min} to ${max}, got '${String(v)}'`);
    }
    return n;
  });
  const duplicate = numbers.find((n, i) => numbers.indexOf(n) !== i);
  if (duplicate !== undefined) throw new InputError(file, `'${key}' lists ${duplicate} twice`);
  return numbers;
}

function choiceValue<T extends string>(file: string, key: string, value: unknown, choices: readonly T[]): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new InputError(file, `'${key}' must be one of ${choices.join(', ')}, got '${String(value)}'`);
  }
  return value as T;
}

/** Seeds are unsigned 32-bit integers (the generator's state, src/util/rng.ts). */
export const MAX_SEED = 2 ** 32 - 1;

/**
 * The id of a `tasks:` entry: with a list of valid ids, the entry itself when listed; with a
 * resolver (resolveTask of src/data/tasks.ts, any task reference), the id it resolves to — its
 * error then names the config file.
 */
function taskIdOf(file: string, ref: string, validTasks: TaskRegistry): string {
  if (typeof validTasks === 'function') {
    try {
      return validTasks(ref);
    } catch (err) {
      throw new InputError(file, `tasks: ${errorMessage(err)}`);
    }
  }
  if (!validTasks.includes(ref)) throw new InputError(file, `unknown task '${ref}' (valid: ${validTasks.join(', ')})`);
  return ref;
}

/** The valid task ids, or a resolver from any task reference to its id (throwing when it names none). */
export type TaskRegistry = readonly string[] | ((ref: string) => string);

/**
 * Parse and validate a benchmark config. `validLosses`/`validTasks` are the registries' ids (or,
 * for tasks, a resolver); they are passed in so this module stays independent of the registries.
 */
export function parseBenchmarkConfig(
  file: string,
  raw: Raw,
  registries: { validLosses: readonly string[]; validTasks: TaskRegistry },
): BenchmarkConfig {
  checkKeys(file, '', raw, TOP_KEYS);
  // Accepted so that older configurations still load, but every run is seeded now (its seed names its directory).
  if (raw['deterministic'] !== undefined) warn(`${file}: 'deterministic' is deprecated and has no effect: every run is seeded with --seed`);
  const taskRefs: Record<string, string> = {};
  for (const ref of stringList(file, 'tasks', raw['tasks'])) {
    const id = taskIdOf(file, ref, registries.validTasks);
    if (taskRefs[id] !== undefined) throw new InputError(file, `'tasks' lists a task twice${id === ref ? '' : ` (${id})`}`);
    taskRefs[id] = ref;
  }
  const tasks = Object.keys(taskRefs);
  const losses = stringList(file, 'losses', raw['losses']);
  for (const l of losses) {
    if (!registries.validLosses.includes(l)) throw new InputError(file, `unknown loss '${l}' (valid: ${registries.validLosses.join(', ')})`);
  }
  if (new Set(losses).size !== losses.length) throw new InputError(file, `'losses' lists a loss twice`);
  const rates = (key: string, value: unknown) => {
    const list = Array.isArray(value) ? value : [value];
    if (list.length === 0) throw new InputError(file, `'${key}' must not be empty`);
    const numbers = list.map((v) => numberValue(file, key, v, (n) => n > 0 && Number.isFinite(n)));
    const duplicate = numbers.find((n, i) => numbers.indexOf(n) !== i);
    if (duplicate !== undefined) throw new InputError(file, `'${key}' lists ${duplicate} twice`);
    return numbers;
  };
  const learningRates = rates('learning_rates', raw['learning_rates'] ?? [3e-4]);
  const finetuneLearningRates = raw['finetune_learning_rates'] === undefined ? learningRates : rates('finetune_learning_rates', raw['finetune_learning_rates']);
  if (raw['fold'] !== undefined && raw['folds'] !== undefined) throw new InputError(file, `give either 'fold' or 'folds', not both`);
  const folds =
    raw['folds'] !== undefined
      ? integerList(file, 'folds', raw['folds'], 0, CONFIG_LIMITS.folds - 1)
      : [countValue(file, 'fold', raw['fold'] ?? TRAIN_DEFAULTS.fold, CONFIG_LIMITS.folds - 1, 0)];
  const training = section(file, raw, 'training', ['epochs', 'iterations', 'val_batches']);
  const synth = section(file, raw, 'synth', ['cases']);
  const evaluation = section(file, raw, 'evaluation', ['tolerance_mm', 'tta']);
  const ranking = section(file, raw, 'ranking', ['metrics', 'alpha', 'bootstrap']);
  const paths = section(file, raw, 'paths', ['data', 'synth', 'preprocessed', 'results']);
  const lossOptionsRaw = raw['loss_options'] ?? {};
  if (typeof lossOptionsRaw !== 'object' || lossOptionsRaw === null || Array.isArray(lossOptionsRaw)) {
    throw new InputError(file, `'loss_options' must be a mapping of loss id to options`);
  }
  const lossOptions: BenchmarkConfig['lossOptions'] = {};
  for (const [id, opts] of Object.entries(lossOptionsRaw as Raw)) {
    if (!losses.includes(id)) throw new InputError(file, `'loss_options.${id}' names a loss that is not in 'losses'`);
    if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) throw new InputError(file, `'loss_options.${id}' must be a mapping`);
    lossOptions[id] = opts as Record<string, number | boolean | string>;
  }
  const metrics = ranking['metrics'] === undefined ? [...DEFAULT_RANK_METRICS] : stringList(file, 'ranking.metrics', ranking['metrics']);
  for (const m of metrics) if (!isMetricName(m)) throw new InputError(file, `unknown metric '${m}' in 'ranking.metrics' (valid: ${METRIC_NAMES.join(', ')})`);
  const pathString = (key: string): string | undefined => {
    const v = paths[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new InputError(file, `'paths.${key}' must be a path`);
    return v;
  };
  const name = raw['name'] === undefined ? path.basename(file).replace(/\.ya?ml$/, '') : String(raw['name']);
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new InputError(file, `'name' may only contain letters, digits, '.', '_' and '-'`);
  return {
    name,
    file,
    description: raw['description'] === undefined ? '' : String(raw['description']),
    tasks,
    taskRefs,
    losses,
    learningRates,
    finetuneLearningRates,
    pretrainLearningRate: optionalNumber(file, 'pretrain_lr', raw['pretrain_lr'], (n) => n > 0 && Number.isFinite(n)),
    fold: folds[0] as number,
    folds,
    seeds: raw['seeds'] === undefined ? undefined : integerList(file, 'seeds', raw['seeds'], 0, MAX_SEED, CONFIG_LIMITS.seeds),
    selection: choiceValue(file, 'selection', raw['selection'], ['nested', 'paper'] as const),
    checkpoint: choiceValue(file, 'checkpoint', raw['checkpoint'], ['best', 'final'] as const),
    profile: raw['profile'] === undefined ? TRAIN_DEFAULTS.profile : String(raw['profile']),
    training: {
      epochs: optionalCount(file, 'training.epochs', training['epochs'], CONFIG_LIMITS.epochs),
      iterations: optionalCount(file, 'training.iterations', training['iterations'], CONFIG_LIMITS.iterations),
      valBatches: optionalCount(file, 'training.val_batches', training['val_batches'], CONFIG_LIMITS.valBatches),
    },
    lossOptions,
    synthCases: countValue(file, 'synth.cases', synth['cases'] ?? 20, CONFIG_LIMITS.synthCases),
    evaluation: {
      toleranceMm: numberValue(file, 'evaluation.tolerance_mm', evaluation['tolerance_mm'] ?? 1, (n) => n >= 0),
      tta: evaluation['tta'] === true,
    },
    ranking: {
      metrics,
      alpha: numberValue(file, 'ranking.alpha', ranking['alpha'] ?? 0.05, (n) => n > 0 && n < 1),
      bootstrap: countValue(file, 'ranking.bootstrap', ranking['bootstrap'] ?? 1000, CONFIG_LIMITS.bootstrap, 0),
    },
    jobs: countValue(file, 'jobs', raw['jobs'] ?? 1, CONFIG_LIMITS.jobs),
    paths: { data: pathString('data'), synth: pathString('synth'), preprocessed: pathString('preprocessed'), results: pathString('results') },
  };
}

/** Resolve `--config`: a path, or the name of a file in configs/ (`smoke` → configs/smoke.yaml). */
export function resolveConfigPath(config: string | undefined): string {
  if (config === undefined) return path.join(CONFIG_DIR, 'smoke.yaml');
  if (existsSync(config)) return path.resolve(config);
  for (const candidate of [path.join(CONFIG_DIR, config), path.join(CONFIG_DIR, `${config}.yaml`)]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new InputError(config, 'no such benchmark config (give a YAML path or the name of a file in configs/)');
}

export function loadBenchmarkConfig(
  config: string | undefined,
  registries: { validLosses: readonly string[]; validTasks: TaskRegistry },
): BenchmarkConfig {
  const file = resolveConfigPath(config);
  return parseBenchmarkConfig(file, readYamlFile(file), registries);
}
