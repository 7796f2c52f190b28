/** `segloss doctor`: what this machine offers segloss. */
import type { Command } from 'commander';
import * as os from 'node:os';
import { globalOptions } from '../context.js';
import { probeBackends, selectBackend, describeBackend } from '../../engine/backend.js';
import { print, printJson } from '../../util/log.js';
import { dataRoot, preprocessedRoot, resultsRoot } from '../../util/paths.js';
import { formatTableFit, outputColumns, wrapText } from '../../util/width.js';
import { cudaReport } from '../cuda.js';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('show Node, CPU, memory, which TensorFlow.js backends load here (and why the others do not) and which CUDA/cuDNN libraries the GPU backend would find')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globalOptions(cmd);
      const probes = await probeBackends();
      const chosen = await selectBackend(g.backend);
      const cuda = cudaReport();
      const report = {
        node: process.version,
        platform: `${os.platform()} ${os.arch()}`,
        cpuCores: os.availableParallelism(),
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
        backends: probes,
        selected: chosen,
        cuda,
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
      const width = outputColumns();
      const say = (text: string, indent = '') => print(wrapText(text, width, indent).join('\n'));
      say(`node       ${report.node} (${report.platform})`, '           ');
      say(`cpu        ${report.cpuCores} cores, ${report.cpuModel}`, '           ');
      say(`memory     ${report.memoryGiB} GiB`);
      print('');
      print(formatTableFit(['backend', 'usable', 'why'], probes.map((p) => [p.name, p.available ? 'yes' : 'no', p.reason]), width));
      print('');
      say(`selected (--backend ${g.backend}): ${describeBackend(chosen).split('\n')[0]!.replace(/^backend: /, '')}`, '    ');
      print('');
      // @tensorflow/tfjs-node-gpu (libtensorflow 2.9) needs exactly these sonames: docs/gpu.md
      say('CUDA libraries for @tensorflow/tfjs-node-gpu (CUDA 11.2, cuDNN 8; LD_LIBRARY_PATH, then ldconfig):');
      print(formatTableFit(['library', 'what', 'found'], cuda.libraries.map((l) => [l.soname, l.role, l.path === null ? 'missing' : `${l.path} (${l.source})`]), width));
      say(cuda.missing.length === 0
        ? 'all CUDA 11.2 / cuDNN 8 libraries found'
        : `missing: ${cuda.missing.join(', ')} (install CUDA 11.2 and cuDNN 8, or use the container of docs/gpu.md)`, '    ');
      print('');
      say(`data          ${report.paths.data ?? '(not set: $SEGLOSS_DATA or $nnUNet_raw)'}`, '              ');
      say(`preprocessed  ${report.paths.preprocessed}`, '              ');
      say(`results       ${report.paths.results}`, '              ');
    });
}
