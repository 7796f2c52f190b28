/** `segloss benchmark` and `segloss status`: run, inspect, emit and collect a grid. */
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { globalOptions } from '../context.js';
import { parseIntOption } from '../settings.js';
import { planBenchmark, type BenchmarkPlan } from '../../study/plan.js';
import { resolveConfigPath } from '../../study/config.js';
import { readYamlFile } from '../../util/yaml.js';
import { runGrid } from '../../study/runner.js';
import { benchmarkStateDir, cellState, retriedByNextRun, type CellState } from '../../study/state.js';
import { rankingDir, type Cell } from '../../study/grid.js';
import { cellsToJsonl, groupSbatchArguments, writeSlurm } from '../../study/emit.js';
import { computeLrChoice, describeLrChoice, readLrChoice, writeLrChoice } from '../../study/lr-choice.js';
import { testProvenanceEntry } from '../../study/provenance.js';
import { ProgressReporter, runProgress, shortCellName, type CellProgress } from '../../study/progress.js';
import { compactLeaderboard, fitLine, fitTable } from '../../study/narrow.js';
import { CONFIG_LIMITS, MAX_SEED } from '../../study/config.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { slurmDirectory } from '../../util/layout.js';
import { writeProvenanceFile } from '../../util/provenance.js';
import { info, print, printJson, warn } from '../../util/log.js';
import { InputError, InterruptedError, RuntimeFailure, UsageError, errorMessage } from '../../util/errors.js';
import type { RankWarning } from '../../rank/types.js';

interface BenchmarkFlags {
  config?: string;
  only?: string;
  jobs?: string;
  emit?: string;
  out?: string;
  sbatch?: string[];
  collect?: boolean;
  retryFailed?: boolean;
  data?: string;
  preprocessed?: string;
  results?: string;
  seeds?: number[];
  folds?: number[];
}

function plan(flags: BenchmarkFlags, cmd: Command): BenchmarkPlan {
  const g = globalOptions(cmd);
  // the published schema first (one line naming file and key), then the benchmark's own checks
  readYamlFile(resolveConfigPath(flags.config), 'benchmark');
  return planBenchmark({
    config: flags.config,
    only: flags.only,
    data: flags.data,
    preprocessed: flags.preprocessed,
    results: flags.results,
    seed: g.seed,
    ...(flags.seeds !== undefined ? { seeds: flags.seeds } : {}),
    ...(flags.folds !== undefined ? { folds: flags.folds } : {}),
    backend: cmd.optsWithGlobals<{ backend?: string }>().backend,
  });
}

