/**
 * report.html: one self-contained file (inline CSS and SVG, no script, no network). From the top:
 * the warnings banner (`#warnings`), the compact leaderboard (`<table id="leaderboard">`, best rank
 * first: rank, loss, rank score, mean DSC/NSD per task, replicate and bootstrap ranks; every raw
 * column and the input files folded away below it), the ranking figures, the provenance of the
 * runs with their learning curves, the published-vs-reproduced comparison, Table 2, and per task
 * the significance maps with effect sizes, the violins with every case, the per-label means and
 * the p-values, effects and per-case values in collapsed `<details>`. Layout: docs/ranking.md.
 */
import { leaderboardRows, rankingRuleText } from './leaderboard.js';
import { fileSafe, type Figure } from './figures.js';
import { scoreKey } from './ranking.js';
import { buildTable2 } from './table2.js';
import { METRIC_DESCRIPTORS, metricDescriptor } from '../eval/metric-descriptors.js';
import type { LeaderboardEntry, MetricName, ProvenanceSummary, PublishedRow, Ranking } from './types.js';

export interface RenderedFigure extends Figure {
  svg: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * Make the ids of one inline SVG unique in the page (Vega names clip paths `clip1`, … in every
 * SVG; duplicates would make later figures clip against the first figure's paths).
 */
export function namespaceSvgIds(svg: string, prefix: string): string {
  const ids = new Set<string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) ids.add(m[1] as string);
  let out = svg.replace(/<\?xml[^>]*>\s*/, '');
  for (const id of ids) {
    const esc = id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out = out
      .replace(new RegExp(`\\sid="${esc}"`, 'g'), ` id="${prefix}-${id}"`)
      .replace(new RegExp(`url\\(#${esc}\\)`, 'g'), `url(#${prefix}-${id})`)
      .replace(new RegExp(`href="#${esc}"`, 'g'), `href="#${prefix}-${id}"`);
  }
  return out;
}

const num = (v: number, digits = 4): string => (Number.isFinite(v) ? (Number.isInteger(v) ? String(v) : v.toFixed(digits)) : Number.isNaN(v) ? 'n/a' : String(v));

/** A table cell: plain HTML, or HTML with a class and a title (tooltip). */
type Cell = string | { html: string; cls?: string; title?: string };

function cellHtml(tag: 'td' | 'th', c: Cell): string {
  if (typeof c === 'string') return `<${tag}>${c}</${tag}>`;
  const cls = c.cls === undefined ? '' : ` class="${c.cls}"`;
  const title = c.title === undefined ? '' : ` title="${escapeHtml(c.title)}"`;
  return `<${tag}${cls}${title}>${c.html}</${tag}>`;
}

function table(header: Cell[], rows: Cell[][], attrs = '', rowClasses: (string | undefined)[] = []): string {
  const head = `<thead><tr>${header.map((h) => cellHtml('th', h)).join('')}</tr></thead>`;
  const body = `<tbody>${rows.map((r, i) => `<tr${rowClasses[i] === undefined ? '' : ` class="${rowClasses[i]}"`}>${r.map((c) => cellHtml('td', c)).join('')}</tr>`).join('\n')}</tbody>`;
  return `<div class="scroll"><table${attrs}>${head}${body}</table></div>`;
}

function figureHtml(f: RenderedFigure, index: number): string {
  return `<figure id="fig-${escapeHtml(f.file.replace(/\.svg$/, ''))}">${namespaceSvgIds(f.svg, `f${index}`)}<figcaption>${escapeHtml(f.caption)} <span class="file">(${escapeHtml(f.file)})</span></figcaption></figure>`;
}

/** The metrics whose per-task mean the compact leaderboard shows (DSC, NSD), when present. */
function meanMetrics(ranking: Ranking): MetricName[] {
  return METRIC_DESCRIPTORS.filter((d) => d.tableMean && ranking.metricsAvailable.includes(d.name)).map((d) => d.name);
}

/** Whether any task has more than one replicate per loss. */
export function hasReplicates(ranking: Ranking): boolean {
  return Object.values(ranking.replicates).some((r) => r.length > 1);
}

/**
 * The loss whose leaderboard row is highlighted: the single loss at rank 1, and only when at least
 * one task names a top loss (with too few cases or a tie for first in every task nothing is
 * highlighted, since no difference can be or is significant there).
 */
export function highlightedLoss(ranking: Ranking): string | null {
  const first = ranking.leaderboard.filter((e) => e.rank === 1);
  if (first.length !== 1) return null;
  return Object.values(ranking.topLoss).some((t) => t !== null) ? (first[0] as LeaderboardEntry).loss : null;
}

function compactLeaderboard(ranking: Ranking): string {
  const metrics = meanMetrics(ranking);
  const replicated = hasReplicates(ranking);
  const boot = ranking.bootstrap;
  const header: Cell[] = ['rank', 'loss', { html: 'rank score', title: 'mean significance score over tasks and metrics' }];
  for (const task of ranking.tasks) for (const m of metrics) header.push({ html: `${escapeHtml(task)}<br>${metricDescriptor(m).displayName}`, title: `mean per-case ${metricDescriptor(m).displayName} on ${task}` });
  if (replicated) header.push({ html: 'replicate rank<br>median [min–max]', title: 'rank of the loss in the ranking of each replicate (seed, fold) alone' }, { html: 'ranked first<br>in replicates', title: 'share of replicates in which the loss ranks first' });
  if (boot !== undefined) header.push({ html: 'bootstrap rank<br>median [95%]', title: `${boot.resamples} resamples` });
  const top = highlightedLoss(ranking);
  const rows: Cell[][] = ranking.leaderboard.map((e) => {
    const cells: Cell[] = [String(e.rank), escapeHtml(e.loss), e.rankScore.toFixed(3)];
    for (const task of ranking.tasks) {
      for (const m of metrics) {
        const v = e.means[m]?.[task];
        const text = v === undefined ? '' : num(v, metricDescriptor(m).digits);
        cells.push(ranking.topLoss[task] === e.loss ? { html: text, cls: 'top', title: `top loss of ${task}` } : text);
      }
    }
    if (replicated) {
      const r = e.replicateRank;
      cells.push(r === undefined ? '' : `${num(r.median, 1)} [${r.min}–${r.max}]`, r === undefined ? '' : `${Math.round(100 * r.shareFirst)} % of ${r.count}`);
    }
    if (boot !== undefined) {
      const s = boot.losses.find((x) => x.loss === e.loss);
      cells.push(s === undefined ? '' : `${num(s.medianRank, 1)} [${num(s.rankLow, 1)}, ${num(s.rankHigh, 1)}]`);
    }
    return cells;
  });
  return table(header, rows, ' id="leaderboard"', ranking.leaderboard.map((e) => (e.loss === top ? 'top' : undefined)));
}

/** Every leaderboard.csv column, as the file has it. */
function rawLeaderboard(ranking: Ranking): string {
  const { header, rows } = leaderboardRows(ranking);
  return table(
    header.map(escapeHtml),
    rows.map((r) =>
      r.map((c, k) => {
        if (typeof c !== 'number') return escapeHtml(c);
        // Ranks and significance scores are counts; rank scores and means get a fixed 4 decimals.
        const h = header[k] as string;
        return h === 'rank' || h.startsWith('score_') || !Number.isFinite(c) ? num(c) : c.toFixed(4);
      }),
    ),
    ' class="plain" id="leaderboard-raw"',
  );
}

/**
 * The warnings banner. Warnings of one code are grouped so that the leaderboard stays near the top
 * (a grid of many losses can raise one warning per run): a code with several warnings shows the
 * first and folds the rest away.
 */
function warningsBanner(ranking: Ranking): string {
  if (ranking.warnings.length === 0) return '';
  const groups = new Map<string, string[]>();
  for (const w of ranking.warnings) groups.set(w.code, [...(groups.get(w.code) ?? []), w.message]);
  const items = [...groups]
    .map(([code, messages]) => {
      const head = `<code>${escapeHtml(code)}</code> ${escapeHtml(messages[0] as string)}`;
      if (messages.length === 1) return `<li>${head}</li>`;
      const rest = messages.slice(1).map((m) => `<li>${escapeHtml(m)}</li>`).join('');
      return `<li>${head} <details><summary>${messages.length - 1} more <code>${escapeHtml(code)}</code></summary><ul>${rest}</ul></details></li>`;
    })
    .join('\n');
  const n = ranking.warnings.length;
  return `<div id="warnings" class="warnings" role="note"><b>${n} warning${n > 1 ? 's' : ''}: read before trusting the ranking</b><ul>${items}</ul></div>`;
}

/** A 95 % interval, or why there is none (bootstrap intervals are NaN with `--bootstrap 0`). */
const ciText = (low: number, high: number, digits: number): string => (Number.isFinite(low) && Number.isFinite(high) ? `[${low.toFixed(digits)}, ${high.toFixed(digits)}]` : '[n/a: no bootstrap]');

const seconds = (s: number): string => (!Number.isFinite(s) ? 'n/a' : s < 120 ? `${s.toFixed(0)} s` : s < 7200 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`);
const rate = (lr: number): string => (Number.isFinite(lr) ? Number(lr.toPrecision(3)).toExponential() : 'n/a');

function replicateText(p: ProvenanceSummary): string {
  const seeds = [...new Set(p.replicates.map((r) => r.seed).filter((s): s is number => s !== null))];
  const folds = [...new Set(p.replicates.map((r) => r.fold).filter((f): f is number => f !== null))];
  return `${p.replicates.length}${seeds.length > 0 ? ` (seed ${seeds.join(', ')}` : ' ('}${folds.length > 0 ? `${seeds.length > 0 ? '; ' : ''}fold ${folds.join(', ')})` : ')'}`.replace(' ()', '');
}

/** `part` as a percentage of `whole`: one decimal below 10 %, whole percent above. */
function percentText(part: number, whole: number): string {
  const pct = (100 * part) / whole;
  return `${pct < 10 ? pct.toFixed(1) : Math.round(pct)} %`;
}

/** The provenance section: one row per task × loss, or the sentence saying it is unknown. */
function provenanceSection(ranking: Ranking, curves: string): string {
  const head = '<h2 id="provenance-section">How the networks were trained</h2>';
  if (ranking.provenance === null) {
    return `${head}<p id="provenance-unknown">Provenance unknown: no <code>provenance.json</code> beside these results describes their tasks and losses (results from plain CSV files), so the training behind them (optimizer steps, epochs, learning rate, seeds, checkpoint, time) is not recorded and cannot be compared.</p>`;
  }
  const order = new Map(ranking.leaderboard.map((e, i) => [e.loss, i]));
  const entries = [...ranking.provenance].sort((a, b) => ranking.tasks.indexOf(a.task) - ranking.tasks.indexOf(b.task) || (order.get(a.loss) ?? 0) - (order.get(b.loss) ?? 0));
  const rows: Cell[][] = entries.map((p) => {
    const share = p.budgetSteps > 0 ? ` (${percentText(p.steps, p.budgetSteps)})` : '';
    // A capped run finishes its own budget; beside it, how much of its profile's training that is.
    const profile = p.profileSteps !== null && p.profileSteps !== p.budgetSteps ? `; profile ${p.profileSteps} (${percentText(p.steps, p.profileSteps)})` : '';
    const tried = p.lrScores
      .map((s) => {
        const t = `${rate(s.learningRate)}: ${s.score === null ? 'n/a' : s.score.toFixed(3)}`;
        return s.learningRate === p.learningRate ? `<b>${t}</b>` : t;
      })
      .join(', ');
    return [
      escapeHtml(p.task),
      escapeHtml(p.loss),
      `${p.steps} / ${p.budgetSteps}${share}${profile}`,
      String(p.epochs),
      escapeHtml(p.stopReason),
      rate(p.learningRate),
      { html: tried || '—', cls: 'wrap' },
      escapeHtml(replicateText(p)),
      `${escapeHtml(p.checkpoint.kind)}${p.checkpoint.epoch !== null ? ` (epoch ${p.checkpoint.epoch})` : p.replicates.length > 1 ? ' (epochs differ)' : ''}`,
      seconds(p.seconds),
    ];
  });
  return (
    head +
    '<p>Per task and loss: optimizer steps (including any pre-training stage) against the planned budget (and against the training profile\'s uncapped budget when a cap made them differ) and epochs (the largest over its replicates), why training stopped, the learning rate used for the test and the validation score of every rate searched (mean over replicates; used rate in bold), the replicates, the checkpoint tested (its epoch when every replicate agrees), and the wall time (summed over replicates).</p>' +
    table(['task', 'loss', 'steps / budget', 'epochs', 'stop reason', 'learning rate', 'rates tried: validation score', 'replicates', 'checkpoint', 'time'], rows, ' class="plain" id="provenance"') +
    curves
  );
}

/** reproduced − published, shaded when the published mean lies outside the reproduced 95 % interval. */
function differenceCell(r: PublishedRow): Cell {
  const html = `${r.difference >= 0 ? '+' : ''}${r.difference.toFixed(4)}`;
  const outside = r.publishedMean < r.ciLow || r.publishedMean > r.ciHigh;
  return outside ? { html, cls: 'outside', title: 'published mean outside the reproduced 95 % interval' } : html;
}

function publishedSection(ranking: Ranking, scatter: string): string {
  const pub = ranking.published;
  if (pub === undefined) return '';
  const order = new Map(ranking.leaderboard.map((e, i) => [e.loss, i]));
  const rows = [...pub.rows].sort((a, b) => ranking.tasks.indexOf(a.task) - ranking.tasks.indexOf(b.task) || METRIC_DESCRIPTORS.findIndex((d) => d.name === a.metric) - METRIC_DESCRIPTORS.findIndex((d) => d.name === b.metric) || (order.get(a.loss) ?? 0) - (order.get(b.loss) ?? 0));
  const body: Cell[][] = rows.map((r) => [
    escapeHtml(r.task),
    metricDescriptor(r.metric).displayName,
    escapeHtml(r.loss),
    r.publishedMean.toFixed(4),
    `${num(r.mean, 4)} ${ciText(r.ciLow, r.ciHigh, 4)}`,
    differenceCell(r),
    { html: escapeHtml(r.caveat ?? ''), cls: 'wrap' },
  ]);
  const taus = pub.tau.map((t) => `<li>${escapeHtml(t.task)} ${metricDescriptor(t.metric).displayName}: τ = ${Number.isFinite(t.tau) ? t.tau.toFixed(3) : 'n/a'} over ${t.n} losses</li>`).join('');
  return (
    '<h2 id="published-section">Published vs reproduced</h2>' +
    `<p>Published means: ${escapeHtml(pub.table)} (${escapeHtml(pub.source)}). Reproduced: the mean over cases${hasReplicates(ranking) ? ' and replicates' : ''} here, with its 95 % bootstrap interval; difference = reproduced − published (shaded when the published mean lies outside the interval).</p>` +
    table(['task', 'metric', 'loss', 'published', 'reproduced [95% CI]', 'difference', 'caveat'], body, ' class="plain" id="published-table"') +
    (taus === '' ? '' : `<p>Kendall's τ-b between the published and the reproduced order of the losses:</p><ul id="published-tau">${taus}</ul>`) +
    scatter
  );
}

