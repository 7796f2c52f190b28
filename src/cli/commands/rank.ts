/** `segloss rank`: per-case results → the study's ranking, leaderboards, figures and report. */
import type { Command } from 'commander';
import * as path from 'node:path';
import { globalOptions } from '../context.js';
import { parseIntOption, parseListOption, parseNumberOption } from '../settings.js';
import { info, print, printJson, warn } from '../../util/log.js';
import { readResultsCsv, resolveResultsFiles } from '../../rank/results.js';
import { readProvenanceFile, type ProvenanceEntry } from '../../util/provenance.js';
import { DEFAULT_RANK_OPTIONS, rankResults } from '../../rank/ranking.js';
import { writeRankingOutputs } from '../../rank/outputs.js';
import { syntheticDataWarning } from '../../rank/warnings.js';
import { chooseTable, comparePublished, PUBLISHED_TABLE_NAMES, type PublishedTableName } from '../../rank/published.js';
import { UsageError } from '../../util/errors.js';
import { printable } from '../../util/text.js';
import { leaderboardJson, renderLeaderboardText } from '../../rank/leaderboard.js';
import { DEFAULT_RANK_METRICS, METRIC_NAMES } from '../../eval/metric-descriptors.js';

interface RankFlags {
  results: string[];
  out: string;
  metrics?: string[];
  alpha?: number;
  bootstrap?: number;
  published?: string | boolean;
  syntheticTasks?: string[];
}

/** `--published` alone = auto; otherwise one of the shipped tables or auto. */
function publishedChoice(value: string | boolean | undefined): PublishedTableName | 'auto' | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true || value === 'auto') return 'auto';
  if ((PUBLISHED_TABLE_NAMES as readonly string[]).includes(value)) return value as PublishedTableName;
  throw new UsageError(`--published: expected ${PUBLISHED_TABLE_NAMES.join(', ')} or auto, got '${printable(value)}'`);
}

export function register(program: Command): void {
  program
    .command('rank')
    .description('rank losses from per-case results (task,loss,case,metric,value) with the study\'s Wilcoxon significance scheme; writes leaderboards, Table 2, figures and report.html')
    .requiredOption('--results <paths...>', 'results CSV files, or run/evaluation directories searched recursively for results.csv (a provenance.json beside one is read too)')
    .requiredOption('--out <dir>', 'output directory')
    .option('--metrics <list>', `metrics of the rank score, comma separated, of ${METRIC_NAMES.join(', ')} (default ${DEFAULT_RANK_METRICS.join(',')})`, parseListOption)
    .option('--alpha <p>', 'significance level of the two-sided Wilcoxon test (default 0.05)', parseNumberOption('--alpha'))
    .option('--bootstrap <n>', 'bootstrap resamples of the cases (and replicates) for the stability analysis and the effect-size intervals, 0 = none (default 1000)', parseIntOption('--bootstrap'))
    .option('--published [table]', `compare with the study's published means: ${PUBLISHED_TABLE_NAMES.join(', ')} or auto (default auto); writes published.csv`)
    .option('--synthetic-tasks <list>', 'tasks whose results come from synthetic data, comma separated: the leaderboard carries a synthetic-data warning (the benchmark passes its toy tasks)', parseListOption)
    .action(async (flags: RankFlags, cmd: Command) => {
      const g = globalOptions(cmd);
      const published = publishedChoice(flags.published);
      const rows = readResultsCsv(flags.results);
      // provenance.json beside each results.csv read (written by `segloss evaluate` and the benchmark).
      const provenance: ProvenanceEntry[] = [];
      for (const dir of new Set(resolveResultsFiles(flags.results).map((f) => path.dirname(f)))) provenance.push(...(readProvenanceFile(dir) ?? []));
      const options = {
        metrics: flags.metrics ?? DEFAULT_RANK_OPTIONS.metrics,
        alpha: flags.alpha ?? DEFAULT_RANK_OPTIONS.alpha,
        bootstrap: flags.bootstrap ?? DEFAULT_RANK_OPTIONS.bootstrap,
        seed: g.seed,
        provenance,
      };
      info(`ranking ${rows.length} result rows${options.bootstrap > 0 ? ` (bootstrap: ${options.bootstrap} resamples, seed ${options.seed})` : ''}`);
      const ranking = rankResults(rows, options);
      if (flags.syntheticTasks !== undefined && flags.syntheticTasks.length > 0) ranking.warnings.unshift(syntheticDataWarning(flags.syntheticTasks));
      for (const w of ranking.warnings) warn(`[${w.code}] ${w.message}`);
      if (published !== undefined) {
        const table = chooseTable(ranking, published);
        if (table === undefined) warn('--published auto: no task and loss of the results is in a published table; no comparison written');
        else ranking.published = comparePublished(ranking, table, options.bootstrap, options.seed);
      }
      const outDir = path.resolve(flags.out);
      const files = await writeRankingOutputs(ranking, outDir);
      if (g.json) {
        printJson({ out: outDir, report: path.join(outDir, 'report.html'), files, ...(leaderboardJson(ranking) as object) });
        return;
      }
      print(renderLeaderboardText(ranking));
      print('');
      print(`wrote ${files.length} files to ${outDir}`);
      print(`report: ${path.join(outDir, 'report.html')}`);
    });
}
