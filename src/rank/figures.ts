/**
 * The ranking figures as SVG, from Vega-Lite specifications compiled to Vega and rendered
 * headlessly in Node (`vega.View.toSVG`, renderer 'none'; no browser, no canvas):
 * - violin plots of per-case values per task and metric (paper Figs. 2, 4, 6, 8), losses in
 *   leaderboard order, with every case as a point, the median (dot) and interquartile range (bar);
 * - per task and metric a significance map (challengeR's `significanceMap`) with the effect sizes
 *   beside it; per task the validation learning curves (when provenance is known) and the
 *   published-vs-reproduced scatter (when published numbers are given);
 * - the rank score chart (Fig. 10): each loss's rank score as a bar stacked from its
 *   task × metric significance scores divided by |T|·|J|;
 * - the stability chart (Fig. 11): each loss's rank under the chosen metrics and under each single
 *   metric;
 * - the bootstrap rank plot (challengeR's blob plot): circle area = how often the loss got that
 *   rank, black bar = 95% interval, black cross = median rank; beside it the distribution of
 *   Kendall's τ between the full ranking and the resamples (overall and per task).
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { metricDescriptor, metricTitle } from '../eval/metric-descriptors.js';
import type { MetricTable, PairwiseComparison, Ranking } from './types.js';
import { schemeName, scoreKey } from './ranking.js';
import { caseJitter, compactSvgTranslations, HEAT_CELL_LEGEND, heatCellKind, svgMarkTitles } from './report-cells.js';

export interface Figure {
  /** File name, e.g. `violin_liver_dsc.svg`. */
  file: string;
  title: string;
  /** What the figure shows (for the report). */
  caption: string;
  spec: TopLevelSpec;
}

/** A file-name-safe form of a task or metric name. */
export function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** Loss names in leaderboard order (the x order of every per-loss figure). */
function lossOrder(ranking: Ranking): string[] {
  return ranking.leaderboard.map((e) => e.loss);
}

const BASE_CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' as const },
};

/** Kernel bandwidth for a violin: Scott's rule on the pooled values, never zero. */
function violinBandwidth(values: number[], range: number): number {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / Math.max(1, n - 1));
  const scott = 1.06 * sd * Math.pow(n, -1 / 5);
  return Math.max(scott / 2, range / 100, 1e-6);
}

/** Above this many points a violin figure's points get no tooltip (27 losses × 100 cases would add ~0.3 MB per figure). */
export const MAX_POINT_TOOLTIPS = 1500;

