/**
 * Running the grid elsewhere: `--emit slurm` writes a Slurm job-array per phase
 * (prepare → pretrain → train → finetune → test → rank), chained with dependencies so that fine-tuning waits
 * for its pre-trained model and the tests wait for every learning rate; `--emit jsonl` writes the
 * same cells one JSON object per line for other schedulers. Fine-tuning cells that start from a
 * training cell of the grid (DiceBD from Dice) get a phase of their own after training. Each array task runs the exact
 * `segloss` commands a local run would, against the shared results directory.
 */
import * as path from 'node:path';
import type { Cell, CellKind } from './grid.js';
import { writeFileAtomic } from '../util/atomic.js';
import { SEGLOSS_BIN } from './runner.js';

type Phase = CellKind | 'finetune';
const PHASES: Phase[] = ['prepare', 'pretrain', 'train', 'finetune', 'test', 'rank'];

/** A training cell that starts from another training cell's model runs in a later phase. */
function phaseOf(cell: Cell): Phase {
  return cell.kind === 'train' && cell.dependsOn.some((d) => d.startsWith('train:')) ? 'finetune' : cell.kind;
}

/** POSIX shell quoting of one argument. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** One shell line performing a cell: its commands joined by && (or ; when failures are tolerated). */
export function cellShellLine(cell: Cell, nodePath: string = process.execPath, bin: string = SEGLOSS_BIN): string {
  const commands = cell.commands.map((args) => [nodePath, bin, ...args].map(shellQuote).join(' '));
  if (!cell.continueOnFailure) return commands.join(' && ');
  // Run every command; the cell's exit code is the last command's (evaluation decides a test cell).
  return commands.join(' ; ');
}

export function cellsToJsonl(cells: Cell[]): string {
  return cells
    .map((c) =>
      JSON.stringify({
        id: c.id,
        kind: c.kind,
        task: c.task ?? null,
        loss: c.loss ?? null,
        learning_rate: c.learningRate ?? null,
        seed: c.seed ?? null,
        fold: c.fold ?? null,
        // The config's protocol keys (selection, checkpoint) for schedulers and trainers that read them.
        selection: c.protocol?.selection ?? null,
        checkpoint: c.protocol?.checkpoint ?? null,
        depends_on: c.dependsOn,
        continue_on_failure: c.continueOnFailure,
        commands: c.commands.map((args) => ['segloss', ...args]),
        shell: cellShellLine(c),
      }),
    )
    .join('\n') + '\n';
}

/**
 * `--sbatch --gres=gpu:1 --time=72:00:00 --jobs 2` → `--sbatch=--gres=gpu:1 --sbatch=--time=72:00:00 --jobs 2`:
 * every argument after `--sbatch` up to the next option segloss knows (`isKnownOption`) or `--`
 * is one #SBATCH line (a short option and its value, `-p gpu`, make one line), written so that
 * commander takes it as the option's value although it starts with a dash.
 */
export function groupSbatchArguments(argv: readonly string[], isKnownOption: (arg: string) => boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (arg !== '--sbatch') {
      out.push(arg);
      continue;
    }
    const lines: string[] = [];
    while (i + 1 < argv.length && argv[i + 1] !== '--' && !isKnownOption(argv[i + 1] as string)) {
      const value = argv[++i] as string;
      const previous = lines.at(-1);
      // `-p gpu`: a short option's value joins it.
      if (previous !== undefined && /^-[A-Za-z]$/.test(previous) && !value.startsWith('-')) lines[lines.length - 1] = `${previous} ${value}`;
      else lines.push(value);
    }
    if (lines.length === 0) out.push(arg);
    for (const line of lines) out.push(`--sbatch=${line}`);
  }
  return out;
}

export interface SlurmOptions {
  /** Benchmark name, used for job names. */
  name: string;
  /** Extra #SBATCH lines (partition, GPUs, time), e.g. ['--gres=gpu:1', '--time=48:00:00']. */
  sbatch: string[];
}

/** Write the Slurm scripts into `dir`; returns the files written. */
export async function writeSlurm(cells: Cell[], dir: string, options: SlurmOptions): Promise<string[]> {
  const files: string[] = [];
  const phases = PHASES.map((kind) => ({ kind, cells: cells.filter((c) => phaseOf(c) === kind) })).filter((p) => p.cells.length > 0);
  for (const phase of phases) {
    const file = path.join(dir, `${phase.kind}.cells`);
    await writeFileAtomic(file, phase.cells.map((c) => cellShellLine(c)).join('\n') + '\n');
    files.push(file);
  }
  const arrayScript = path.join(dir, 'cell.sbatch');
  await writeFileAtomic(
    arrayScript,
    [
      '#!/usr/bin/env bash',
      `#SBATCH --job-name=segloss-${options.name}`,
      `#SBATCH --output=${path.join(dir, 'logs', '%x-%A_%a.out')}`,
      ...options.sbatch.map((s) => `#SBATCH ${s}`),
      '# One array task = one benchmark cell: line SLURM_ARRAY_TASK_ID+1 of the phase file given as $1.',
      'set -uo pipefail',
      '# One WebAssembly thread per allocated CPU (array tasks share the node with each other).',
      'export SEGLOSS_WASM_THREADS=${SEGLOSS_WASM_THREADS:-${SLURM_CPUS_PER_TASK:-1}}',
      'line=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" "$1")',
      'echo "cell: $line"',
      'eval "$line"',
      '',
    ].join('\n'),
  );
  files.push(arrayScript);
  const submit = path.join(dir, 'submit.sh');
  const lines = [
    '#!/usr/bin/env bash',
    `# Submits the ${options.name} benchmark as one Slurm job array per phase, each waiting for the previous one.`,
    '# afterany: a diverged training must not block its test cell (it is ranked as N/A, as in the study).',
    'set -euo pipefail',
    `cd ${shellQuote(dir)}`,
    'mkdir -p logs',
    'dep=""',
  ];
  for (const phase of phases) {
    lines.push(
      `jid=$(sbatch --parsable $dep --array=0-${phase.cells.length - 1} --job-name=segloss-${options.name}-${phase.kind} cell.sbatch ${phase.kind}.cells)`,
      `echo "${phase.kind}: job $jid (${phase.cells.length} cells)"`,
      'dep="--dependency=afterany:${jid%%;*}"',
    );
  }
  lines.push('echo "$jid" > last-job-id', '');
  await writeFileAtomic(submit, lines.join('\n'));
  files.push(submit);
  const { chmodSync } = await import('node:fs');
  chmodSync(submit, 0o755);
  chmodSync(arrayScript, 0o755);
  return files;
}
