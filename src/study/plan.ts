/**
 * From a benchmark config to its cells, paths and artifact layout: the one place that ties the
 * grid to the registries (losses, tasks) and to the run layout of training and evaluation, shared
 * by `segloss benchmark`, `segloss status` and the emitters.
 */
import * as path from 'node:path';
import { loadBenchmarkConfig, resolveConfigPath, type BenchmarkConfig } from './config.js';
import { planGrid, parseOnly, runDir, pretrainDir, testResults, rankingDir, preprocessedDir, type Cell, type GridPaths } from './grid.js';
import type { ArtifactLayout } from './state.js';
import { LOSS_IDS, canonicalLossOptions, getLossDefinition } from '../losses/registry.js';
import { listTasks, getTask } from '../data/tasks.js';
import { benchmarkRoot } from '../util/layout.js';
import { preprocessedRoot, resultsRoot, synthRoot } from '../util/paths.js';

export interface BenchmarkPlan {
  config: BenchmarkConfig;
  paths: GridPaths;
  cells: Cell[];
  layout: ArtifactLayout;
  /** Files a cell reads that, when newer than its output, make it stale (the rank cell's inputs). */
  inputsOf: (cell: Cell) => string[];
}

export interface PlanFlags {
  config?: string;
  only?: string;
  data?: string;
  preprocessed?: string;
  results?: string;
  seed: number;
  backend?: string;
}

export function planBenchmark(flags: PlanFlags): BenchmarkPlan {
  const loaded = loadBenchmarkConfig(flags.config, { validLosses: LOSS_IDS, validTasks: listTasks().map((t) => t.id) });
  // Loss options under their current names: a deprecated name warns once here, not in every cell.
  const lossOptions = Object.fromEntries(Object.entries(loaded.lossOptions).map(([id, o]) => [id, canonicalLossOptions(o, `${resolveConfigPath(flags.config)}: loss_options.${id}`)]));
  const config: BenchmarkConfig = { ...loaded, lossOptions };
  const resolve = (p: string | undefined) => (p === undefined ? undefined : path.resolve(p));
  const results = resolve(flags.results) ?? resolve(config.paths.results) ?? benchmarkRoot(resultsRoot(), config.name);
  const paths: GridPaths = {
    data: resolve(flags.data) ?? resolve(config.paths.data),
    synth: resolve(config.paths.synth) ?? synthRoot(),
    preprocessed: resolve(flags.preprocessed) ?? resolve(config.paths.preprocessed) ?? benchmarkRoot(preprocessedRoot(), config.name),
    results,
  };
  const pretrainLossOf = (loss: string) => getLossDefinition(loss).schedule?.pretrainLoss;
  const cells = planGrid(
    config,
    paths,
    {
      seed: flags.seed,
      backend: flags.backend,
      isSynthetic: (t) => getTask(t).synthetic,
      pretrainLossOf,
      usesFinetuneRates: (loss) => getLossDefinition(loss).schedule?.finetuneRates === true,
    },
    parseOnly(flags.only),
  );
  const layout: ArtifactLayout = {
    runDirs: (cell) => {
      if (cell.kind === 'pretrain') return [pretrainDir(paths, cell.task as string, cell.loss as string, config.fold, flags.seed)];
      return [runDir(paths, cell.task as string, cell.loss as string, cell.learningRate as number, config.fold, flags.seed)];
    },
    outputFile: (cell) => {
      switch (cell.kind) {
        case 'prepare':
          return path.join(preprocessedDir(paths, cell.task as string), 'plans.json');
        case 'test':
          return testResults(paths, cell.task as string, cell.loss as string, config.fold, flags.seed);
        case 'rank':
          return path.join(rankingDir(paths), 'leaderboard.csv');
        default:
          return undefined;
      }
    },
  };
  const inputsOf = (cell: Cell) =>
    cell.kind === 'rank'
      ? cells.filter((c) => c.kind === 'test').map((c) => testResults(paths, c.task as string, c.loss as string, config.fold, flags.seed))
      : [];
  return { config, paths, cells, layout, inputsOf };
}