export function violinFigure(ranking: Ranking, table: MetricTable): Figure {
  const order = lossOrder(ranking);
  const values: { loss: string; value: number; jitter: number; tip: string }[] = [];
  const metricInfo = metricDescriptor(table.metric);
  table.values.forEach((row, l) =>
    row.forEach((value, i) => {
      const loss = ranking.losses[l] as string;
      const caseId = table.cases[i] as string;
      // Points fill the middle 70 % of the violin's width.
      values.push({ loss, value, jitter: 0.35 * caseJitter(caseId), tip: `${loss}, case ${caseId}: ${metricInfo.displayName} ${value.toFixed(metricInfo.digits)}` });
    }),
  );
  const all = values.map((v) => v.value);
  const min = Math.min(...all);
  const max = Math.max(...all);
  const bandwidth = violinBandwidth(all, max - min);
  const metric = metricDescriptor(table.metric);
  // Let the tails show (two bandwidths), but not beyond the metric's possible range.
  let lo = min - 2 * bandwidth;
  let hi = max + 2 * bandwidth;
  hi = Math.min(hi, metric.bounds.max);
  lo = Math.max(lo, metric.bounds.min);
  if (lo === hi) hi = lo + 1;
  const title = `${table.task} — ${metricTitle(metric)}`;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    facet: {
      column: {
        field: 'loss',
        type: 'nominal',
        sort: order,
        title: null,
        header: { labelOrient: 'bottom', labelAngle: -50, labelAlign: 'right', labelBaseline: 'middle', labelPadding: 4 },
      },
    },
    spacing: 2,
    spec: {
      width: 34,
      height: 220,
      layer: [
        {
          transform: [
            { density: 'value', groupby: ['loss'], bandwidth, extent: [lo, hi], steps: 80 },
            { calculate: '-datum.density / 2', as: 'left' },
            { calculate: 'datum.density / 2', as: 'right' },
          ],
          mark: { type: 'area', orient: 'horizontal', opacity: 0.75, aria: false },
          encoding: {
            y: { field: 'value', type: 'quantitative', title: metricTitle(metric), scale: { domain: [lo, hi], nice: false } },
            x: { field: 'left', type: 'quantitative', title: null, axis: null },
            x2: { field: 'right' },
            color: { field: 'loss', type: 'nominal', legend: null, sort: order },
          },
        },
        {
          // Every case as a small point, jittered sideways by a hash of its id (same place in every
          // violin), then the quartile bar and the median. This group's x is the jitter in [-1, 1]
          // (centre 0, like the density layer's symmetric scale); its scale is independent.
          layer: [
        {
          mark: { type: 'circle', size: 9, color: '#222', opacity: 0.55, aria: values.length <= MAX_POINT_TOOLTIPS },
          encoding: {
            y: { field: 'value', type: 'quantitative' },
            x: { field: 'jitter', type: 'quantitative', scale: { domain: [-1, 1] }, axis: null, title: null },
            // A tooltip per point only while the figure stays small (each adds ~100 bytes).
            ...(values.length <= MAX_POINT_TOOLTIPS ? { description: { field: 'tip' } } : {}),
          },
        },
        {
          mark: { type: 'rule', strokeWidth: 3, color: '#333' },
          encoding: {
            y: { aggregate: 'q1', field: 'value', type: 'quantitative' },
            y2: { aggregate: 'q3', field: 'value' },
            x: { datum: 0, type: 'quantitative' },
          },
        },
        {
          mark: { type: 'point', filled: true, color: 'white', size: 18, opacity: 1 },
          encoding: {
            y: { aggregate: 'median', field: 'value', type: 'quantitative' },
            x: { datum: 0, type: 'quantitative' },
          },
        },
          ],
        },
      ],
      resolve: { scale: { x: 'independent' } },
    },
    config: BASE_CONFIG,
  };
  const caption =
    `Per-case ${metricTitle(metric)} of every loss on ${table.task} (${table.cases.length} cases${ranking.multiLabel ? ', mean over labels' : ''}; ` +
    (metric.naPolicy.kind === 'constant'
      ? `N/A counted as ${metric.naPolicy.value}`
      : `infinite ${metric.displayName} drawn at the substitute ${table.substitute?.toFixed(metric.digits)}${metric.unit === '' ? '' : ` ${metric.unit}`}`) +
    '); grey points = the cases (spread sideways by a hash of the case id, so a case sits at the same place in every violin), white dot = median, bar = interquartile range; losses in leaderboard order.';
  return { file: `violin_${fileSafe(table.task)}_${fileSafe(table.metric)}.svg`, title, caption, spec };
}

