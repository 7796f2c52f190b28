/**
 * The benchmark grid as cells. A cell is one unit of work with the exact `segloss`
 * commands that perform it and the cells it waits for:
 *
 *   prepare:<task>                          synthesize (toy tasks) and preprocess
 *   pretrain:<task>:<loss>:<rep>            the model a special schedule starts from (CE for Lovász,
 *                                           Dice for DiceBD/DiceHD), shared by all its fine-tunings of
 *                                           that replicate; when the grid trains that base loss anyway,
 *                                           the base loss's train cells are the pre-training instead
 *   train:<task>:<loss>:<lr>:<rep>          one training run of one replicate
 *   test:<task>:<loss>:<rep>                choose the loss's rate on the mean validation score over its
 *                                           replicates (./lr-choice.ts), predict the test split of this
 *                                           replicate with it, evaluate DSC/NSD/HD95, write provenance
 *   rank                                    rank every loss over all tasks, write leaderboard + report
 *
 * <rep> is a replicate, `fold-<k>:seed-<s>`: the grid trains every (task, loss, rate) once per seed
 * and fold of the config, each in its own run directory (src/util/layout.ts).
 *
 * The same cells drive the local runner, `segloss status`, and the Slurm/JSONL emitters, so a
 * cluster runs exactly what a laptop runs.
 */
import * as path from 'node:path';
import type { BenchmarkConfig } from './config.js';
import { UsageError } from '../util/errors.js';
import { PROVENANCE_FILE_NAME } from '../util/provenance.js';
import { PUBLISHED_TASK_IDS } from '../rank/published.js';
import { synthFolderName } from '../data/tasks.js';
import {
  formatLearningRate, lossDirectory, preprocessedTaskDirectory, pretrainDirectory, rankingDirectory, runDirectory, testEvaluationDirectory,
  testPredictionsDirectory, testResultsFile,
} from '../util/layout.js';

export type CellKind = 'prepare' | 'pretrain' | 'train' | 'test' | 'rank';

export interface Cell {
  id: string;
  kind: CellKind;
  task?: string;
  loss?: string;
  learningRate?: number;
  /** The replicate of a pretrain, train or test cell. */
  seed?: number;
  fold?: number;
  /** Ids of the cells that must have finished (successfully or not) first. */
  dependsOn: string[];
  /** segloss argument lists run one after the other. */
  commands: string[][];
  /** Whether a command's failure still lets the next one run (test: evaluate scores a failed training as N/A). */
  continueOnFailure: boolean;
  /** The config's protocol keys for training and prediction cells (`selection`, `checkpoint`), when set. */
  protocol?: { selection?: 'nested' | 'paper'; checkpoint?: 'best' | 'final' };
}

export interface GridPaths {
  /** Raw data root for real tasks (undefined: $SEGLOSS_DATA / task defaults). */
  data?: string;
  synth: string;
  preprocessed: string;
  /** Results root of this benchmark: runs, test predictions, evaluations, ranking. */
  results: string;
}

export interface GridOptions {
  /**
   * The global `--seed`: of the data preparation and the ranking's bootstrap, and the one seed of
   * every replicate when neither `seeds` nor the config's `seeds` is given.
   */
  seed: number;
  /** Seeds of the replicates (`--seeds`); default the config's `seeds`, else [seed]. */
  seeds?: number[];
  /** Folds of the replicates (`--folds`); default the config's `folds`. */
  folds?: number[];
  backend?: string;
  /** Whether the task is a synthetic toy task (synthesized by the prepare cell). */
  isSynthetic: (task: string) => boolean;
  /** The pre-training loss a loss's schedule starts from (undefined for plug-and-play losses). */
  pretrainLossOf: (loss: string) => string | undefined;
  /** Whether a loss searches the fine-tuning learning rates (DiceBD, DiceHD: paper footnote 7). */
  usesFinetuneRates: (loss: string) => boolean;
}

/** One replicate of a run: the seed and the fold it trains. */
export interface Replicate {
  seed: number;
  fold: number;
}

/** The grid's replicates: every seed × every fold, folds outermost. */
export function gridReplicates(config: BenchmarkConfig, options: Pick<GridOptions, 'seed' | 'seeds' | 'folds'>): Replicate[] {
  const seeds = options.seeds ?? config.seeds ?? [options.seed];
  const folds = options.folds ?? config.folds;
  return folds.flatMap((fold) => seeds.map((seed) => ({ seed, fold })));
}