/** `--seeds 1,2,3` / `--folds 0,1`: distinct whole numbers in [min, max]. */
function parseIntegerList(name: string, min: number, max: number): (raw: string) => number[] {
  return (raw) => {
    const values = raw.split(',').map((v) => v.trim());
    const numbers = values.map((v) => {
      const n = v === '' ? NaN : Number(v);
      if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name}: expected whole numbers from ${min} to ${max}, got '${v}'`);
      return n;
    });
    const duplicate = numbers.find((n, i) => numbers.indexOf(n) !== i);
    if (duplicate !== undefined) throw new UsageError(`${name}: ${duplicate} is listed twice`);
    return numbers;
  };
}

function parseRates(raw: string): number[] {
  return raw.split(',').map((v) => {
    const n = Number(v);
    if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`--rates: expected positive numbers, got '${v}'`);
    return n;
  });
}

/** Progress of the running cells, from their run directories. */
function progressOf(p: BenchmarkPlan, running: { cell: Cell; startedAt: number }[]): CellProgress[] {
  const now = Date.now();
  return running.map(({ cell, startedAt }) => {
    const elapsedSeconds = (now - startedAt) / 1000;
    if (cell.kind !== 'train' && cell.kind !== 'pretrain') return { cell, elapsedSeconds };
    const runDir = p.layout.runDirs(cell)[0];
    return runDir === undefined ? { cell, elapsedSeconds } : { cell, elapsedSeconds, ...runProgress(runDir) };
  });
}


function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined) return '';
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** The leaderboard text (fitted to the output width) and report path of a finished ranking. */
function finalSummary(p: BenchmarkPlan): { leaderboard: string; report: string; warnings: RankWarning[] } | undefined {
  const dir = rankingDir(p.paths);
  const csv = path.join(dir, 'leaderboard.csv');
  if (!existsSync(csv)) return undefined;
  return { leaderboard: compactLeaderboard(readFileSync(csv, 'utf8'), csv), report: path.join(dir, 'report.html'), warnings: rankingWarningsOf(path.join(dir, 'leaderboard.json')) };
}

/**
 * The warnings the rank cell wrote to leaderboard.json (its own stderr went to the cell's log), so
 * that the benchmark prints them after the leaderboard as `segloss rank` does.
 */
function rankingWarningsOf(file: string): RankWarning[] {
  if (!existsSync(file)) return [];
  let parsed: { warnings?: RankWarning[] } | null;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as { warnings?: RankWarning[] } | null;
  } catch (err) {
    throw new InputError(file, `not valid JSON (${errorMessage(err)})`);
  }
  return Array.isArray(parsed?.warnings) ? parsed.warnings : [];
}

function addPathOptions(command: Command): Command {
  return command
    .option('--seeds <list>', "seeds of the replicates, e.g. 1,2,3 (default: the config's seeds, else the global --seed)", parseIntegerList('--seeds', 0, MAX_SEED))
    .option('--folds <list>', "cross-validation folds of the replicates, e.g. 0,1 (default: the config's folds)", parseIntegerList('--folds', 0, 4))
    .option('--data <dir>', 'raw data root for real tasks (default $SEGLOSS_DATA)')
    .option('--preprocessed <dir>', 'preprocessed cache root (default $SEGLOSS_PREPROCESSED/<config name>)')
    .option('--results <dir>', 'results root of this benchmark (default $SEGLOSS_RESULTS/<config name>)');
}

export function register(program: Command): void {
  const benchmark = addPathOptions(
    program
      .command('benchmark')
      .description('run the study: tasks × losses × learning rates → train, choose the rate on validation, test, evaluate, rank')
      .option('--config <file>', 'benchmark YAML, or a name in configs/ (default: smoke, the toy study in minutes)')
      .option('--only <filter>', 'restrict the grid, e.g. task=toy-liver,loss=dice,loss=dicece,lr=3e-4,seed=1,fold=0')
      .option('--jobs <n>', 'cells to run in parallel on this machine (default from the config)')
      .option('--retry-failed', 're-run trainings that diverged before (by default they stay failed, as in the study; cells that crashed or were killed are always re-run)')
      .option('--emit <format>', 'write the grid for a cluster instead of running it: slurm or jsonl')
      .option('--out <dir>', 'with --emit: where to write (default <results>/slurm or <results>/cells.jsonl)')
      .option('--sbatch <option...>', 'with --emit slurm: extra #SBATCH lines, e.g. --sbatch --gres=gpu:1 --time=48:00:00 (up to the next segloss option)')
      .option('--collect', 'rank what a cluster (or an earlier run) produced, without training'),
  );
  // `--sbatch --gres=gpu:1 --time=72:00:00`: every argument after --sbatch up to the next option of
  // this command is an #SBATCH line, although it starts with '--' (commander would call it unknown).
  const parseOptions = benchmark.parseOptions.bind(benchmark);
  benchmark.parseOptions = (argv: string[]) =>
    parseOptions(groupSbatchArguments(argv, (arg) => [...benchmark.options, ...program.options].some((o) => o.long === arg.split('=')[0] || o.short === arg)));
  benchmark.action(async (flags: BenchmarkFlags, cmd: Command) => {
    const g = globalOptions(cmd);
    const p = plan(flags, cmd);
    if (flags.emit !== undefined) {
      if (flags.emit === 'jsonl') {
        const out = path.resolve(flags.out ?? path.join(p.paths.results, 'cells.jsonl'));
        await writeFileAtomic(out, cellsToJsonl(p.cells));
        if (g.json) printJson({ cells: p.cells.length, file: out });
        else print(`${p.cells.length} cells written to ${out}`);
        return;
      }
      if (flags.emit === 'slurm') {
        const out = path.resolve(flags.out ?? slurmDirectory(p.paths.results));
        const files = await writeSlurm(p.cells, out, { name: p.config.name, sbatch: flags.sbatch ?? [] });
        if (g.json) printJson({ cells: p.cells.length, files });
        else print(`${p.cells.length} cells in ${files.length - 2} job arrays written to ${out}\nsubmit with: ${path.join(out, 'submit.sh')}\nthen rank with: segloss benchmark --config ${p.config.file} --collect`);
        return;
      }
      throw new UsageError(`--emit: unknown format '${flags.emit}' (valid: slurm, jsonl)`);
    }
    const jobs = flags.jobs === undefined ? p.config.jobs : parseIntOption('--jobs')(flags.jobs);
    if (jobs < 1 || jobs > CONFIG_LIMITS.jobs) throw new UsageError(`--jobs: must be from 1 to ${CONFIG_LIMITS.jobs}, got ${jobs}`);
    const cells = flags.collect === true ? p.cells.filter((c) => c.kind === 'rank').map((c) => ({ ...c, dependsOn: [] })) : p.cells;
    const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
    const grid = [
      count(p.config.tasks.length, 'task', 'tasks'),
      count(p.config.losses.length, 'loss', 'losses'),
      count(p.config.learningRates.length, 'learning rate', 'learning rates'),
      count(p.replicates.length, 'replicate', 'replicates'),
    ].join(' × ');
    const restriction = flags.collect === true ? ' (--collect: ranking only)' : flags.only !== undefined ? ` (restricted by --only ${flags.only})` : '';
    info(`benchmark ${p.config.name}: ${grid}, ${cells.length} cells${restriction}, ${jobs} at a time`);
    info(`results: ${p.paths.results}`);
    const quiet = g.quiet || g.json;
    const reporter = new ProgressReporter((text) => process.stderr.write(text), process.stderr.isTTY === true);
    const result = await runGrid(cells, {
      jobs,
      paths: p.paths,
      layout: p.layout,
      inputsOf: p.inputsOf,
      retryFailed: flags.retryFailed === true,
      onEvent: (e) => {
        reporter.clear();
        const reason = e.state.reason !== undefined ? ` (${e.state.reason})` : '';
        const time = e.state.seconds !== undefined ? ' in ' + formatSeconds(e.state.seconds) : '';
        const choice = e.cell.kind === 'test' && e.state.state === 'done' ? lrChoiceNote(p, e.cell.task as string, e.cell.loss as string) : '';
        info(fitLine(`[${String(e.finished).padStart(String(e.total).length)}/${e.total}] ${shortCellName(e.cell)} ${e.state.state}${time}${choice}${reason}`));
      },
      ...(quiet ? {} : { onProgress: (running: { cell: Cell; startedAt: number }[]) => reporter.update(progressOf(p, running)) }),
    });
    reporter.clear();
    if (result.interrupted) throw new InterruptedError('benchmark interrupted: re-run the same command to continue where it stopped');
    const failed = [...result.states.values()].filter((s) => s.state === 'failed');
    for (const f of failed) warn(`${f.id} failed: ${f.reason ?? 'see its log'}`);
    const summary = finalSummary(p);
    if (summary === undefined) throw new RuntimeFailure(`benchmark ${p.config.name}: no ranking was produced (see ${path.join(benchmarkStateDir(p.paths), 'logs')})`);
    if (g.json) {
      printJson({ name: p.config.name, seconds: result.seconds, failed, results: p.paths.results, ranking: rankingDir(p.paths), report: summary.report, warnings: summary.warnings });
      return;
    }
    print(summary.leaderboard);
    print('');
    for (const w of summary.warnings) warn(`[${w.code}] ${w.message}`);
    print(`report: ${summary.report}`);
    info(`benchmark ${p.config.name} finished in ${formatSeconds(result.seconds)}`);
  });

  registerStudySteps(program);

  addPathOptions(
    program
      .command('status')
      .description('show a benchmark grid as a table: done, running, failed (with reason), pending, and the time spent')
      .option('--config <file>', 'benchmark YAML, or a name in configs/ (default: smoke)')
      .option('--only <filter>', 'restrict the grid as for benchmark'),
  ).action((flags: BenchmarkFlags, cmd: Command) => {
    const g = globalOptions(cmd);
    const p = plan(flags, cmd);
    const states = p.cells.map((c) => ({ cell: c, state: cellState(c, p.paths, p.layout, p.inputsOf) }));
    const counts: Record<string, number> = { done: 0, running: 0, failed: 0, pending: 0 };
    let seconds = 0;
    for (const s of states) {
      counts[s.state.state] = (counts[s.state.state] ?? 0) + 1;
      seconds += s.state.seconds ?? 0;
    }
    if (g.json) {
      const where = (c: (typeof states)[number]['cell']) => ({ task: c.task ?? null, loss: c.loss ?? null, learningRate: c.learningRate ?? null, seed: c.seed ?? null, fold: c.fold ?? null });
      printJson({ name: p.config.name, results: p.paths.results, replicates: p.replicates, counts, seconds, cells: states.map((s) => ({ ...s.state, kind: s.cell.kind, ...where(s.cell) })) });
      return;
    }
    const reason = (s: CellState) => (retriedByNextRun(s) ? `${s.reason ?? 'failed'} (the next run retries it)` : s.reason ?? '');
    print(fitTable(['cell', 'state', 'time', 'reason'], states.map((s) => [s.cell.id, s.state.state, formatSeconds(s.state.seconds), reason(s.state)])));
    print('');
    print(`${p.config.name}: ${counts['done']} done, ${counts['running']} running, ${counts['failed']} failed, ${counts['pending']} pending; ${formatSeconds(seconds)} spent`);
    // A path is printed whole, on its own line.
    print(`results: ${p.paths.results}`);
  });
}

/** ` at 3e-4 (mean val Dice 0.81)`: the chosen rate, for a finished test cell's line. */
function lrChoiceNote(p: BenchmarkPlan, task: string, loss: string): string {
  try {
    const choice = readLrChoice(p.paths.results, task, loss);
    return choice === undefined ? '' : ` at ${describeLrChoice(choice)}`;
  } catch {
    return '';
  }
}

interface StudyFlags {
  results: string;
  task: string;
  loss: string;
  rates?: number[];
  seeds?: number[];
  folds?: number[];
  fold?: number;
  out?: string;
  checkpoint?: 'best' | 'final';
}

/**
 * `segloss study …`: steps of the benchmark's cells that are not commands of their own (hidden):
 * the learning-rate choice over a loss's replicates, and the provenance of a test.
 */
function registerStudySteps(program: Command): void {
  const study = program.command('study', { hidden: true }).description("steps of the benchmark's cells (used by `segloss benchmark`)");
  study
    .command('choose-lr')
    .description("choose a loss's learning rate on the mean validation score over its replicates; write lr-choice.json")
    .requiredOption('--results <dir>', 'results root of the benchmark')
    .requiredOption('--task <id>', 'task')
    .requiredOption('--loss <id>', 'loss')
    .requiredOption('--rates <list>', 'learning rates searched, e.g. 3e-3,3e-4', parseRates)
    .requiredOption('--seeds <list>', 'seeds of the replicates', parseIntegerList('--seeds', 0, MAX_SEED))
    .requiredOption('--folds <list>', 'folds of the replicates', parseIntegerList('--folds', 0, 4))
    .action((flags: StudyFlags, cmd: Command) => {
      const g = globalOptions(cmd);
      const replicates = (flags.folds ?? []).flatMap((fold) => (flags.seeds ?? []).map((seed) => ({ seed, fold })));
      const choice = computeLrChoice(path.resolve(flags.results), flags.task, flags.loss, flags.rates ?? [], replicates);
      const file = writeLrChoice(path.resolve(flags.results), choice);
      if (g.json) printJson({ file, ...choice });
      else info(`${flags.task}/${flags.loss}: learning rate ${describeLrChoice(choice)} → ${file}`);
    });
  study
    .command('provenance')
    .description("write provenance.json of one replicate's test (evaluate writes the seed/fold columns of its results.csv)")
    .requiredOption('--results <dir>', 'results root of the benchmark')
    .requiredOption('--task <id>', 'task')
    .requiredOption('--loss <id>', 'loss')
    .requiredOption('--fold <k>', 'fold of the replicate (its seed is the global --seed)', parseIntOption('--fold'))
    .requiredOption('--out <dir>', "the test's evaluation directory")
    .option('--checkpoint <kind>', 'the checkpoint prediction used: best or final (default: the run\'s config, else best)')
    .action((flags: StudyFlags, cmd: Command) => {
      const g = globalOptions(cmd);
      if (flags.checkpoint !== undefined && flags.checkpoint !== 'best' && flags.checkpoint !== 'final') throw new UsageError(`--checkpoint: expected best or final, got '${String(flags.checkpoint)}'`);
      const results = path.resolve(flags.results);
      const out = path.resolve(flags.out as string);
      const replicate = { seed: g.seed, fold: flags.fold as number };
      const choice = readLrChoice(results, flags.task, flags.loss);
      if (choice === undefined) throw new InputError(results, `no learning-rate choice for ${flags.task}/${flags.loss} (run \`segloss study choose-lr\` first)`);
      const entry = testProvenanceEntry(results, choice, replicate, flags.checkpoint);
      // No entry when no rate finished: nothing was tested, and the file says so by being empty.
      const file = writeProvenanceFile(out, entry === undefined ? [] : [entry]);
      if (g.json) printJson({ file, entries: entry === undefined ? 0 : 1 });
      else info(`provenance: ${file}`);
    });
}