export function rankScoreFigure(ranking: Ranking): Figure {
  const order = lossOrder(ranking);
  const { metrics } = ranking.options;
  const denominator = ranking.tasks.length * metrics.length;
  const values: { loss: string; part: string; contribution: number; rank: number; rankScore: number }[] = [];
  for (const e of ranking.leaderboard) {
    for (const task of ranking.tasks) {
      for (const m of metrics) {
        values.push({ loss: e.loss, part: `${task} ${metricDescriptor(m).displayName}`, contribution: (e.scores[scoreKey(task, m)] ?? 0) / denominator, rank: e.rank, rankScore: e.rankScore });
      }
    }
  }
  const labels = ranking.leaderboard.map((e) => ({ loss: e.loss, rankScore: e.rankScore, label: e.rankScore.toFixed(2) }));
  const title = `Rank score (${schemeName(metrics)}, ${ranking.tasks.length} task${ranking.tasks.length > 1 ? 's' : ''})`;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: Math.max(240, 26 * order.length),
    height: 260,
    layer: [
      {
        data: { values },
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'loss', type: 'nominal', sort: order, title: null, axis: { labelAngle: -50 } },
          y: { aggregate: 'sum', field: 'contribution', type: 'quantitative', title: 'rank score (mean significance score)' },
          color: { field: 'part', type: 'nominal', title: 'task, metric', scale: { scheme: 'tableau20' } },
          order: { field: 'part' },
        },
      },
      {
        data: { values: labels },
        mark: { type: 'text', dy: -6, fontSize: 10 },
        encoding: {
          x: { field: 'loss', type: 'nominal', sort: order },
          y: { field: 'rankScore', type: 'quantitative' },
          text: { field: 'label' },
        },
      },
    ],
    config: BASE_CONFIG,
  };
  return {
    file: 'rank_scores.svg',
    title,
    caption: 'Rank score of each loss (paper Fig. 10): the mean of its significance scores over tasks and metrics; each coloured part is one task × metric score divided by the number of task × metric pairs. Losses in leaderboard order.',
    spec,
  };
}

export function stabilityFigure(ranking: Ranking): Figure {
  const schemes = ranking.schemes.map((s) => s.name);
  const values: { loss: string; scheme: string; rank: number }[] = [];
  for (const s of ranking.schemes) ranking.losses.forEach((loss, l) => values.push({ loss, scheme: s.name, rank: s.ranks[l] as number }));
  const L = ranking.losses.length;
  const first = schemes[0] as string;
  const last = schemes[schemes.length - 1] as string;
  // End labels: tied losses share one label ("B, C") so that names do not overprint.
  const endLabels = (scheme: string) => {
    const byRank = new Map<number, string[]>();
    for (const v of values) if (v.scheme === scheme) byRank.set(v.rank, [...(byRank.get(v.rank) ?? []), v.loss]);
    return [...byRank].map(([rank, names]) => ({ scheme, rank, label: names.join(', ') }));
  };
  const title = 'Ranking stability across metrics';
  const step = 120;
  const longest = Math.max(...[first, last].flatMap((sc) => endLabels(sc).map((l) => l.label.length)));
  const labelPadding = Math.min(3, (longest * 6 + 16) / step);
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: step * (schemes.length - 1 + 2 * labelPadding),
    height: Math.max(200, 17 * L),
    data: { values },
    encoding: {
      // Outer padding of the point scale leaves room for the loss names at both ends.
      x: { field: 'scheme', type: 'ordinal', sort: schemes, title: 'metrics used for the ranking', axis: { labelAngle: 0, orient: 'top' }, scale: { padding: labelPadding } },
      y: { field: 'rank', type: 'quantitative', scale: { reverse: true, domain: [1, Math.max(2, L)], nice: false }, title: 'rank', axis: { tickMinStep: 1 } },
      color: { field: 'loss', type: 'nominal', legend: null, scale: { scheme: 'tableau20' } },
    },
    layer: [
      { mark: { type: 'line', strokeWidth: 1.5, opacity: 0.8 } },
      { mark: { type: 'point', filled: true, size: 30 } },
      {
        data: { values: endLabels(first) },
        mark: { type: 'text', align: 'right', dx: -8, fontSize: 10, color: '#333' },
        encoding: { text: { field: 'label' }, color: { value: '#333' } },
      },
      {
        data: { values: endLabels(last) },
        mark: { type: 'text', align: 'left', dx: 8, fontSize: 10, color: '#333' },
        encoding: { text: { field: 'label' }, color: { value: '#333' } },
      },
    ],
    config: { ...BASE_CONFIG, axisY: { grid: true } },
  };
  return {
    file: 'stability.svg',
    title,
    caption: `Rank of each loss (ties share the better rank) under ${schemes.join(', ')} (paper Fig. 11).`,
    spec,
  };
}

