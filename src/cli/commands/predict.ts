/** `segloss predict`: segment cases with a trained run; see docs/evaluation.md. */
import { Command, Option } from 'commander';
import { globalOptions } from '../context.js';
import { parseIntOption, parseNumberOption } from '../settings.js';
import { predictCases, type CheckpointChoice } from '../../eval/predict.js';
import { selectBackend } from '../../engine/backend.js';
import { backendBanner } from '../banner.js';
import { formatTableFit } from '../../util/width.js';
import { RuntimeFailure, UsageError } from '../../util/errors.js';
import { info, print, printJson, progressBar, warn } from '../../util/log.js';

export function register(program: Command): void {
  program
    .command('predict')
    .description('segment cases with a trained run: nnU-Net sliding windows (step 0.5, Gaussian weights), optional mirroring TTA, back to the input geometry')
    .requiredOption('--run <dir>', 'run directory (results/<task>/<loss>/lr-<rate>/fold-<k>/seed-<s>), or a loss directory results/<task>/<loss> (its best learning rate for --fold and the global --seed)')
    .option('--fold <k>', 'fold of the run when --run is a loss directory (default 0)', parseIntOption('--fold'))
    .addOption(new Option('--checkpoint <which>', "best, final (checkpoint/latest of a finished run, nnU-Net V1's final model) or latest (default: the run's config.json, else best)").choices(['best', 'final', 'latest']))
    .addOption(new Option('--split <name>', "the run's held-out test cases, or its fold's validation cases").choices(['test', 'val']))
    .option('--input <dir>', 'folder of images (<case>.nii.gz, or <case>_0000.nii.gz per channel) instead of --split')
    .requiredOption('--out <dir>', 'where <case>.nii.gz label maps are written')
    .option('--tta', "mirroring test-time augmentation, 8 flips (default: on for runs of the 'paper' profile, else off)")
    .option('--no-tta', 'no test-time augmentation')
    .option('--save-probabilities', 'also write <case>_probabilities.nii.gz (float32, one volume per class)')
    .option('--step <fraction>', 'window step as a fraction of the patch (default 0.5)', parseNumberOption('--step'))
    .option('--preprocessed <dir>', "preprocessed folder with plans.json (default: the one in the run's config.json)")
    .action(async (opts: { run: string; fold?: number; checkpoint?: CheckpointChoice; split?: 'test' | 'val'; input?: string; out: string; tta?: boolean; saveProbabilities?: boolean; step?: number; preprocessed?: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      if ((opts.split === undefined) === (opts.input === undefined)) throw new UsageError('give exactly one of --split test|val and --input DIR');
      if (opts.step !== undefined && !(opts.step > 0 && opts.step <= 1)) throw new UsageError('--step: expected a fraction in (0, 1]');
      info(backendBanner(await selectBackend(g.backend)));
      let bar: ReturnType<typeof progressBar> | undefined;
      const report = await predictCases({
        runDir: opts.run,
        ...(opts.fold !== undefined ? { fold: opts.fold } : {}),
        seed: g.seed,
        outDir: opts.out,
        ...(opts.checkpoint !== undefined ? { checkpoint: opts.checkpoint } : {}),
        ...(opts.split !== undefined ? { split: opts.split } : {}),
        ...(opts.input !== undefined ? { inputDir: opts.input } : {}),
        ...(opts.preprocessed !== undefined ? { preprocessedDir: opts.preprocessed } : {}),
        ...(opts.step !== undefined ? { stepFraction: opts.step } : {}),
        ...(opts.tta !== undefined ? { tta: opts.tta } : {}),
        saveProbabilities: opts.saveProbabilities === true,
        onCase: (e) => {
          bar ??= progressBar(e.total, 'predict', ['case']);
          bar.update(e.done, { case: e.caseId });
          if (e.error !== undefined) warn(`case ${e.caseId} failed: ${e.error}`);
        },
      });
      (bar as ReturnType<typeof progressBar> | undefined)?.stop();
      if (g.json) printJson(report);
      else {
        print(formatTableFit(['case', 'seconds', 'result'], report.cases.map((c) => [c.caseId, c.seconds.toFixed(1), c.error === undefined ? (c.file as string) : `FAILED: ${c.error}`])));
        print('');
        print(`${report.cases.length - report.failed} of ${report.cases.length} cases written to ${report.outDir} (checkpoint ${report.checkpoint}${report.tta ? ', TTA' : ', no TTA'})`);
      }
      if (report.failed > 0) throw new RuntimeFailure(`${report.failed} of ${report.cases.length} case(s) failed: ${report.cases.filter((c) => c.error !== undefined).map((c) => c.caseId).join(', ')}`);
    });
}
