/** `segloss export`: a trained run's weights for PyTorch (nnU-Net V1 Generic_UNet names, safetensors); see docs/export.md. */
import { Option, type Command } from 'commander';
import { globalOptions } from '../context.js';
import { parseIntOption } from '../settings.js';
import { selectBackend } from '../../engine/backend.js';
import { exportRun } from '../../export/export-run.js';
import { TRAIN_DEFAULTS } from '../../train/settings.js';
import { print, printJson } from '../../util/log.js';

export function register(program: Command): void {
  program
    .command('export')
    .description('write a trained run\'s weights as safetensors under nnU-Net V1 Generic_UNet names, with the arguments that rebuild the network')
    .requiredOption('--run <dir>', 'a run directory, or a loss directory results/<task>/<loss> (the best learning rate of --fold and the global --seed)')
    .option('--fold <k>', `fold of the run for a loss directory (default ${TRAIN_DEFAULTS.fold})`, parseIntOption('--fold'))
    .addOption(new Option('--checkpoint <which>', 'best (validation criterion) or final (last epoch)').choices(['best', 'final']).default('best'))
    .addOption(new Option('--format <name>', 'file format').choices(['safetensors']).default('safetensors'))
    .requiredOption('--out <file>', 'the .safetensors file (the plan goes to <file>.json)')
    .action(async (opts: { run: string; fold?: number; checkpoint: 'best' | 'final'; format: 'safetensors'; out: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      // Reading and transposing weights needs no fast backend.
      await selectBackend('cpu');
      const result = await exportRun({ runDir: opts.run, fold: opts.fold ?? TRAIN_DEFAULTS.fold, seed: g.seed, checkpoint: opts.checkpoint, out: opts.out });
      if (g.json) {
        printJson(result);
        return;
      }
      print(`run ${result.runDir}: ${result.tensors} tensors, ${result.parameters} values (Generic_UNet state_dict)`);
      print(`wrote ${result.file}`);
      print(`wrote ${result.planFile}`);
    });
}