export function bootstrapFigure(ranking: Ranking): Figure | undefined {
  const boot = ranking.bootstrap;
  if (boot === undefined) return undefined;
  const order = lossOrder(ranking);
  const blobs: { loss: string; rank: number; share: number }[] = [];
  const summary: { loss: string; median: number; low: number; high: number }[] = [];
  for (const s of boot.losses) {
    s.rankCounts.forEach((count, r) => {
      if (count > 0) blobs.push({ loss: s.loss, rank: r + 1, share: count / boot.resamples });
    });
    summary.push({ loss: s.loss, median: s.medianRank, low: s.rankLow, high: s.rankHigh });
  }
  const taus: { ranking: string; tau: number }[] = [];
  for (const tau of boot.kendallTau) if (Number.isFinite(tau)) taus.push({ ranking: 'overall', tau });
  for (const task of ranking.tasks) {
    for (const tau of boot.kendallTauByTask[task] ?? []) if (Number.isFinite(tau)) taus.push({ ranking: task, tau });
  }
  const groups = ['overall', ...ranking.tasks];
  // An all-tied ranking has no τ; the panel then shows an empty axis with a note in its title.
  const tauTitle = taus.length > 0 ? "Kendall's τ-b: full ranking vs. each resample" : "Kendall's τ-b: undefined (all losses tie)";
  const tauMin = Math.min(0, ...taus.map((v) => v.tau));
  const L = ranking.losses.length;
  const x = { field: 'loss', type: 'nominal' as const, sort: order, title: null, axis: { labelAngle: -50 } };
  const yScale = { reverse: true, domain: [1, Math.max(2, L)], nice: false };
  const height = Math.max(200, 16 * L);
  const title = `Bootstrap ranks (${boot.resamples} resamples of the cases)`;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    hconcat: [
      {
        width: Math.max(240, 26 * L),
        height,
        layer: [
          {
            data: { values: blobs },
            mark: { type: 'circle', color: '#4c78a8', opacity: 0.6 },
            encoding: {
              x,
              y: { field: 'rank', type: 'quantitative', scale: yScale, title: 'rank', axis: { tickMinStep: 1 } },
              size: { field: 'share', type: 'quantitative', title: 'share of resamples', scale: { domain: [0, 1], range: [0, 400] } },
            },
          },
          {
            data: { values: summary },
            mark: { type: 'rule', color: 'black', strokeWidth: 1.5 },
            encoding: { x, y: { field: 'low', type: 'quantitative', scale: yScale }, y2: { field: 'high' } },
          },
          {
            data: { values: summary },
            mark: { type: 'point', shape: 'cross', color: 'black', filled: true, size: 60 },
            encoding: { x, y: { field: 'median', type: 'quantitative', scale: yScale } },
          },
        ],
      },
      {
        title: { text: tauTitle, fontSize: 12 },
        width: Math.max(160, 60 * groups.length),
        height,
        data: { values: taus },
        mark: { type: 'boxplot', extent: 'min-max', size: 24 },
        encoding: {
          x: { field: 'ranking', type: 'nominal', sort: groups, title: null, axis: { labelAngle: -50 } },
          y: { field: 'tau', type: 'quantitative', title: 'Kendall τ-b', scale: { domain: [tauMin, 1] } },
          color: { field: 'ranking', type: 'nominal', legend: null, sort: groups },
        },
      },
    ],
    resolve: { scale: { color: 'independent', size: 'independent' } },
    config: BASE_CONFIG,
  };
  return {
    file: 'bootstrap_ranks.svg',
    title,
    caption:
      'Left: rank distribution of each loss over bootstrap resamples of the cases (per task, with replacement): circle area = share of resamples with that rank, black bar = 2.5–97.5% quantiles, black cross = median rank. ' +
      "Right: Kendall's τ-b between the full-data ranking and each resample's ranking, overall (rank score) and per task (summed significance scores of that task); values near 1 mean a stable ranking.",
    spec,
  };
}

