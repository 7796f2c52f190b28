/**
 * The leaderboard in its forms: rows for leaderboard.csv, Markdown, plain text for the terminal,
 * and the JSON document; plus the one-paragraph statement of the ranking rule.
 */
import { formatTable } from '../util/log.js';
import { METRIC_DESCRIPTORS, naPolicyText, substituteDependsOnData, type MetricName } from '../eval/metric-descriptors.js';
import { quantile } from './ranks.js';
import { schemeName, scoreKey } from './ranking.js';
import type { LeaderboardEntry, Ranking } from './types.js';

/** The metrics whose per-task means are leaderboard columns: those with `tableMean` (DSC, NSD) present in the input. */
function meanMetrics(ranking: Ranking): MetricName[] {
  return METRIC_DESCRIPTORS.filter((d) => d.tableMean && ranking.metricsAvailable.includes(d.name)).map((d) => d.name);
}

/** Column names of leaderboard.csv after `rank,loss,rank_score`. */
export function leaderboardColumns(ranking: Ranking): { scoreColumns: string[]; meanColumns: string[] } {
  const { tasks } = ranking;
  const scoreColumns = tasks.flatMap((t) => ranking.options.metrics.map((m) => `score_${t}_${m}`));
  const meanColumns = meanMetrics(ranking).flatMap((m) => tasks.map((t) => `mean_${m}_${t}`));
  return { scoreColumns, meanColumns };
}

/** Rows of the leaderboard: rank, loss, rank score, task × metric scores, mean DSC/NSD per task. */
export function leaderboardRows(ranking: Ranking): { header: string[]; rows: (string | number)[][] } {
  const { scoreColumns, meanColumns } = leaderboardColumns(ranking);
  const header = ['rank', 'loss', 'rank_score', ...scoreColumns, ...meanColumns];
  const rows = ranking.leaderboard.map((e) => [
    e.rank,
    e.loss,
    e.rankScore,
    ...ranking.tasks.flatMap((t) => ranking.options.metrics.map((m) => e.scores[scoreKey(t, m)] as number)),
    ...meanMetrics(ranking).flatMap((m) => ranking.tasks.map((t) => e.means[m]?.[t] as number)),
  ]);
  return { header, rows };
}

const round = (v: number, digits: number) => (Number.isFinite(v) ? Number(v.toFixed(digits)) : v);

/** A one-paragraph statement of the rule, shared by the Markdown, text and HTML outputs. */
export function rankingRuleText(ranking: Ranking): string {
  const lower = METRIC_DESCRIPTORS.filter((d) => !d.higherIsBetter).map((d) => d.displayName);
  return (
    `Rank score = mean significance score over ${ranking.tasks.length} task(s) × ${schemeName(ranking.options.metrics)}; a loss's significance score ` +
    `for a task and metric is the number of losses it is significantly better than (two-sided Wilcoxon signed-rank ` +
    `test on paired per-case values, p < ${ranking.options.alpha}, direction from the rank sums${lower.length > 0 ? `; ${lower.join(', ')} lower is better` : ''}). ` +
    `Ties share the better rank. ${naPolicyText(METRIC_DESCRIPTORS)}.`
  );
}

/** Whether some task has more than one replicate per loss. */
export function hasReplicates(ranking: Ranking): boolean {
  return Object.values(ranking.replicates).some((r) => r.length > 1);
}

/** "2 [1–3], first in 50%" */
function replicateRankText(e: LeaderboardEntry): string {
  const r = e.replicateRank;
  if (r === undefined) return '';
  return `${round(r.median, 2)} [${r.min}–${r.max}], first in ${round(100 * r.shareFirst, 1)}%`;
}

/** The warnings as a Markdown block quote (empty when there are none). */
export function warningsBannerMarkdown(ranking: Ranking): string[] {
  if (ranking.warnings.length === 0) return [];
  return ['> **Warnings**', '>', ...ranking.warnings.map((w) => `> - \`${w.code}\`: ${w.message}`), ''];
}

