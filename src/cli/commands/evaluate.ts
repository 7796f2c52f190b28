/** `segloss evaluate`: DSC / NSD / HD95 of a folder of predictions, nnU-Net v2's summary.json and segloss's own; see docs/evaluation.md. */
import { Option, type Command } from 'commander';
import { globalOptions } from '../context.js';
import { parseIntOption, parseListOption, parseNumberOption } from '../settings.js';
import { evaluateFolders, formatValue } from '../../eval/folders.js';
import { canBeInfinite, METRIC_DESCRIPTORS } from '../../eval/metric-descriptors.js';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { InputError, UsageError, errorMessage } from '../../util/errors.js';
import { formatTable, print, printJson, progressBar, warn } from '../../util/log.js';
import { summaryJson } from '../../eval/folders.js';
import { splitGroundTruth, type SplitName } from '../../eval/runs.js';

/** `--cases a,b,c` or `--cases @file` (one case id per line, e.g. the cases.txt of segloss predict). */
function parseCases(raw: string): string[] {
  if (!raw.startsWith('@')) return parseListOption(raw);
  const file = raw.slice(1);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(file, `cannot read the case list: ${errorMessage(err)}`);
  }
  return text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0 && !s.startsWith('#'));
}

function parseLabels(raw: string): number[] {
  return parseListOption(raw).map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--labels: expected positive integers separated by commas, got '${raw}'`);
    return n;
  });
}

export function register(program: Command): void {
  program
    .command('evaluate')
    .description('score predictions against ground truth: DSC, NSD at a tolerance and HD95, as DeepMind surface-distance defines them')
    .requiredOption('--pred <dir>', 'folder of predicted label maps <case>.nii.gz')
    .option('--gt <dir>', 'folder of ground-truth label maps <case>.nii.gz (e.g. labelsTr)')
    .addOption(new Option('--split <name>', 'instead of --gt: the test split (or --fold validation split) of the task in --preprocessed, labels from its dataset').choices(['test', 'val']))
    .option('--preprocessed <dir>', 'preprocessed task folder (plans.json, splits.json) for --split')
    .option('--fold <k>', 'fold for --split val (default 0), and the fold column of results.csv with the global --seed', parseIntOption('--fold'))
    .requiredOption('--out <dir>', 'where per_case.csv, summary.json (nnU-Net v2), segloss_summary.json (and results.csv, provenance.json) are written')
    .option('--strict', 'fail (exit 2) when a reference case has no prediction (default: score the predicted cases only, as nnU-Net, and list the others)')
    .option('--score-missing', 'score reference cases without a prediction as empty predictions (DSC 0, HD95 inf), as the benchmark does for a diverged training')
    .option('--cases <list>', 'only these ground-truth cases: a,b,c or @file with one id per line (e.g. @pred/cases.txt)', parseCases)
    .option('--labels <list>', 'foreground labels to score, e.g. 1,2 (default: the plan\'s with --split, else every label in the references); with --gt they are the only nonzero values allowed', parseLabels)
    .option('--tolerance <mm>', 'NSD tolerance in mm (default 1)', parseNumberOption('--tolerance'))
    .option('--task <name>', 'task name for results.csv (with --loss; default: the run\'s, for predictions of segloss predict)')
    .option('--loss <id>', 'loss id for results.csv (with --task; default: the run\'s)')
    .option('--workers <n>', 'worker threads (default: CPU cores)', parseIntOption('--workers'))
    .action(async (opts: { pred: string; gt?: string; split?: SplitName; preprocessed?: string; fold?: number; out: string; strict?: boolean; scoreMissing?: boolean; cases?: string[]; labels?: number[]; tolerance?: number; task?: string; loss?: string; workers?: number }, cmd: Command) => {
      const g = globalOptions(cmd);
      if (opts.workers !== undefined && opts.workers < 1) throw new UsageError('--workers: expected at least 1');
      if ((opts.gt === undefined) === (opts.split === undefined)) throw new UsageError('give exactly one of --gt DIR and --split test|val (with --preprocessed DIR)');
      if (opts.split !== undefined && opts.preprocessed === undefined) throw new UsageError('--split needs --preprocessed DIR (the task folder with plans.json and splits.json)');
      if (opts.strict === true && opts.scoreMissing === true) throw new UsageError('--strict and --score-missing exclude each other');
      // The replicate columns of results.csv: an explicit global --seed (not SEGLOSS_SEED), with --fold (default 0).
      const seedRaw = cmd.optsWithGlobals<Record<string, unknown>>()['seed'];
      const replicate = seedRaw === undefined ? {} : { seed: g.seed, fold: opts.fold ?? 0 };
      const split = opts.split !== undefined ? splitGroundTruth(opts.preprocessed as string, opts.split, opts.fold ?? 0) : undefined;
      let bar: ReturnType<typeof progressBar> | undefined;
      const summary = await evaluateFolders({
        predDir: opts.pred,
        ...(opts.gt !== undefined ? { gtDir: opts.gt } : {}),
        ...(split !== undefined ? { groundTruth: split.files, groundTruthSource: split.source } : {}),
        ...(split?.labelMap !== undefined ? { referenceLabelMap: split.labelMap } : {}),
        ...(split !== undefined ? { declaredLabels: { values: split.labels, source: `the plan (${path.join(opts.preprocessed as string, 'plans.json')})` } } : {}),
        outDir: opts.out,
        missing: opts.strict === true ? 'error' : opts.scoreMissing === true ? 'empty' : 'skip',
        ...replicate,
        ...(opts.cases !== undefined ? { cases: opts.cases } : {}),
        ...(opts.labels !== undefined ? { labels: opts.labels } : {}),
        ...(opts.tolerance !== undefined ? { toleranceMm: opts.tolerance } : {}),
        ...(opts.task !== undefined ? { task: opts.task } : {}),
        ...(opts.loss !== undefined ? { loss: opts.loss } : {}),
        ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
        onWarning: warn,
        onProgress: (done, total, caseId) => {
          bar ??= progressBar(total, 'evaluate', ['case']);
          bar.update(done, { case: caseId });
        },
      });
      (bar as ReturnType<typeof progressBar> | undefined)?.stop();
      if (g.json) {
        printJson(summaryJson(summary));
        return;
      }
      const fmt = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : formatValue(v));
      // One mean column per metric, then the count of infinite values of the metrics that can be infinite.
      const infinite = METRIC_DESCRIPTORS.filter(canBeInfinite);
      const rows = summary.labels.map((l) => {
        const s = summary.perLabel[String(l)];
        if (s === undefined) return [String(l)];
        return [String(l), ...METRIC_DESCRIPTORS.map((d) => fmt(s[d.name].mean, d.digits)), ...infinite.map((d) => String(s[d.name].inf))];
      });
      rows.push(['mean', ...METRIC_DESCRIPTORS.map((d) => fmt(summary.foregroundMean[d.name], d.digits)), ...infinite.map(() => '')]);
      const header = ['label', ...METRIC_DESCRIPTORS.map((d) => (d.unit === '' ? d.displayName : `${d.displayName} ${d.unit}`)), ...infinite.map((d) => `${d.displayName} inf`)];
      const overFinite = infinite.length > 0 ? `; ${infinite.map((d) => d.displayName).join(', ')} over finite values` : '';
      if (summary.missingPredictions.length > 0 && summary.missingPolicy === 'skip') print(`${summary.missingPredictions.length} reference case(s) without a prediction not scored (listed in segloss_summary.json)`);
      print(`${summary.cases} cases, NSD tolerance ${summary.toleranceMm} mm (means${overFinite})`);
      print(formatTable(header, rows));
      print('');
      print(`wrote ${summary.files.perCase}`);
      print(`wrote ${summary.files.summary} (nnU-Net v2 schema)`);
      print(`wrote ${summary.files.seglossSummary}`);
      if (summary.files.results !== undefined) print(`wrote ${summary.files.results}${summary.seed !== null ? ` (seed ${summary.seed}, fold ${summary.fold})` : ''}`);
      if (summary.files.provenance !== undefined) print(`wrote ${summary.files.provenance}`);
    });
}