/** `fold-<k>:seed-<s>`, the replicate part of a cell id. */
export function replicateId(r: Replicate): string {
  return `fold-${r.fold}:seed-${r.seed}`;
}

export function trainCellId(task: string, loss: string, learningRate: number, r: Replicate): string {
  return `train:${task}:${loss}:${formatLearningRate(learningRate)}:${replicateId(r)}`;
}

// The grid's paths: the results layout (src/util/layout.ts) under the benchmark's roots.

export function preprocessedDir(paths: GridPaths, task: string): string {
  return preprocessedTaskDirectory(paths.preprocessed, task);
}

export function lossDir(paths: GridPaths, task: string, loss: string): string {
  return lossDirectory(paths.results, task, loss);
}

export function runDir(paths: GridPaths, task: string, loss: string, learningRate: number, fold: number, seed: number): string {
  return runDirectory(paths.results, task, loss, learningRate, fold, seed);
}

export function pretrainDir(paths: GridPaths, task: string, loss: string, fold: number, seed: number): string {
  return pretrainDirectory(paths.results, task, loss, fold, seed);
}

export function testPredictionsDir(paths: GridPaths, task: string, loss: string, fold: number, seed: number): string {
  return testPredictionsDirectory(paths.results, task, loss, fold, seed);
}

export function testEvaluationDir(paths: GridPaths, task: string, loss: string, fold: number, seed: number): string {
  return testEvaluationDirectory(paths.results, task, loss, fold, seed);
}

/** The results.csv a test cell writes and the rank cell reads. */
export function testResults(paths: GridPaths, task: string, loss: string, fold: number, seed: number): string {
  return testResultsFile(paths.results, task, loss, fold, seed);
}

/** The provenance.json a test cell writes last: its output (a test is done when it exists). */
export function testProvenance(paths: GridPaths, task: string, loss: string, fold: number, seed: number): string {
  return path.join(testEvaluationDir(paths, task, loss, fold, seed), PROVENANCE_FILE_NAME);
}

export function rankingDir(paths: GridPaths): string {
  return rankingDirectory(paths.results);
}

/**
 * What `--task` of the commands that read the task's data (preprocess, train) gets: the YAML's
 * reference (a task YAML, a dataset folder, an nnU-Net id), which every process resolves to the
 * same id (resolveTask); the other commands and every folder use the id.
 */
function taskArgument(config: BenchmarkConfig, task: string): string {
  return config.taskRefs[task] ?? task;
}

function commonFlags(options: GridOptions, seed: number): string[] {
  const flags = ['--seed', String(seed), '--quiet'];
  if (options.backend !== undefined) flags.push('--backend', options.backend);
  return flags;
}

/**
 * The data folder of a task in this grid: for a synthetic task, its own folder keyed by the grid's
 * generator settings (synthFolderName: seed and case count), so the grid's data and the default toy
 * data of `segloss train --task toy-…` never overwrite each other; otherwise the data root.
 */
function gridDataDir(config: BenchmarkConfig, paths: GridPaths, options: GridOptions, task: string): string | undefined {
  return options.isSynthetic(task) ? path.join(paths.synth, synthFolderName(task, options.seed, config.synthCases)) : paths.data;
}

function trainFlags(config: BenchmarkConfig, paths: GridPaths, options: GridOptions, task: string, loss: string, fold: number): string[] {
  const flags = [
    'train', '--task', taskArgument(config, task), '--loss', loss, '--fold', String(fold), '--profile', config.profile,
    '--preprocessed', paths.preprocessed, '--results', paths.results,
  ];
  const dataDir = gridDataDir(config, paths, options, task);
  if (dataDir !== undefined) flags.push('--data', dataDir);
  if (config.training.epochs !== undefined) flags.push('--epochs', String(config.training.epochs));
  if (config.training.iterations !== undefined) flags.push('--iterations', String(config.training.iterations));
  if (config.training.valBatches !== undefined) flags.push('--val-batches', String(config.training.valBatches));
  if (config.pretrainLearningRate !== undefined) flags.push('--pretrain-lr', formatLearningRate(config.pretrainLearningRate));
  for (const [key, value] of Object.entries(config.lossOptions[loss] ?? {})) flags.push('--loss-opt', `${key}=${String(value)}`);
  // The protocol keys (docs/paper-fidelity.md): which cases train and choose, which checkpoint is tested.
  if (config.selection !== undefined) flags.push('--selection', config.selection);
  if (config.checkpoint !== undefined) flags.push('--checkpoint', config.checkpoint);
  return flags;
}

