/**
 * Files of a ranking, all written atomically into the output directory:
 * leaderboard.{csv,md,json}, significance.csv, effects.csv, replicate_ranks.csv (with replicates),
 * published.csv (with --published), pvalues_<task>_<metric>.csv, table2.md, the SVG
 * figures and report.html. See docs/ranking.md for the columns.
 */
import * as path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { formatCsv } from './csv.js';
import { fileSafe, rankingFigures, renderSvg } from './figures.js';
import { leaderboardJson, leaderboardRows, renderLeaderboardMarkdown } from './leaderboard.js';
import { renderReportHtml, type RenderedFigure } from './report.js';
import { renderTable2Markdown } from './table2.js';
import type { Ranking } from './types.js';

export function pvaluesCsv(ranking: Ranking, task: string, metric: string): string {
  const c = ranking.comparisons.find((x) => x.task === task && x.metric === metric);
  if (c === undefined) throw new RangeError(`no comparison for ${task}/${metric}`);
  return formatCsv(['loss', ...ranking.losses], ranking.losses.map((l, a) => [l, ...(c.pvalues[a] as number[])]));
}

export function significanceCsv(ranking: Ranking): string {
  const rows: (string | number)[][] = [];
  for (const c of ranking.comparisons) ranking.losses.forEach((l, i) => rows.push([c.task, c.metric, l, c.scores[i] as number]));
  return formatCsv(['task', 'metric', 'loss', 'score'], rows);
}

/** replicate_ranks.csv: the study's ranking on each replicate alone (empty seed/fold = not given). */
export function replicateRanksCsv(ranking: Ranking): string {
  return formatCsv(
    ['seed', 'fold', 'loss', 'rank_score', 'rank'],
    ranking.replicateRanks.map((r) => [r.seed === null ? '' : r.seed, r.fold === null ? '' : r.fold, r.loss, r.rankScore, r.rank]),
  );
}

/** effects.csv: one row per ordered pair of losses, task and metric. */
export function effectsCsv(ranking: Ranking): string {
  return formatCsv(
    ['task', 'metric', 'loss_a', 'loss_b', 'n_cases', 'mean_diff', 'ci_low', 'ci_high', 'p_value', 'significant'],
    ranking.effects.map((e) => [e.task, e.metric, e.lossA, e.lossB, e.nCases, e.meanDiff, e.ciLow, e.ciHigh, e.pValue, e.significant ? 'true' : 'false']),
  );
}

/** published.csv: published vs reproduced means (when the ranking has a published comparison). */
export function publishedCsv(ranking: Ranking): string {
  return formatCsv(
    ['task', 'metric', 'loss', 'published_mean', 'mean', 'ci_low', 'ci_high', 'difference'],
    (ranking.published?.rows ?? []).map((r) => [r.task, r.metric, r.loss, r.publishedMean, r.mean, r.ciLow, r.ciHigh, r.difference]),
  );
}

/**
 * Write every output of the ranking into `outDir` (created if needed; existing files of the same
 * names are replaced). Returns the written paths in a stable order.
 */
export async function writeRankingOutputs(ranking: Ranking, outDir: string): Promise<string[]> {
  const written: string[] = [];
  const put = async (name: string, data: string) => {
    const file = path.join(outDir, name);
    await writeFileAtomic(file, data);
    written.push(file);
  };
  const { header, rows } = leaderboardRows(ranking);
  await put('leaderboard.csv', formatCsv(header, rows));
  await put('leaderboard.md', renderLeaderboardMarkdown(ranking));
  const jsonFile = path.join(outDir, 'leaderboard.json');
  await writeJsonAtomic(jsonFile, leaderboardJson(ranking));
  written.push(jsonFile);
  await put('significance.csv', significanceCsv(ranking));
  await put('effects.csv', effectsCsv(ranking));
  if (ranking.replicateRanks.length > 0) await put('replicate_ranks.csv', replicateRanksCsv(ranking));
  if (ranking.published !== undefined) await put('published.csv', publishedCsv(ranking));
  for (const c of ranking.comparisons) await put(`pvalues_${fileSafe(c.task)}_${fileSafe(c.metric)}.csv`, pvaluesCsv(ranking, c.task, c.metric));
  await put('table2.md', renderTable2Markdown(ranking));
  const figures: RenderedFigure[] = [];
  for (const f of rankingFigures(ranking)) {
    const svg = await renderSvg(f.spec);
    await put(f.file, svg);
    figures.push({ ...f, svg });
  }
  await put('report.html', renderReportHtml(ranking, figures));
  return written;
}
