/**
 * From a benchmark config to its cells, paths and artifact layout: the one place that ties the
 * grid to the registries (losses, tasks) and to the run layout of training and evaluation, shared
 * by `segloss benchmark`, `segloss status` and the emitters.
 */
import * as path from 'node:path';
import { loadBenchmarkConfig, resolveConfigPath, type BenchmarkConfig } from './config.js';
import {
  gridReplicates, planGrid, parseOnly, runDir, pretrainDir, testProvenance, testResults, rankingDir, preprocessedDir, type Cell, type GridPaths,
} from './grid.js';
import type { ArtifactLayout } from './state.js';
import { LOSS_IDS, canonicalLossOptions, getLossDefinition } from '../losses/registry.js';
import { existsSync } from 'node:fs';
import { resolveTask } from '../data/tasks.js';
import { benchmarkRoot } from '../util/layout.js';
import { preprocessedRoot, resultsRoot, synthRoot } from '../util/paths.js';
import { UsageError } from '../util/errors.js';
import { PROVENANCE_FILE_NAME } from '../util/provenance.js';

export interface BenchmarkPlan {
  config: BenchmarkConfig;
  paths: GridPaths;
  cells: Cell[];
  layout: ArtifactLayout;
  /** The replicates (seed, fold) every (task, loss, rate) is trained for. */
  replicates: { seed: number; fold: number }[];
  /** Files a cell reads that, when newer than its output, make it stale (the rank cell's inputs). */
  inputsOf: (cell: Cell) => string[];
}

export interface PlanFlags {
  config?: string;
  only?: string;
  data?: string;
  preprocessed?: string;
  results?: string;
  /** The global --seed (data preparation, ranking; the one replicate seed when no seeds are given). */
  seed: number;
  /** `--seeds`, `--folds`: the replicates, instead of the config's `seeds` and `folds`. */
  seeds?: number[];
  folds?: number[];
  backend?: string;
}

/** `--only seed=…`/`fold=…` must name replicates of the grid; they then restrict it. */
function restrict(values: number[], only: number[] | undefined, key: string): number[] {
  if (only === undefined) return values;
  for (const v of only) if (!values.includes(v)) throw new UsageError(`--only ${key}=${v}: the grid's ${key}s are ${values.join(', ')}`);
  return values.filter((v) => only.includes(v));
}

export function planBenchmark(flags: PlanFlags): BenchmarkPlan {
  // `tasks:` takes any task reference (resolveTask: a registered id, a task YAML, a dataset folder,
  // an nnU-Net id under --data / $SEGLOSS_DATA / $nnUNet_raw); its id names the task's folders.
  const taskOptions = flags.data === undefined ? {} : { data: flags.data };
  const parsed = loadBenchmarkConfig(flags.config, { validLosses: LOSS_IDS, validTasks: (ref) => resolveTask(ref, taskOptions).id });
  // A path is made absolute: the cells' commands may run elsewhere (Slurm, another working directory).
  const loaded = { ...parsed, taskRefs: Object.fromEntries(Object.entries(parsed.taskRefs).map(([id, ref]) => [id, ref !== id && existsSync(ref) ? path.resolve(ref) : ref])) };
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
  const only = parseOnly(flags.only);
  const seeds = restrict(flags.seeds ?? config.seeds ?? [flags.seed], only?.seeds, 'seed');
  const folds = restrict(flags.folds ?? config.folds, only?.folds, 'fold');
  const cells = planGrid(
    config,
    paths,
    {
      seed: flags.seed,
      seeds,
      folds,
      backend: flags.backend,
      isSynthetic: (t) => resolveTask(t, taskOptions).synthetic,
      pretrainLossOf,
      usesFinetuneRates: (loss) => getLossDefinition(loss).schedule?.finetuneRates === true,
    },
    only?.keep,
  );
  const layout: ArtifactLayout = {
    runDirs: (cell) => {
      if (cell.kind === 'pretrain') return [pretrainDir(paths, cell.task as string, cell.loss as string, cell.fold as number, cell.seed as number)];
      return [runDir(paths, cell.task as string, cell.loss as string, cell.learningRate as number, cell.fold as number, cell.seed as number)];
    },
    outputFile: (cell) => {
      switch (cell.kind) {
        case 'prepare':
          return path.join(preprocessedDir(paths, cell.task as string), 'plans.json');
        case 'test':
          // Written last, after results.csv: a test killed before it runs again.
          return testProvenance(paths, cell.task as string, cell.loss as string, cell.fold as number, cell.seed as number);
        case 'rank':
          return path.join(rankingDir(paths), 'leaderboard.csv');
        default:
          return undefined;
      }
    },
  };
  // What the ranking reads: every test cell's results.csv and the provenance.json beside it (the
  // provenance table and the under-trained/unequal-compute warnings), so a change to either makes it stale.
  const inputsOf = (cell: Cell) =>
    cell.kind === 'rank'
      ? cells.filter((c) => c.kind === 'test').flatMap((c) => {
          const results = testResults(paths, c.task as string, c.loss as string, c.fold as number, c.seed as number);
          return [results, path.join(path.dirname(results), PROVENANCE_FILE_NAME)];
        })
      : [];
  return { config, paths, cells, layout, inputsOf, replicates: gridReplicates(config, { seed: flags.seed, seeds, folds }) };
}