export function renderLeaderboardMarkdown(ranking: Ranking): string {
  const { header, rows } = leaderboardRows(ranking);
  const lines = [
    '# Leaderboard',
    '',
    ...warningsBannerMarkdown(ranking),
    rankingRuleText(ranking),
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map((h) => (h === 'loss' ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => `| ${r.map((c) => (typeof c === 'number' ? String(round(c, 4)) : c)).join(' | ')} |`),
  ];
  if (ranking.schemes.length > 1) {
    lines.push('', '## Stability across metrics (rank under each choice of metrics)', '');
    const sh = ['loss', ...ranking.schemes.map((s) => s.name)];
    lines.push(`| ${sh.join(' | ')} |`, `|${sh.map((h) => (h === 'loss' ? ' --- ' : ' ---: ')).join('|')}|`);
    for (const e of ranking.leaderboard) {
      const l = ranking.losses.indexOf(e.loss);
      lines.push(`| ${e.loss} | ${ranking.schemes.map((s) => s.ranks[l]).join(' | ')} |`);
    }
  }
  if (ranking.replicateRanks.length > 0) {
    const counts = ranking.tasks.map((t) => `${t}: ${ranking.replicates[t]?.length ?? 0}`).join(', ');
    lines.push('', `## Replicates (ranking on each replicate alone; replicates per task: ${counts})`, '');
    lines.push('| loss | rank | median replicate rank | range | share ranked first | replicates |', '| --- | ---: | ---: | --- | ---: | ---: |');
    for (const e of ranking.leaderboard) {
      const r = e.replicateRank;
      if (r !== undefined) lines.push(`| ${e.loss} | ${e.rank} | ${round(r.median, 3)} | [${r.min}, ${r.max}] | ${round(100 * r.shareFirst, 1)}% | ${r.count} |`);
    }
  }
  const pub = ranking.published;
  if (pub !== undefined) {
    lines.push('', `## Published comparison (${pub.table}: ${pub.source})`, '');
    lines.push('| task | metric | loss | published | reproduced | 95% interval | difference | caveat |', '| --- | --- | --- | ---: | ---: | --- | ---: | --- |');
    for (const r of pub.rows) {
      lines.push(`| ${r.task} | ${r.metric} | ${r.loss} | ${round(r.publishedMean, 4)} | ${round(r.mean, 4)} | [${round(r.ciLow, 4)}, ${round(r.ciHigh, 4)}] | ${round(r.difference, 4)} | ${r.caveat ?? ''} |`);
    }
    lines.push('', "Kendall's τ-b between the published and the reproduced order of the losses both have:", '');
    for (const t of pub.tau) lines.push(`- ${t.task} ${t.metric}: τ = ${Number.isNaN(t.tau) ? 'undefined' : round(t.tau, 3)} (${t.n} losses)`);
  }
  const boot = ranking.bootstrap;
  if (boot !== undefined) {
    lines.push('', `## Bootstrap (${boot.resamples} resamples of the ${hasReplicates(ranking) ? 'replicates, then the cases' : 'cases'}, seed ${boot.seed})`, '');
    lines.push('| loss | rank | median bootstrap rank | 95% interval |', '| --- | ---: | ---: | --- |');
    for (const e of ranking.leaderboard) {
      const s = boot.losses.find((x) => x.loss === e.loss);
      if (s !== undefined) lines.push(`| ${e.loss} | ${e.rank} | ${round(s.medianRank, 3)} | [${round(s.rankLow, 3)}, ${round(s.rankHigh, 3)}] |`);
    }
    lines.push('', `Kendall's τ-b between the full ranking and the resamples: ${tauText(boot.kendallTau)}.`);
  }
  return lines.join('\n') + '\n';
}

/** Median, 2.5/97.5% quantiles (R type 7) and mean of the finite values; NaNs counted apart. */
export function summarise(values: number[]): { median: number; low: number; high: number; mean: number; undefinedCount: number } {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  const q = (p: number) => quantile(finite, p);
  const mean = finite.length === 0 ? NaN : finite.reduce((s, v) => s + v, 0) / finite.length;
  return { median: q(0.5), low: q(0.025), high: q(0.975), mean, undefinedCount: values.length - finite.length };
}

/** "median 0.93, 95% interval [0.85, 0.98]", or why τ is undefined. */
function tauText(values: number[]): string {
  const tau = summarise(values);
  if (Number.isNaN(tau.median)) return 'undefined (a ranking in which every loss ties has no order to compare)';
  const undefinedNote = tau.undefinedCount > 0 ? ` (${tau.undefinedCount} resamples with all losses tied left out)` : '';
  return `median ${round(tau.median, 3)}, 95% interval [${round(tau.low, 3)}, ${round(tau.high, 3)}]${undefinedNote}`;
}

/** The leaderboard as plain text (the CLI and `segloss benchmark` print it). */
export function renderLeaderboardText(ranking: Ranking): string {
  const scoreHeads = ranking.tasks.flatMap((t) => ranking.options.metrics.map((m) => `${t}/${m}`));
  const withReplicates = ranking.replicateRanks.length > 0;
  const rows = ranking.leaderboard.map((e) => [
    e.rank,
    e.loss,
    e.rankScore.toFixed(3),
    ...ranking.tasks.flatMap((t) => ranking.options.metrics.map((m) => e.scores[scoreKey(t, m)] as number)),
    ...(withReplicates ? [replicateRankText(e)] : []),
  ]);
  const m = schemeName(ranking.options.metrics);
  const lines = [
    `Leaderboard (${ranking.losses.length} losses, ${ranking.tasks.length} task(s), ${m}, Wilcoxon p < ${ranking.options.alpha})`,
    formatTable(['rank', 'loss', 'rank score', ...scoreHeads, ...(withReplicates ? ['replicate rank (median [range])'] : [])], rows),
  ];
  const boot = ranking.bootstrap;
  if (boot !== undefined) {
    lines.push(`bootstrap: ${boot.resamples} resamples, Kendall tau ${tauText(boot.kendallTau)}`);
  }
  return lines.join('\n');
}

/** Key of a metric's per-task means in leaderboard.json's entries, e.g. `meanDsc`. */
const meanKey = (metric: MetricName): string => `mean${metric.charAt(0).toUpperCase()}${metric.slice(1)}`;

/** A leaderboard entry as leaderboard.json writes it: the per-task means as `meanDsc`, `meanNsd`. */
function entryJson({ means, ...entry }: LeaderboardEntry): Record<string, unknown> {
  const tableMeans = METRIC_DESCRIPTORS.filter((d) => d.tableMean).map((d) => [meanKey(d.name), means[d.name] ?? {}]);
  return { ...entry, ...Object.fromEntries(tableMeans) };
}

/** leaderboard.json: everything a program needs, without the per-case values. */
export function leaderboardJson(ranking: Ranking): unknown {
  const boot = ranking.bootstrap;
  // Per metric whose N/A substitute depends on the data: the substitute of each task, e.g. `hd95Substitute`.
  const substitutes = METRIC_DESCRIPTORS.filter(substituteDependsOnData).map((d) => [
    `${d.name}Substitute`,
    Object.fromEntries(ranking.tables.filter((t) => t.metric === d.name).map((t) => [t.task, t.substitute])),
  ]);
  return {
    rule: rankingRuleText(ranking),
    options: ranking.options,
    tasks: ranking.tasks,
    losses: ranking.losses,
    metricsAvailable: ranking.metricsAvailable,
    multiLabel: ranking.multiLabel,
    cases: Object.fromEntries(ranking.tasks.map((t) => [t, ranking.tables.find((x) => x.task === t)?.cases.length ?? 0])),
    leaderboard: ranking.leaderboard.map(entryJson),
    schemes: ranking.schemes.map((s) => ({
      name: s.name,
      metrics: s.metrics,
      ranks: Object.fromEntries(ranking.losses.map((l, i) => [l, s.ranks[i]])),
      rankScores: Object.fromEntries(ranking.losses.map((l, i) => [l, s.rankScores[i]])),
    })),
    naCounts: ranking.tables.map((t) => ({ task: t.task, metric: t.metric, counts: Object.fromEntries(ranking.losses.map((l, i) => [l, t.naCounts[i]])) })),
    ...Object.fromEntries(substitutes),
    bootstrap:
      boot === undefined
        ? null
        : { resamples: boot.resamples, seed: boot.seed, losses: boot.losses, kendallTau: summarise(boot.kendallTau), kendallTauByTask: Object.fromEntries(Object.entries(boot.kendallTauByTask).map(([t, v]) => [t, summarise(v)])) },
    sources: ranking.sources,
    replicates: ranking.replicates,
    replicateRanks: ranking.replicateRanks,
    topLoss: ranking.topLoss,
    warnings: ranking.warnings,
    provenance: ranking.provenance ?? { unknown: true, reason: 'results came from CSV files without provenance.json' },
    effects: ranking.effects,
    published: ranking.published ?? null,
  };
}