function protocolOf(config: BenchmarkConfig): Cell['protocol'] {
  if (config.selection === undefined && config.checkpoint === undefined) return undefined;
  return {
    ...(config.selection !== undefined ? { selection: config.selection } : {}),
    ...(config.checkpoint !== undefined ? { checkpoint: config.checkpoint } : {}),
  };
}

/** `segloss study choose-lr`: the rate with the best mean validation score over these replicates. */
function chooseLrCommand(common: string[], paths: GridPaths, task: string, loss: string, rates: readonly number[], replicates: readonly Replicate[]): string[] {
  const unique = <T>(values: T[]) => [...new Set(values)];
  return [
    ...common, 'study', 'choose-lr', '--results', paths.results, '--task', task, '--loss', loss,
    '--rates', unique(rates.map(formatLearningRate)).join(','),
    '--seeds', unique(replicates.map((r) => String(r.seed))).join(','),
    '--folds', unique(replicates.map((r) => String(r.fold))).join(','),
  ];
}

/** The commands of a test cell: choose the rate, predict this replicate with it, evaluate, record provenance. */
function testCommands(
  config: BenchmarkConfig, paths: GridPaths, options: GridOptions, task: string, loss: string, rates: readonly number[], replicates: readonly Replicate[], r: Replicate,
): string[][] {
  const common = commonFlags(options, r.seed);
  const predictions = testPredictionsDir(paths, task, loss, r.fold, r.seed);
  const evaluation = testEvaluationDir(paths, task, loss, r.fold, r.seed);
  const predict = [...common, 'predict', '--run', lossDir(paths, task, loss), '--fold', String(r.fold), '--split', 'test', '--out', predictions];
  if (config.evaluation.tta) predict.push('--tta');
  if (config.checkpoint !== undefined) predict.push('--checkpoint', config.checkpoint);
  const provenance = [...common, 'study', 'provenance', '--results', paths.results, '--task', task, '--loss', loss, '--fold', String(r.fold), '--out', evaluation];
  if (config.checkpoint !== undefined) provenance.push('--checkpoint', config.checkpoint);
  return [
    chooseLrCommand(common, paths, task, loss, rates, replicates),
    predict,
    [
      ...common, 'evaluate', '--pred', predictions, '--split', 'test', '--preprocessed', preprocessedDir(paths, task),
      // --score-missing: a training that diverged has no model and no predictions; its test cases are
      // scored as empty predictions (the study's N/A), so the loss stays in the ranking.
      '--fold', String(r.fold), '--score-missing',
      '--tolerance', String(config.evaluation.toleranceMm), '--task', task, '--loss', loss, '--out', evaluation,
    ],
    provenance,
  ];
}

/**
 * All cells of a benchmark, in an order that respects dependencies. `keep` (from `--only`) restricts
 * the train and test cells; the prepare and pretrain cells they need are kept with them.
 */
