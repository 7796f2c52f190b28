/**
 * The segloss command line: a thin layer over the library API. Each command lives in
 * ./commands/<name>.ts and exports `register(program)`.
 */
import { Command, CommanderError, Option } from 'commander';
import { SeglossError, EXIT_BAD_INPUT, EXIT_RUNTIME, errorMessage } from '../util/errors.js';
import { installInterruptHandlers } from '../util/interrupt.js';
import { installTerminalRestore, restoreTerminal } from './terminal.js';
import { BACKEND_REQUESTS } from '../engine/backend.js';
import { DEFAULT_SEED } from '../util/rng.js';
import { SEGLOSS_VERSION } from '../util/version.js';
import { register as registerDoctor } from './commands/doctor.js';
import { register as registerSynth } from './commands/synth.js';
import { register as registerCheck } from './commands/check.js';
import { register as registerLosses } from './commands/losses.js';
import { register as registerRank } from './commands/rank.js';
import { register as registerEvaluate } from './commands/evaluate.js';
import { register as registerPredict } from './commands/predict.js';
import { register as registerExport } from './commands/export.js';
import { register as registerPreprocess } from './commands/preprocess.js';
import { register as registerTrain } from './commands/train.js';
import { register as registerBenchmark } from './commands/benchmark.js';
import { register as registerTask } from './commands/task.js';

/** Command modules in the order `segloss --help` lists them. */
const COMMANDS: ((program: Command) => void)[] = [
  registerSynth,
  registerCheck,
  registerTask,
  registerPreprocess,
  registerTrain,
  registerPredict,
  registerEvaluate,
  registerExport,
  registerRank,
  registerBenchmark, // benchmark and status
  registerLosses,
  registerDoctor,
];

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('segloss')
    .description(
      'Which loss should I train my 3D segmentation network with? Reproduces and extends ' +
        '"Loss odyssey in medical image segmentation" (Ma et al., MedIA 2021).',
    )
    .version(SEGLOSS_VERSION)
    .option('--seed <n>', `random seed (env SEGLOSS_SEED; default ${DEFAULT_SEED})`)
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend (env SEGLOSS_BACKEND; default auto)').choices([...BACKEND_REQUESTS]))
    .option('--quiet', 'only warnings, errors and results')
    .option('--json', 'machine-readable output on stdout')
    .option('--verbose', 'more detail, and stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of COMMANDS) register(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/** Run the CLI; returns the exit code instead of exiting so that tests can call it. */
export async function runCli(argv: string[]): Promise<number> {
  installInterruptHandlers();
  installTerminalRestore();
  const program = buildProgram();
  const verbose = argv.includes('--verbose');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    // a bar left running by the failed step would redraw over the message and keep wrap off
    restoreTerminal();
    if (err instanceof CommanderError) {
      // Help and version "errors" are successful exits; commander has already printed its message.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return EXIT_BAD_INPUT;
    }
    if (err instanceof SeglossError) {
      process.stderr.write(`segloss: ${err.message}\n`);
      if (verbose && err.stack) process.stderr.write(err.stack + '\n');
      return err.exitCode;
    }
    process.stderr.write(`segloss: ${errorMessage(err).split('\n')[0]}\n`);
    if (verbose && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    else process.stderr.write('(run with --verbose for the stack trace)\n');
    return EXIT_RUNTIME;
  } finally {
    restoreTerminal();
  }
}