/**
 * Significance map of one task and metric (challengeR's `significanceMap`): losses in leaderboard
 * order on both axes, a cell dark when the row loss is significantly better than the column loss
 * (p < α, two-sided Wilcoxon, the metric's direction), pale red when it is significantly worse;
 * each cell's title gives the p-value. Beside it the effect sizes (`Ranking.effects`): each loss's
 * mean per-case difference to the reference loss (the task's top loss, or the leaderboard's first
 * when none is named) with its 95 % bootstrap interval.
 */
export function significanceFigure(ranking: Ranking, comparison: PairwiseComparison): Figure {
  const order = lossOrder(ranking);
  const index = new Map(ranking.losses.map((l, i) => [l, i]));
  const metric = metricDescriptor(comparison.metric);
  const cells: { row: string; col: string; kind: string; tip: string }[] = [];
  for (const row of order) {
    for (const col of order) {
      const a = index.get(row) as number;
      const b = index.get(col) as number;
      const kind = heatCellKind(comparison, a, b);
      const legend = HEAT_CELL_LEGEND.find((x) => x.kind === kind) as { label: string };
      const p = comparison.pvalues[a]?.[b];
      const pText = p === undefined || Number.isNaN(p) ? 'p n/a' : `p = ${p.toPrecision(3)}`;
      cells.push({ row, col, kind: legend.label, tip: a === b ? row : `${row} vs ${col}: ${pText} (${legend.label})` });
    }
  }
  const reference = ranking.topLoss[comparison.task] ?? (order[0] as string);
  const effects: { row: string; meanDiff: number; ciLow: number; ciHigh: number; tip: string }[] = [];
  for (const e of ranking.effects) {
    if (e.task !== comparison.task || e.metric !== comparison.metric || e.lossB !== reference) continue;
    const d = metric.digits;
    effects.push({
      row: e.lossA,
      meanDiff: e.meanDiff,
      ciLow: e.ciLow,
      ciHigh: e.ciHigh,
      // No interval without bootstrap resamples (`--bootstrap 0`): the bounds are NaN.
      tip: `${e.lossA} − ${reference}: ${e.meanDiff.toFixed(d)} ${Number.isFinite(e.ciLow) && Number.isFinite(e.ciHigh) ? `[${e.ciLow.toFixed(d)}, ${e.ciHigh.toFixed(d)}]` : '(no interval: no bootstrap)'}, ${e.nCases} cases, p = ${Number.isFinite(e.pValue) ? e.pValue.toPrecision(3) : 'n/a'}`,
    });
  }
  const L = order.length;
  const cell = L > 20 ? 14 : 20;
  const y = { field: 'row', type: 'nominal' as const, sort: order, title: 'row loss' };
  const heat = {
    width: cell * L,
    height: cell * L,
    data: { values: cells },
    mark: { type: 'rect' as const, stroke: '#fff', strokeWidth: 1 },
    encoding: {
      x: { field: 'col', type: 'nominal' as const, sort: order, title: 'column loss', axis: { labelAngle: -50, orient: 'top' as const } },
      y,
      color: {
        field: 'kind',
        type: 'nominal' as const,
        title: null,
        scale: { domain: HEAT_CELL_LEGEND.map((x) => x.label), range: HEAT_CELL_LEGEND.map((x) => x.color) },
        legend: { orient: 'bottom' as const, direction: 'vertical' as const, labelLimit: 0, symbolStrokeColor: '#999', symbolStrokeWidth: 0.5 },
      },
      description: { field: 'tip' },
    },
  };
  const unit = metric.unit === '' ? '' : ` (${metric.unit})`;
  const forest = {
    width: 180,
    height: cell * L,
    title: { text: `${metric.displayName} difference to ${reference}${unit}`, fontSize: 11 },
    layer: [
      { data: { values: [{ zero: 0 }] }, mark: { type: 'rule' as const, color: '#888', strokeDash: [3, 3] }, encoding: { x: { field: 'zero', type: 'quantitative' as const } } },
      {
        data: { values: effects },
        mark: { type: 'rule' as const, strokeWidth: 1.5, color: '#333' },
        encoding: { y: { ...y, title: null, axis: { labels: false, ticks: false, domain: false } }, x: { field: 'ciLow', type: 'quantitative' as const, title: 'mean difference, 95 % CI' }, x2: { field: 'ciHigh' }, description: { field: 'tip' } },
      },
      {
        data: { values: effects },
        mark: { type: 'point' as const, filled: true, size: 30, color: '#2c5d98' },
        encoding: { y: { ...y, title: null }, x: { field: 'meanDiff', type: 'quantitative' as const }, description: { field: 'tip' } },
      },
    ],
  };
  const title = `${comparison.task} — ${metric.displayName}: significance map and effect sizes`;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    hconcat: effects.length > 0 ? [heat, forest] : [heat],
    resolve: { scale: { y: 'shared' } },
    config: BASE_CONFIG,
  } as TopLevelSpec;
  const better = metric.higherIsBetter ? 'higher' : 'lower';
  return {
    file: `significance_${fileSafe(comparison.task)}_${fileSafe(comparison.metric)}.svg`,
    title,
    caption:
      `Left: pairwise two-sided Wilcoxon signed-rank tests on the per-case ${metric.displayName} of ${comparison.task}; dark = the row loss is significantly better than the column loss (p < ${ranking.options.alpha}, ${better} is better), pale red = significantly worse; hover a cell for its p-value. Losses in leaderboard order. ` +
      (effects.length > 0
        ? `Right: mean per-case difference (row loss − ${reference}; ${better} is better) with its 95 % bootstrap interval over cases${ranking.replicates[comparison.task] !== undefined && (ranking.replicates[comparison.task] as unknown[]).length > 1 ? ' and replicates' : ''}.`
        : 'No effect sizes in this ranking.'),
    spec,
  };
}