export function planGrid(config: BenchmarkConfig, paths: GridPaths, options: GridOptions, keep?: (cell: Cell) => boolean): Cell[] {
  const cells: Cell[] = [];
  // Data preparation and ranking use the global seed: every replicate trains on the same data and split.
  const global = commonFlags(options, options.seed);
  const replicates = gridReplicates(config, options);
  const protocol = protocolOf(config);
  const learningRatesOf = (loss: string) => (options.usesFinetuneRates(loss) ? config.finetuneLearningRates : config.learningRates);
  for (const task of config.tasks) {
    const commands: string[][] = [];
    const dataDir = gridDataDir(config, paths, options, task);
    if (options.isSynthetic(task) && dataDir !== undefined) {
      commands.push([...global, 'synth', '--task', task, '--cases', String(config.synthCases), '--out', dataDir]);
    }
    const preprocess = [...global, 'preprocess', '--task', taskArgument(config, task), '--profile', config.profile, '--out', preprocessedDir(paths, task)];
    if (dataDir !== undefined) preprocess.push('--data', dataDir);
    commands.push(preprocess);
    cells.push({ id: `prepare:${task}`, kind: 'prepare', task, dependsOn: [], commands, continueOnFailure: false });
  }
  for (const task of config.tasks) {
    // A special schedule fine-tunes from its base loss (CE for Lovász, Dice for DiceBD/DiceHD).
    // When the grid trains that base loss anyway, its run of the same replicate, at the rate chosen
    // over the base loss's replicates, is the pre-trained model, as in the study; otherwise a shared
    // pre-training cell per replicate trains it.
    const pretrainLosses = new Set(
      config.losses.map(options.pretrainLossOf).filter((l): l is string => l !== undefined && !config.losses.includes(l)),
    );
    for (const base of pretrainLosses) {
      for (const r of replicates) {
        cells.push({
          id: `pretrain:${task}:${base}:${replicateId(r)}`,
          kind: 'pretrain',
          task,
          loss: base,
          seed: r.seed,
          fold: r.fold,
          dependsOn: [`prepare:${task}`],
          commands: [[...commonFlags(options, r.seed), ...trainFlags(config, paths, options, task, base, r.fold), '--pretrain-only']],
          continueOnFailure: false,
          ...(protocol !== undefined ? { protocol } : {}),
        });
      }
    }
    const baseTrainCells = (base: string) => learningRatesOf(base).flatMap((lr) => replicates.map((r) => trainCellId(task, base, lr, r)));
    const inGrid = (base: string | undefined): base is string => base !== undefined && config.losses.includes(base);
    // Losses fine-tuned from a base loss of the grid come after it.
    const fineTunedFromGrid = (loss: string) => inGrid(options.pretrainLossOf(loss));
    const ordered = [...config.losses.filter((l) => !fineTunedFromGrid(l)), ...config.losses.filter(fineTunedFromGrid)];
    for (const loss of ordered) {
      const base = options.pretrainLossOf(loss);
      const trainIds: string[] = [];
      for (const lr of learningRatesOf(loss)) {
        for (const r of replicates) {
          const id = trainCellId(task, loss, lr, r);
          trainIds.push(id);
          const common = commonFlags(options, r.seed);
          const train = [...common, ...trainFlags(config, paths, options, task, loss, r.fold), '--lr', formatLearningRate(lr)];
          const commands: string[][] = [];
          if (inGrid(base)) {
            // Fine-tuning starts from the base loss's run of this replicate at the base loss's chosen rate.
            commands.push(chooseLrCommand(common, paths, task, base, learningRatesOf(base), replicates));
            train.push('--pretrained', lossDir(paths, task, base));
          }
          commands.push(train);
          cells.push({
            id,
            kind: 'train',
            task,
            loss,
            learningRate: lr,
            seed: r.seed,
            fold: r.fold,
            dependsOn: [`prepare:${task}`, ...(base === undefined ? [] : inGrid(base) ? baseTrainCells(base) : [`pretrain:${task}:${base}:${replicateId(r)}`])],
            commands,
            continueOnFailure: false,
            ...(protocol !== undefined ? { protocol } : {}),
          });
        }
      }
      for (const r of replicates) {
        cells.push({
          id: `test:${task}:${loss}:${replicateId(r)}`,
          kind: 'test',
          task,
          loss,
          seed: r.seed,
          fold: r.fold,
          dependsOn: trainIds,
          commands: testCommands(config, paths, options, task, loss, learningRatesOf(loss), replicates, r),
          // A training that diverged has no model: prediction fails, and evaluation then scores every
          // test case as an empty prediction (the study's N/A), so the loss stays in the ranking.
          continueOnFailure: true,
          ...(protocol !== undefined ? { protocol } : {}),
        });
      }
    }
  }
  if (keep !== undefined) {
    const byId = new Map(cells.map((c) => [c.id, c]));
    const keptTrain = new Set(cells.filter((c) => c.kind === 'train' && keep(c)).map((c) => c.id));
    // A test cell then chooses among the kept learning rates only.
    const roots = cells
      .filter((c) => c.kind === 'test' && keep(c))
      .map((c) => {
        const kept = c.dependsOn.filter((d) => keptTrain.has(d)).map((d) => byId.get(d) as Cell);
        const rates = kept.map((t) => t.learningRate as number);
        const r = { seed: c.seed as number, fold: c.fold as number };
        const commands = testCommands(config, paths, options, c.task as string, c.loss as string, rates, replicates, r);
        return { ...c, dependsOn: kept.map((t) => t.id), commands };
      })
      .filter((c) => c.dependsOn.length > 0);
    for (const r of roots) byId.set(r.id, r);
    const selected = withDependencies([...byId.values()], roots);
    cells.splice(0, cells.length, ...selected);
  }
  cells.push({
    id: 'rank',
    kind: 'rank',
    dependsOn: cells.filter((c) => c.kind === 'test').map((c) => c.id),
    commands: [[
      ...global, 'rank', '--results', ...rankInputs(paths, cells),
      '--out', rankingDir(paths), '--metrics', config.ranking.metrics.join(','), '--alpha', String(config.ranking.alpha),
      '--bootstrap', String(config.ranking.bootstrap),
      ...rankExtras(config, options),
    ]],
    continueOnFailure: false,
  });
  return cells;
}

