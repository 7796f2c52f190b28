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
import { rankingDir } from '../../study/grid.js';
import { cellsToJsonl, writeSlurm } from '../../study/emit.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { slurmDirectory } from '../../util/layout.js';
import { info, print, printJson, formatTable, warn } from '../../util/log.js';
import { InterruptedError, RuntimeFailure, UsageError } from '../../util/errors.js';

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
    backend: cmd.optsWithGlobals<{ backend?: string }>().backend,
  });
}

function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined) return '';
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** The leaderboard text and report path of a finished ranking. */
function finalSummary(p: BenchmarkPlan): { leaderboard: string; report: string } | undefined {
  const dir = rankingDir(p.paths);
  const md = path.join(dir, 'leaderboard.md');
  if (!existsSync(md)) return undefined;
  return { leaderboard: readFileSync(md, 'utf8').trimEnd(), report: path.join(dir, 'report.html') };
}

function addPathOptions(command: Command): Command {
  return command
    .option('--data <dir>', 'raw data root for real tasks (default $SEGLOSS_DATA)')
    .option('--preprocessed <dir>', 'preprocessed cache root (default $SEGLOSS_PREPROCESSED/<config name>)')
    .option('--results <dir>', 'results root of this benchmark (default $SEGLOSS_RESULTS/<config name>)');
}

export function register(program: Command): void {
  addPathOptions(
    program
      .command('benchmark')
      .description('run the study: tasks × losses × learning rates → train, choose the rate on validation, test, evaluate, rank')
      .option('--config <file>', 'benchmark YAML, or a name in configs/ (default: smoke, the toy study in minutes)')
      .option('--only <filter>', 'restrict the grid, e.g. task=toy-liver,loss=dice,loss=dicece,lr=3e-4')
      .option('--jobs <n>', 'cells to run in parallel on this machine (default from the config)')
      .option('--retry-failed', 're-run trainings that diverged before (by default they stay failed, as in the study; cells that crashed or were killed are always re-run)')
      .option('--emit <format>', 'write the grid for a cluster instead of running it: slurm or jsonl')
      .option('--out <dir>', 'with --emit: where to write (default <results>/slurm or <results>/cells.jsonl)')
      .option('--sbatch <option...>', 'with --emit slurm: extra #SBATCH options, e.g. --sbatch --gres=gpu:1 --time=48:00:00')
      .option('--collect', 'rank what a cluster (or an earlier run) produced, without training'),
  ).action(async (flags: BenchmarkFlags, cmd: Command) => {
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
    if (jobs < 1) throw new UsageError('--jobs: must be at least 1');
    const cells = flags.collect === true ? p.cells.filter((c) => c.kind === 'rank').map((c) => ({ ...c, dependsOn: [] })) : p.cells;
    const grid = `${p.config.tasks.length} tasks × ${p.config.losses.length} losses × ${p.config.learningRates.length} learning rate${p.config.learningRates.length === 1 ? '' : 's'}`;
    const restriction = flags.collect === true ? ' (--collect: ranking only)' : flags.only !== undefined ? ` (restricted by --only ${flags.only})` : '';
    info(`benchmark ${p.config.name}: ${grid}, ${cells.length} cells${restriction}, ${jobs} at a time`);
    info(`results: ${p.paths.results}`);
    const result = await runGrid(cells, {
      jobs,
      paths: p.paths,
      layout: p.layout,
      inputsOf: p.inputsOf,
      retryFailed: flags.retryFailed === true,
      onEvent: (e) => {
        const what = `${e.cell.id}`.padEnd(40);
        const reason = e.state.reason !== undefined ? ` (${e.state.reason})` : '';
        info(`[${String(e.finished).padStart(String(e.total).length)}/${e.total}] ${what} ${e.state.state}${e.state.seconds !== undefined ? ' in ' + formatSeconds(e.state.seconds) : ''}${reason}`);
      },
    });
    if (result.interrupted) throw new InterruptedError('benchmark interrupted: re-run the same command to continue where it stopped');
    const failed = [...result.states.values()].filter((s) => s.state === 'failed');
    for (const f of failed) warn(`${f.id} failed: ${f.reason ?? 'see its log'}`);
    const summary = finalSummary(p);
    if (summary === undefined) throw new RuntimeFailure(`benchmark ${p.config.name}: no ranking was produced (see ${path.join(benchmarkStateDir(p.paths), 'logs')})`);
    if (g.json) {
      printJson({ name: p.config.name, seconds: result.seconds, failed, results: p.paths.results, ranking: rankingDir(p.paths), report: summary.report });
      return;
    }
    print(summary.leaderboard);
    print('');
    print(`report: ${summary.report}`);
    info(`benchmark ${p.config.name} finished in ${formatSeconds(result.seconds)}`);
  });

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
      printJson({ name: p.config.name, results: p.paths.results, counts, seconds, cells: states.map((s) => ({ ...s.state, kind: s.cell.kind })) });
      return;
    }
    const reason = (s: CellState) => (retriedByNextRun(s) ? `${s.reason ?? 'failed'} (the next run retries it)` : s.reason ?? '');
    print(formatTable(['cell', 'state', 'time', 'reason'], states.map((s) => [s.cell.id, s.state.state, formatSeconds(s.state.seconds), reason(s.state)])));
    print('');
    print(`${p.config.name}: ${counts['done']} done, ${counts['running']} running, ${counts['failed']} failed, ${counts['pending']} pending; ${formatSeconds(seconds)} spent (results: ${p.paths.results})`);
  });
}
