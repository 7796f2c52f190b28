/** `segloss synth`: write a synthetic CT-like toy dataset in MSD layout. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { globalOptions } from '../context.js';
import { parseIntOption } from '../settings.js';
import { UsageError } from '../../util/errors.js';
import { print, printJson, progressBar, info } from '../../util/log.js';
import { getTask } from '../../data/tasks.js';
import { synthesizeDataset, TOY_TASKS, TOY_SHAPE, TOY_SPACING_MM } from '../../data/synth/toy.js';

/** Refuse to replace a non-empty folder that is not an earlier `segloss synth` output. */
function checkReplaceable(out: string): void {
  if (!existsSync(out)) return;
  const entries = readdirSync(out);
  if (entries.length === 0) return;
  try {
    const json = JSON.parse(readFileSync(path.join(out, 'dataset.json'), 'utf8')) as { segloss?: { generator?: string } };
    if (json.segloss?.generator === 'segloss-synth') return;
  } catch {
    // not a synth dataset
  }
  throw new UsageError(`--out ${out}: folder exists and is not a segloss synth dataset; refusing to replace it (choose an empty or new folder)`);
}

export function register(program: Command): void {
  program
    .command('synth')
    .description(`write a synthetic CT-like toy dataset (MSD layout, ${TOY_SHAPE.join('x')} voxels at ${TOY_SPACING_MM.join('x')} mm)`)
    .requiredOption('--task <id>', `toy task: ${Object.keys(TOY_TASKS).join(', ')}`)
    .option('--cases <n>', 'number of cases (default: the task\'s synth_cases, 20)', parseIntOption('--cases'))
    .requiredOption('--out <dir>', 'output folder (replaced atomically; must be new, empty or an earlier synth output)')
    .addHelpText(
      'after',
      '\nThe same --seed gives byte-identical files. Without --seed (or SEGLOSS_SEED) the task\'s\n' +
        'synth_seed is used, which reproduces the embedded default data of `segloss benchmark`.\n\n' +
        'Example:\n  segloss synth --task toy-liver --cases 20 --out data/toy-liver --seed 7',
    )
    .action(async (opts: { task: string; cases?: number; out: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      const spec = getTask(opts.task);
      if (!spec.synthetic) throw new UsageError(`--task ${opts.task} is a real dataset, not a toy task (toy tasks: ${Object.keys(TOY_TASKS).join(', ')})`);
      const seedGiven = cmd.optsWithGlobals<{ seed?: string }>().seed !== undefined || (process.env['SEGLOSS_SEED'] ?? '') !== '';
      const seed = seedGiven ? g.seed : (spec.synthSeed as number);
      const cases = opts.cases ?? (spec.synthCases as number);
      if (!(cases >= 1 && cases <= 10000)) throw new UsageError(`--cases: expected 1 to 10000, got ${cases}`);
      const out = path.resolve(opts.out);
      checkReplaceable(out);
      const started = Date.now();
      const bar = progressBar(cases, `synth ${spec.id}`);
      try {
        await synthesizeDataset(spec.id, out, { cases, seed, onCase: (done) => bar.update(done) });
      } finally {
        bar.stop();
      }
      const seconds = (Date.now() - started) / 1000;
      if (g.json) {
        printJson({ task: spec.id, cases, seed, out, seconds });
        return;
      }
      info(`wrote ${cases} cases in ${seconds.toFixed(1)} s`);
      print(`${spec.id}: ${cases} cases (seed ${seed}) in ${out}`);
      print(`check it with: segloss check ${opts.out}`);
    });
}