/**
 * The rank cell's flags beyond the metrics: `--published auto` when every task is one of the
 * study's (the published means exist for them, src/rank/published.ts), and `--synthetic-tasks`
 * naming the grid's synthetic tasks, so that a demonstration's leaderboard says what it is.
 */
function rankExtras(config: BenchmarkConfig, options: GridOptions): string[] {
  const extras: string[] = [];
  const studyTasks = new Set(Object.values(PUBLISHED_TASK_IDS));
  if (config.tasks.length > 0 && config.tasks.every((t) => studyTasks.has(t))) extras.push('--published', 'auto');
  const synthetic = config.tasks.filter((t) => options.isSynthetic(t));
  if (synthetic.length > 0) extras.push('--synthetic-tasks', synthetic.join(','));
  return extras;
}

/** The evaluation results the rank cell reads: one results.csv per tested (task, loss, replicate). */
function rankInputs(paths: GridPaths, cells: Cell[]): string[] {
  return cells
    .filter((c) => c.kind === 'test')
    .map((c) => testResults(paths, c.task as string, c.loss as string, c.fold as number, c.seed as number));
}

/** `--only`: which train and test cells to keep, and which seeds and folds (replicates) the grid has. */
export interface OnlyFilter {
  keep: (cell: Cell) => boolean;
  seeds?: number[];
  folds?: number[];
}

const ONLY_KEYS = ['task', 'loss', 'lr', 'seed', 'fold'];

/** Parse `--only task=pancreas,loss=dice,lr=3e-4,seed=1,fold=0` (a key repeated for several values). */
export function parseOnly(only: string | undefined): OnlyFilter | undefined {
  if (only === undefined) return undefined;
  const wanted: Record<string, string[]> = {};
  for (const part of only.split(',')) {
    const [key, value] = part.split('=').map((s) => s.trim());
    if (key === undefined || value === undefined || value === '' || !ONLY_KEYS.includes(key)) {
      throw new UsageError(`--only: expected task=…,loss=…,lr=…,seed=…,fold=… but got '${part}'`);
    }
    (wanted[key] ??= []).push(value);
  }
  const integers = (key: string) => {
    const values = wanted[key];
    if (values === undefined) return undefined;
    return values.map((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new UsageError(`--only: ${key}=${v} is not a whole number`);
      return n;
    });
  };
  return {
    seeds: integers('seed'),
    folds: integers('fold'),
    keep: (cell) => {
      if (wanted['task'] && !wanted['task'].includes(cell.task as string)) return false;
      if (wanted['loss'] && !wanted['loss'].includes(cell.loss as string)) return false;
      if (wanted['lr'] && cell.kind === 'train' && !wanted['lr'].some((lr) => Number(lr) === cell.learningRate)) return false;
      return true;
    },
  };
}

/** The given cells plus everything they depend on, in the original order. */
function withDependencies(all: Cell[], roots: Cell[]): Cell[] {
  const byId = new Map(all.map((c) => [c.id, c]));
  const selected = new Set<string>();
  const visit = (id: string) => {
    if (selected.has(id)) return;
    selected.add(id);
    for (const dep of byId.get(id)?.dependsOn ?? []) visit(dep);
  };
  for (const c of roots) visit(c.id);
  return all.filter((c) => selected.has(c.id));
}
