/**
 * The paper's Table 2 layout: mean DSC and NSD per task and loss (N/A counted as 0, means over
 * the cases), the significantly best value(s) of each column in bold and the significantly worst
 * underlined, "with p < 0.05" from the same pairwise Wilcoxon tests as the ranking.
 *
 * Our reading of "significantly best/worst" (the paper gives no formula): in a column, bold marks
 * the loss(es) with the highest significance score (significantly better than the most other
 * losses), if that score is > 0; underline marks the loss(es) that the most other losses are
 * significantly better than, if that count is > 0. This reproduces the paper's pattern of
 * several bold entries where the leaders are not significantly different from each other.
 */
import { metricDescriptor, naPolicyText, type MetricDescriptor } from '../eval/metric-descriptors.js';
import type { MetricName, PairwiseComparison, Ranking } from './types.js';

export interface Table2Cell {
  mean: number;
  best: boolean;
  worst: boolean;
}

export interface Table2 {
  columns: { task: string; metric: MetricName }[];
  /** Losses sorted by name, as in the paper. */
  rows: { loss: string; cells: Table2Cell[] }[];
}

/** Metrics shown: those with `tableMean` (DSC and NSD, the paper's table) when present, otherwise whatever is available. */
export function table2Metrics(ranking: Ranking): MetricName[] {
  const wanted = ranking.metricsAvailable.filter((m) => metricDescriptor(m).tableMean);
  return wanted.length > 0 ? wanted : ranking.metricsAvailable;
}

/** Which losses are bold (best) and underlined (worst) in one comparison. */
export function bestAndWorst(c: PairwiseComparison): { best: boolean[]; worst: boolean[] } {
  const maxScore = Math.max(...c.scores);
  const maxWorse = Math.max(...c.worseThan);
  return {
    best: c.scores.map((s) => maxScore > 0 && s === maxScore),
    worst: c.worseThan.map((w) => maxWorse > 0 && w === maxWorse),
  };
}

export function buildTable2(ranking: Ranking): Table2 {
  const metrics = table2Metrics(ranking);
  const columns = ranking.tasks.flatMap((task) => metrics.map((metric) => ({ task, metric })));
  const marks = columns.map(({ task, metric }) => {
    const c = ranking.comparisons.find((x) => x.task === task && x.metric === metric) as PairwiseComparison;
    const t = ranking.tables.find((x) => x.task === task && x.metric === metric);
    const means = (t?.values ?? []).map((row) => row.reduce((s, v) => s + v, 0) / row.length);
    return { ...bestAndWorst(c), means };
  });
  const rows = ranking.losses.map((loss, l) => ({
    loss,
    cells: marks.map((m) => ({ mean: m.means[l] as number, best: m.best[l] as boolean, worst: m.worst[l] as boolean })),
  }));
  return { columns, rows };
}

const fmt = (v: number, metric: MetricName) => (Number.isFinite(v) ? v.toFixed(metricDescriptor(metric).digits) : String(v));

/** How the columns' N/A values were counted, e.g. `N/A values count as 0 (DSC, NSD)`. */
function naSentence(shown: MetricDescriptor[]): string {
  const constants = new Map<number, string[]>();
  for (const d of shown) if (d.naPolicy.kind === 'constant') constants.set(d.naPolicy.value, [...(constants.get(d.naPolicy.value) ?? []), d.displayName]);
  const parts = [...constants].map(([value, names]) => `N/A values count as ${value} (${names.join(', ')})`);
  const others = shown.filter((d) => d.naPolicy.kind !== 'constant');
  if (others.length > 0) parts.push(naPolicyText(others));
  return parts.join('; ');
}

export function renderTable2Markdown(ranking: Ranking): string {
  const t = buildTable2(ranking);
  const header = ['Loss', ...t.columns.map((c) => `${c.task} ${metricDescriptor(c.metric).displayName}`)];
  const shown = [...new Set(t.columns.map((c) => c.metric))].map(metricDescriptor);
  const lines = [
    `# Table 2 — mean per-case values per task and loss`,
    '',
    `**Bold**: significantly best in the column (highest significance score, two-sided Wilcoxon signed-rank p < ${ranking.options.alpha}); ` +
      `<u>underlined</u>: significantly worst (significantly worse than the most losses). ${naSentence(shown)}.`,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
  ];
  for (const row of t.rows) {
    const cells = row.cells.map((c, k) => {
      let s = fmt(c.mean, (t.columns[k] as { metric: MetricName }).metric);
      if (c.best) s = `**${s}**`;
      if (c.worst) s = `<u>${s}</u>`;
      return s;
    });
    lines.push(`| ${row.loss} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}