/** Per-label means of one task (multi-label input): losses in leaderboard order × label and metric. */
function perLabelTable(ranking: Ranking, task: string): string {
  const means = (ranking.labelMeans ?? []).filter((m) => m.task === task);
  if (means.length === 0) return '';
  const labels = [...new Set(means.map((m) => m.label))];
  const metrics = METRIC_DESCRIPTORS.map((d) => d.name).filter((m) => means.some((x) => x.metric === m));
  const cols = metrics.flatMap((metric) => labels.map((label) => ({ metric, label })));
  const value = (loss: string, metric: MetricName, label: string) => means.find((m) => m.loss === loss && m.metric === metric && m.label === label)?.mean;
  // Best per column in bold (highest for DSC/NSD, lowest for HD95).
  const best = cols.map(({ metric, label }) => {
    const vs = ranking.leaderboard.map((e) => value(e.loss, metric, label)).filter((v): v is number => v !== undefined);
    return metricDescriptor(metric).higherIsBetter ? Math.max(...vs) : Math.min(...vs);
  });
  const rows: Cell[][] = ranking.leaderboard.map((e) => [
    escapeHtml(e.loss),
    ...cols.map(({ metric, label }, k) => {
      const v = value(e.loss, metric, label);
      if (v === undefined) return '';
      const t = num(v, metricDescriptor(metric).digits);
      return v === best[k] ? `<b>${t}</b>` : t;
    }),
  ]);
  return (
    `<h3>Per label (mean over cases${hasReplicates(ranking) ? ' and replicates' : ''}, after the N/A policy; best in bold)</h3>` +
    table(['loss', ...cols.map(({ metric, label }) => `${metricDescriptor(metric).displayName}<br>label ${escapeHtml(label)}`)], rows, ` class="plain per-label" id="per-label-${escapeHtml(fileSafe(task))}"`)
  );
}

