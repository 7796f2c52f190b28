/**
 * The benchmark grid as cells. A cell is one unit of work with the exact `segloss`
 * commands that perform it and the cells it waits for:
 *
 *   prepare:<task>                       synthesize (toy tasks) and preprocess
 *   pretrain:<task>:<loss>               the model a special schedule starts from (CE for Lovász,
 *                                        Dice for DiceBD/DiceHD), shared by all its fine-tunings;
 *                                        when the grid trains that base loss anyway, the base loss's
 *                                        train cells are the pre-training instead
 *   train:<task>:<loss>:<lr>             one training run on the validation fold
 *   test:<task>:<loss>                   predict the test split with the learning rate that won on
 *                                        the validation fold, then evaluate DSC/NSD/HD95
 *   rank                                 rank every loss over all tasks, write leaderboard + report
 *
 * The same cells drive the local runner, `segloss status`, and the Slurm/JSONL emitters, so a
 * cluster runs exactly what a laptop runs.
 */
import * as path from 'node:path';
import type { BenchmarkConfig } from './config.js';
import { UsageError } from '../util/errors.js';
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
  /** Ids of the cells that must have finished (successfully or not) first. */
  dependsOn: string[];
  /** segloss argument lists run one after the other. */
  commands: string[][];
  /** Whether a command's failure still lets the next one run (test: evaluate scores a failed training as N/A). */
  continueOnFailure: boolean;
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
  /** The seed of every run of the grid (the global `--seed`), passed to every command and naming its run and test directories. */
  seed: number;
  backend?: string;
  /** Whether the task is a synthetic toy task (synthesized by the prepare cell). */
  isSynthetic: (task: string) => boolean;
  /** The pre-training loss a loss's schedule starts from (undefined for plug-and-play losses). */
  pretrainLossOf: (loss: string) => string | undefined;
  /** Whether a loss searches the fine-tuning learning rates (DiceBD, DiceHD: paper footnote 7). */
  usesFinetuneRates: (loss: string) => boolean;
}

// The grid's paths: the results layout (src/util/layout.ts) under the benchmark's roots. Runs and
// tests are per (fold, seed): the grid has one of each today (`fold`, the global `--seed`).

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

export function rankingDir(paths: GridPaths): string {
  return rankingDirectory(paths.results);
}

function commonFlags(options: GridOptions): string[] {
  const flags = ['--seed', String(options.seed), '--quiet'];
  if (options.backend !== undefined) flags.push('--backend', options.backend);
  return flags;
}

function trainFlags(config: BenchmarkConfig, paths: GridPaths, task: string, loss: string): string[] {
  const flags = [
    'train', '--task', task, '--loss', loss, '--fold', String(config.fold), '--profile', config.profile,
    '--preprocessed', paths.preprocessed, '--results', paths.results,
  ];
  if (paths.data !== undefined) flags.push('--data', paths.data);
  if (config.training.epochs !== undefined) flags.push('--epochs', String(config.training.epochs));
  if (config.training.iterations !== undefined) flags.push('--iterations', String(config.training.iterations));
  if (config.training.valBatches !== undefined) flags.push('--val-batches', String(config.training.valBatches));
  if (config.pretrainLearningRate !== undefined) flags.push('--pretrain-lr', formatLearningRate(config.pretrainLearningRate));
  for (const [key, value] of Object.entries(config.lossOptions[loss] ?? {})) flags.push('--loss-opt', `${key}=${String(value)}`);
  return flags;
}

/**
 * All cells of a benchmark, in an order that respects dependencies. `keep` (from `--only`) restricts
 * the train and test cells; the prepare and pretrain cells they need are kept with them.
 */