/** Validation Dice per epoch of every loss of a task (`ProvenanceSummary.valCurves`), one line per replicate. */
export function learningCurveFigure(ranking: Ranking, task: string): Figure | undefined {
  const order = lossOrder(ranking);
  const values: { loss: string; replicate: string; epoch: number; valDice: number }[] = [];
  for (const p of ranking.provenance ?? []) {
    if (p.task !== task) continue;
    for (const c of p.valCurves) {
      for (const pt of c.points) if (pt.valDice !== null && Number.isFinite(pt.valDice)) values.push({ loss: p.loss, replicate: `${p.loss} seed ${c.seed} fold ${c.fold}`, epoch: pt.epoch, valDice: pt.valDice });
    }
  }
  if (values.length === 0) return undefined;
  const title = `${task} — validation learning curves`;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 420,
    height: 240,
    data: { values },
    mark: { type: 'line', point: { size: 14 }, strokeWidth: 1.5, opacity: 0.85 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } },
      y: { field: 'valDice', type: 'quantitative', title: 'validation Dice' },
      color: { field: 'loss', type: 'nominal', sort: order, title: 'loss', scale: { scheme: 'tableau20' } },
      detail: { field: 'replicate', type: 'nominal' },
      description: { field: 'replicate' },
    },
    config: BASE_CONFIG,
  };
  return {
    file: `learning_curves_${fileSafe(task)}.svg`,
    title,
    caption: `Validation Dice after each epoch of every run on ${task} (one line per loss and replicate; the learning rate used for the test), as recorded in each run's provenance.`,
    spec,
  };
}