/** The ordered pairs of one task and metric, each pair once (the loss earlier in the leaderboard first). */
function effectsTable(ranking: Ranking, task: string, metric: MetricName): string {
  const order = new Map(ranking.leaderboard.map((e, i) => [e.loss, i]));
  const rows = ranking.effects.filter((e) => e.task === task && e.metric === metric && (order.get(e.lossA) ?? 0) < (order.get(e.lossB) ?? 0));
  if (rows.length === 0) return '';
  const d = metricDescriptor(metric).digits;
  rows.sort((a, b) => (order.get(a.lossA) ?? 0) - (order.get(b.lossA) ?? 0) || (order.get(a.lossB) ?? 0) - (order.get(b.lossB) ?? 0));
  return (
    `<details><summary>Effect sizes, ${metricDescriptor(metric).displayName}: mean per-case difference a − b with 95 % bootstrap interval (every pair)</summary>` +
    table(
      ['loss a', 'loss b', 'cases', 'mean a − b', '95% CI', 'p', 'significant'],
      rows.map((e) => [escapeHtml(e.lossA), escapeHtml(e.lossB), String(e.nCases), num(e.meanDiff, d), ciText(e.ciLow, e.ciHigh, d), num(e.pValue, 4), e.significant ? 'yes' : 'no']),
      ' class="plain effects"',
    ) +
    '</details>'
  );
}

