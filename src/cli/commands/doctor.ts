/** `segloss doctor`: what this machine offers segloss. */
import type { Command } from 'commander';
import * as os from 'node:os';
import { globalOptions } from '../context.js';
import { probeBackends, selectBackend, describeBackend } from '../../engine/backend.js';
import { print, printJson, formatTable } from '../../util/log.js';
import { dataRoot, preprocessedRoot, resultsRoot } from '../../util/paths.js';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('show Node, CPU, memory and which TensorFlow.js backends load here (and why the others do not)')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globalOptions(cmd);
      const probes = await probeBackends();
      const chosen = await selectBackend(g.backend);
      const report = {
        node: process.version,
        platform: `${os.platform()} ${os.arch()}`,
        cpuCores: os.availableParallelism(),
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
        backends: probes,
        selected: chosen,
        paths: {
          data: dataRoot() ?? null,
          preprocessed: preprocessedRoot(),
          results: resultsRoot(),
        },
      };
      if (g.json) {
        printJson(report);
        return;
      }
      print(`node       ${report.node} (${report.platform})`);
      print(`cpu        ${report.cpuCores} cores, ${report.cpuModel}`);
      print(`memory     ${report.memoryGiB} GiB`);
      print('');
      print(formatTable(['backend', 'usable', 'why'], probes.map((p) => [p.name, p.available ? 'yes' : 'no', p.reason])));
      print('');
      print(`selected (--backend ${g.backend}): ${describeBackend(chosen)}`);
      print('');
      print(`data          ${report.paths.data ?? '(not set: $SEGLOSS_DATA or $nnUNet_raw)'}`);
      print(`preprocessed  ${report.paths.preprocessed}`);
      print(`results       ${report.paths.results}`);
    });
}
