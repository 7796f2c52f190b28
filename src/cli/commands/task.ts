/** `segloss task init DIR`: the task YAML segloss builds from a dataset folder, printed for editing. */
import type { Command } from 'commander';
import { globalOptions } from '../context.js';
import { readFileSync } from 'node:fs';
import { print, printJson } from '../../util/log.js';
import { resolveTask, taskYaml } from '../../data/tasks.js';

export function register(program: Command): void {
  const task = program.command('task').description('tasks from data: print the task YAML a dataset folder or nnU-Net id gives');
  task
    .command('init')
    .description('print the task YAML segloss uses for a dataset folder (MSD or nnU-Net v2), an nnU-Net id or a task reference')
    .argument('<dir>', 'dataset folder with dataset.json, an nnU-Net id (Dataset501_Name, 501, Task04_Hippocampus) or a registered task')
    .option('--data <dir>', 'raw data root for nnU-Net ids (default $SEGLOSS_DATA, then $nnUNet_raw)')
    .addHelpText(
      'after',
      '\nSave the output as <id>.yaml, edit it (labels, label_map, split), and pass the file wherever a\n' +
        'task is accepted: segloss preprocess|train --task <id>.yaml, benchmark `tasks: [<id>.yaml]`.\n\n' +
        'Examples:\n  segloss task init data/toy-liver > toy-mine.yaml\n  SEGLOSS_DATA=/data segloss task init 501',
    )
    .action((dir: string, opts: { data?: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      const spec = resolveTask(dir, opts.data === undefined ? {} : { data: opts.data });
      if (g.json) printJson(spec);
      // A registered task is printed as its shipped YAML (comments and all).
      else print((spec.origin === 'registry' ? readFileSync(spec.file, 'utf8') : taskYaml(spec)).trimEnd());
    });
}