const CSS = `
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1280px;padding:1rem 1.5rem;color:#222;line-height:1.4}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd}h3{font-size:1.05rem}
p.meta{color:#555;margin-top:0}
.scroll{overflow-x:auto;margin:.5rem 0}
table{border-collapse:collapse;font-size:.85rem}
th,td{padding:.2rem .5rem;border-bottom:1px solid #e4e4e4;text-align:right;white-space:nowrap}
th{background:#f4f4f4;position:sticky;top:0;vertical-align:bottom}
td:nth-child(2),th:nth-child(2){text-align:left}
table.plain td:first-child,table.plain th:first-child{text-align:left}
td.wrap{white-space:normal;text-align:left;min-width:12rem}
#published-table td:nth-child(-n+3),#published-table th:nth-child(-n+3),#provenance td:nth-child(-n+2),#provenance th:nth-child(-n+2),#provenance td:nth-child(5),#provenance th:nth-child(5){text-align:left}
#leaderboard tbody tr.top{background:#fff6d5;font-weight:600}
#leaderboard td.top{background:#fde9a9;font-weight:600}
td.outside{background:#f8e0da}
.warnings{background:#fff4e5;border:1px solid #f0b35b;border-left:6px solid #e08a00;padding:.5rem 1rem;margin:1rem 0}
.warnings ul{margin:.3rem 0 0;padding-left:1.2rem}.warnings details{display:inline;margin:0}.warnings summary{font-weight:400;color:#8a5300;display:inline}.warnings code{background:#fde3bf;padding:0 .25rem;border-radius:3px}
figure{margin:1rem 0;overflow-x:auto}figure svg{max-width:100%;height:auto}
figcaption{font-size:.85rem;color:#444;max-width:60rem}.file{color:#888}
details{margin:.4rem 0}summary{cursor:pointer;font-weight:600}
nav a{margin-right:1rem}
`;