export function planGrid(config: BenchmarkConfig, paths: GridPaths, options: GridOptions, keep?: (cell: Cell) => boolean): Cell[] {
  const cells: Cell[] = [];
  const common = commonFlags(options);
  const learningRatesOf = (loss: string) => (options.usesFinetuneRates(loss) ? config.finetuneLearningRates : config.learningRates);
  for (const task of config.tasks) {
    const commands: string[][] = [];
    let dataDir = paths.data;
    if (options.isSynthetic(task)) {
      dataDir = path.join(paths.synth, task);
      commands.push([...common, 'synth', '--task', task, '--cases', String(config.synthCases), '--out', dataDir]);
    }
    const preprocess = [...common, 'preprocess', '--task', task, '--profile', config.profile, '--out', preprocessedDir(paths, task)];
    if (dataDir !== undefined) preprocess.push('--data', dataDir);
    commands.push(preprocess);
    cells.push({ id: `prepare:${task}`, kind: 'prepare', task, dependsOn: [], commands, continueOnFailure: false });
  }
  for (const task of config.tasks) {
    // A special schedule fine-tunes from its base loss (CE for Lovász, Dice for DiceBD/DiceHD).
    // When the grid trains that base loss anyway, its run (at the rate that won on validation) is
    // the pre-trained model, as in the study; otherwise a shared pre-training cell trains it.
    const pretrainLosses = new Set(
      config.losses.map(options.pretrainLossOf).filter((l): l is string => l !== undefined && !config.losses.includes(l)),
    );
    for (const base of pretrainLosses) {
      cells.push({
        id: `pretrain:${task}:${base}`,
        kind: 'pretrain',
        task,
        loss: base,
        dependsOn: [`prepare:${task}`],
        commands: [[...common, ...trainFlags(config, paths, task, base), '--pretrain-only']],
        continueOnFailure: false,
      });
    }
    const baseTrainCells = (base: string) => learningRatesOf(base).map((lr) => `train:${task}:${base}:${formatLearningRate(lr)}`);
    const pretrainDependencies = (base: string | undefined) =>
      base === undefined ? [] : config.losses.includes(base) ? baseTrainCells(base) : [`pretrain:${task}:${base}`];
    const pretrainedFlags = (base: string | undefined) =>
      base !== undefined && config.losses.includes(base) ? ['--pretrained', lossDir(paths, task, base)] : [];
    // Losses fine-tuned from a base loss of the grid come after it.
    const fineTunedFromGrid = (loss: string) => pretrainedFlags(options.pretrainLossOf(loss)).length > 0;
    const ordered = [...config.losses.filter((l) => !fineTunedFromGrid(l)), ...config.losses.filter(fineTunedFromGrid)];
    for (const loss of ordered) {
      const base = options.pretrainLossOf(loss);
      const trainIds: string[] = [];
      for (const lr of learningRatesOf(loss)) {
        const id = `train:${task}:${loss}:${formatLearningRate(lr)}`;
        trainIds.push(id);
        cells.push({
          id,
          kind: 'train',
          task,
          loss,
          learningRate: lr,
          dependsOn: [`prepare:${task}`, ...pretrainDependencies(base)],
          commands: [[...common, ...trainFlags(config, paths, task, loss), '--lr', formatLearningRate(lr), ...pretrainedFlags(base)]],
          continueOnFailure: false,
        });
      }
      const predictions = testPredictionsDir(paths, task, loss, config.fold, options.seed);
      const predict = [
        ...common, 'predict', '--run', lossDir(paths, task, loss), '--fold', String(config.fold), '--split', 'test',
        '--out', predictions,
      ];
      if (config.evaluation.tta) predict.push('--tta');
      cells.push({
        id: `test:${task}:${loss}`,
        kind: 'test',
        task,
        loss,
        dependsOn: trainIds,
        commands: [
          predict,
          [
            ...common, 'evaluate', '--pred', predictions, '--split', 'test', '--preprocessed', preprocessedDir(paths, task),
            '--fold', String(config.fold), '--score-missing',
            '--tolerance', String(config.evaluation.toleranceMm), '--task', task, '--loss', loss, '--out', testEvaluationDir(paths, task, loss, config.fold, options.seed),
          ],
        ],
        // A training that diverged has no model: prediction fails, and evaluation (--score-missing) then scores every
        // test case as an empty prediction (the study's N/A), so the loss stays in the ranking.
        continueOnFailure: true,
      });
    }
  }
  if (keep !== undefined) {
    const keptTrain = new Set(cells.filter((c) => c.kind === 'train' && keep(c)).map((c) => c.id));
    // A test cell then chooses among the kept learning rates only.
    const roots = cells
      .filter((c) => c.kind === 'test' && keep(c))
      .map((c) => ({ ...c, dependsOn: c.dependsOn.filter((d) => keptTrain.has(d)) }))
      .filter((c) => c.dependsOn.length > 0);
    const byId = new Map(cells.map((c) => [c.id, c]));
    for (const r of roots) byId.set(r.id, r);
    const selected = withDependencies([...byId.values()], roots);
    cells.splice(0, cells.length, ...selected);
  }
  cells.push({
    id: 'rank',
    kind: 'rank',
    dependsOn: cells.filter((c) => c.kind === 'test').map((c) => c.id),
    commands: [[
      ...common, 'rank', '--results', ...rankInputs(config, paths, options, cells),
      '--out', rankingDir(paths), '--metrics', config.ranking.metrics.join(','), '--alpha', String(config.ranking.alpha),
      '--bootstrap', String(config.ranking.bootstrap),
    ]],
    continueOnFailure: false,
  });
  return cells;
}

/** The evaluation results the rank cell reads: one results.csv per tested (task, loss). */
function rankInputs(config: BenchmarkConfig, paths: GridPaths, options: GridOptions, cells: Cell[]): string[] {
  return cells
    .filter((c) => c.kind === 'test')
    .map((c) => testResults(paths, c.task as string, c.loss as string, config.fold, options.seed));
}

/** Parse `--only task=pancreas,loss=dice,lr=3e-4` into a filter of train and test cells. */
export function parseOnly(only: string | undefined): ((cell: Cell) => boolean) | undefined {
  if (only === undefined) return undefined;
  const wanted: Record<string, string[]> = {};
  for (const part of only.split(',')) {
    const [key, value] = part.split('=').map((s) => s.trim());
    if (key === undefined || value === undefined || !['task', 'loss', 'lr'].includes(key)) {
      throw new UsageError(`--only: expected task=…,loss=…,lr=… but got '${part}'`);
    }
    (wanted[key] ??= []).push(value);
  }
  return (cell) => {
    if (wanted['task'] && !wanted['task'].includes(cell.task as string)) return false;
    if (wanted['loss'] && !wanted['loss'].includes(cell.loss as string)) return false;
    if (wanted['lr'] && cell.kind === 'train' && !wanted['lr'].some((lr) => Number(lr) === cell.learningRate)) return false;
    return true;
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