/** Published vs reproduced mean per loss for one task, one colour per metric, with the diagonal and Kendall's τ-b in the title. */
export function publishedFigure(ranking: Ranking, task: string): Figure | undefined {
  const pub = ranking.published;
  if (pub === undefined) return undefined;
  const rows = pub.rows.filter((r) => r.task === task);
  if (rows.length === 0) return undefined;
  const values = rows.map((r) => ({
    loss: r.loss,
    metric: metricDescriptor(r.metric).displayName,
    published: r.publishedMean,
    mean: r.mean,
    ciLow: r.ciLow,
    ciHigh: r.ciHigh,
    tip: `${r.loss} ${metricDescriptor(r.metric).displayName}: published ${r.publishedMean.toFixed(4)}, reproduced ${r.mean.toFixed(4)} [${r.ciLow.toFixed(4)}, ${r.ciHigh.toFixed(4)}]`,
  }));
  const all = values.flatMap((v) => [v.published, v.ciLow, v.ciHigh]).filter(Number.isFinite);
  const lo = Math.max(0, Math.floor(Math.min(...all) * 10) / 10);
  const hi = Math.min(1, Math.ceil(Math.max(...all) * 10) / 10);
  const domain = lo < hi ? [lo, hi] : [0, 1];
  const taus = pub.tau.filter((t) => t.task === task).map((t) => `${metricDescriptor(t.metric).displayName} τ = ${Number.isFinite(t.tau) ? t.tau.toFixed(2) : 'n/a'} (${t.n} losses)`);
  const title = `${task} — published vs reproduced means${taus.length > 0 ? `: ${taus.join(', ')}` : ''}`;
  const x = { field: 'published', type: 'quantitative' as const, title: `published mean (${pub.table})`, scale: { domain, nice: false } };
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 300,
    height: 300,
    layer: [
      {
        data: { values: [{ a: domain[0], b: domain[0] }, { a: domain[1], b: domain[1] }] },
        mark: { type: 'line', color: '#999', strokeDash: [4, 3] },
        encoding: { x: { field: 'a', type: 'quantitative', scale: { domain, nice: false }, title: x.title }, y: { field: 'b', type: 'quantitative', scale: { domain, nice: false }, title: 'reproduced mean, 95 % CI' } },
      },
      {
        data: { values },
        mark: { type: 'rule', opacity: 0.6 },
        encoding: { x, y: { field: 'ciLow', type: 'quantitative' }, y2: { field: 'ciHigh' }, color: { field: 'metric', type: 'nominal', title: 'metric' } },
      },
      {
        data: { values },
        mark: { type: 'point', filled: true, size: 40 },
        encoding: { x, y: { field: 'mean', type: 'quantitative' }, color: { field: 'metric', type: 'nominal', title: 'metric' }, description: { field: 'tip' } },
      },
      // Loss names beside the points while they stay legible; otherwise in each point's tooltip only.
      ...(values.length <= 12
        ? [
            {
              data: { values },
              mark: { type: 'text' as const, align: 'left' as const, dx: 5, fontSize: 9, color: '#444' },
              encoding: { x, y: { field: 'mean', type: 'quantitative' as const }, text: { field: 'loss' } },
            },
          ]
        : []),
    ],
    config: BASE_CONFIG,
  };
  return {
    file: `published_${fileSafe(task)}.svg`,
    title,
    caption: `Each loss's mean on ${task}: published (${pub.table}; ${pub.source}) against reproduced here, with the reproduced mean's 95 % bootstrap interval; dashed = equality. τ = Kendall's τ-b between the published and the reproduced order of the losses both have.`,
    spec,
  };
}

/** Every figure of a ranking, in report order. */
export function rankingFigures(ranking: Ranking): Figure[] {
  const figures: Figure[] = [rankScoreFigure(ranking), stabilityFigure(ranking)];
  const boot = bootstrapFigure(ranking);
  if (boot !== undefined) figures.push(boot);
  for (const table of ranking.tables) figures.push(violinFigure(ranking, table));
  for (const c of ranking.comparisons) figures.push(significanceFigure(ranking, c));
  for (const task of ranking.tasks) {
    const curves = learningCurveFigure(ranking, task);
    if (curves !== undefined) figures.push(curves);
    const published = publishedFigure(ranking, task);
    if (published !== undefined) figures.push(published);
  }
  return figures;
}

/**
 * Compile a Vega-Lite spec and render it to an SVG string (headless, no browser); each data mark's
 * `description` becomes an SVG <title> (a tooltip without a script).
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    return compactSvgTranslations(svgMarkTitles(await view.toSVG()));
  } finally {
    view.finalize();
  }
}