export function renderReportHtml(ranking: Ranking, figures: RenderedFigure[]): string {
  const byFile = (prefix: string) => figures.map((f, i) => ({ f, i })).filter(({ f }) => f.file.startsWith(prefix));
  const figuresOf = (prefix: string) => byFile(prefix).map(({ f, i }) => figureHtml(f, i)).join('\n');
  const fileTask = (task: string) => fileSafe(task);
  const sections: string[] = [];
  const sources = ranking.sources.length === 0 ? '<li>(in memory)</li>' : ranking.sources.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('');
  sections.push(
    `<h2 id="leaderboard-section">Leaderboard</h2>${compactLeaderboard(ranking)}<p class="note">${escapeHtml(rankingRuleText(ranking))} Highlighted cell: the task's top loss (none is named for a task with too few cases for any test to reach p &lt; ${ranking.options.alpha}, or with a tie for first).</p>` +
      `<details id="leaderboard-details"><summary>Every leaderboard.csv column (significance score per task and metric) and the ${ranking.sources.length} input file${ranking.sources.length === 1 ? '' : 's'}</summary>${rawLeaderboard(ranking)}<ul class="sources">${sources}</ul></details>`,
  );
  sections.push(`<h2 id="figures">Ranking figures</h2>${[...byFile('rank_scores'), ...byFile('stability'), ...byFile('bootstrap')].map(({ f, i }) => figureHtml(f, i)).join('\n')}`);
  sections.push(provenanceSection(ranking, ranking.tasks.map((t) => figuresOf(`learning_curves_${fileTask(t)}.`)).join('\n')));
  const published = publishedSection(ranking, ranking.tasks.map((t) => figuresOf(`published_${fileTask(t)}.`)).join('\n'));
  if (published !== '') sections.push(published);

  // Table 2 layout.
  const t2 = buildTable2(ranking);
  const t2rows = t2.rows.map((r) => [
    escapeHtml(r.loss),
    ...r.cells.map((c) => {
      let s = num(c.mean);
      if (c.best) s = `<b>${s}</b>`;
      if (c.worst) s = `<u>${s}</u>`;
      return s;
    }),
  ]);
  sections.push(
    `<h2 id="table2">Mean values per task (Table 2 layout)</h2><p>Bold: significantly best in the column; underlined: significantly worst (same Wilcoxon tests, p &lt; ${ranking.options.alpha}).</p>` +
      table(['loss', ...t2.columns.map((c) => `${escapeHtml(c.task)} ${metricDescriptor(c.metric).displayName}`)], t2rows, ' class="plain" id="table2-table"'),
  );

  // Per task: significance scores, significance maps with effect sizes, violins, per-label means, details.
  for (const task of ranking.tasks) {
    const parts: string[] = [`<h2 id="task-${escapeHtml(fileSafe(task))}">Task ${escapeHtml(task)}</h2>`];
    const comps = ranking.comparisons.filter((c) => c.task === task);
    const top = ranking.topLoss[task];
    parts.push(`<p>Top loss: ${top === null || top === undefined ? 'none named (too few cases for any test to be significant, or a tie for first)' : `<b>${escapeHtml(top)}</b>`}.</p>`);
    parts.push(
      '<h3>Significance scores (number of losses significantly beaten)</h3>' +
        table(['loss', ...comps.map((c) => metricDescriptor(c.metric).displayName)], ranking.losses.map((l, i) => [escapeHtml(l), ...comps.map((c) => String(c.scores[i]))]), ' class="plain"'),
    );
    parts.push('<h3>Significance maps and effect sizes</h3>');
    for (const c of comps) parts.push(figuresOf(`significance_${fileTask(task)}_${fileSafe(c.metric)}.`));
    parts.push('<h3>Per-case values</h3>');
    for (const t of ranking.tables.filter((x) => x.task === task)) parts.push(figuresOf(`violin_${fileTask(task)}_${fileSafe(t.metric)}.`));
    parts.push(perLabelTable(ranking, task));
    for (const c of comps) {
      parts.push(
        `<details><summary>Pairwise p-values, ${metricDescriptor(c.metric).displayName} (row significantly better than column is marked ▲)</summary>` +
          table(
            ['loss', ...ranking.losses.map(escapeHtml)],
            ranking.losses.map((l, a) => [escapeHtml(l), ...ranking.losses.map((_, b) => (a === b ? '' : `${num(c.pvalues[a]?.[b] as number, 4)}${c.better[a]?.[b] ? ' ▲' : ''}`))]),
            ' class="plain"',
          ) +
          '</details>',
      );
      parts.push(effectsTable(ranking, task, c.metric));
    }
    for (const t of ranking.tables.filter((x) => x.task === task)) {
      parts.push(
        `<details><summary>Per-case ${metricDescriptor(t.metric).displayName} (${t.cases.length} cases${ranking.multiLabel ? ', mean over labels' : ''}${hasReplicates(ranking) ? ', mean over replicates' : ''}, after the N/A policy)</summary>` +
          table(['case', ...ranking.losses.map(escapeHtml)], t.cases.map((c, i) => [escapeHtml(c), ...t.values.map((row) => num(row[i] as number))]), ' class="plain"') +
          '</details>',
      );
    }
    sections.push(parts.filter((p) => p !== '').join('\n'));
  }
  const tops = ranking.tasks.map((t) => `${escapeHtml(t)}: ${ranking.topLoss[t] === null || ranking.topLoss[t] === undefined ? 'none named' : `<b>${escapeHtml(ranking.topLoss[t] as string)}</b>`}`).join('; ');
  const scoreCols = ranking.tasks.flatMap((t) => ranking.options.metrics.map((m) => scoreKey(t, m))).length;
  const nav = [
    ['leaderboard-section', 'Leaderboard'],
    ['figures', 'Figures'],
    ['provenance-section', 'Provenance'],
    ...(published !== '' ? [['published-section', 'Published vs reproduced']] : []),
    ['table2', 'Table 2'],
    ...ranking.tasks.map((t) => [`task-${fileSafe(t)}`, t]),
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>segloss ranking report</title>
<style>${CSS}</style>
</head>
<body>
<h1>segloss ranking report</h1>
${warningsBanner(ranking)}
<p class="meta">${ranking.losses.length} losses × ${ranking.tasks.length} task(s), ${scoreCols} task × metric scores${hasReplicates(ranking) ? ', replicated runs' : ''}; top loss per task: ${tops}.</p>
<nav>${nav.map(([id, text]) => `<a href="#${escapeHtml(id as string)}">${escapeHtml(text as string)}</a>`).join('')}</nav>
${sections.join('\n')}
<p class="meta">Generated by segloss rank. Wilcoxon signed-rank test as scipy 1.10 <code>wilcoxon(x, y)</code> (two-sided, zero differences dropped; exact distribution for n ≤ 50 without ties or zeros, otherwise normal approximation with tie correction, no continuity correction).</p>
</body>
</html>
`;
}
