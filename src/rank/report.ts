/**
 * report.html: one self-contained file (inline CSS and SVG, no script, no network) with the
 * leaderboard, the figures, the per-task tables (Table 2 layout, significance scores, p-values)
 * and the per-case values. The leaderboard is `<table id="leaderboard">`, best rank first.
 */
import { leaderboardRows, rankingRuleText } from './leaderboard.js';
import type { Figure } from './figures.js';
import { scoreKey } from './ranking.js';
import { buildTable2 } from './table2.js';
import { metricDescriptor } from '../eval/metric-descriptors.js';
import type { Ranking } from './types.js';

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

function table(header: string[], rows: string[][], attrs = ''): string {
  const head = `<thead><tr>${header.map((h) => `<th>${h}</th>`).join('')}</tr></thead>`;
  const body = `<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n')}</tbody>`;
  return `<div class="scroll"><table${attrs}>${head}${body}</table></div>`;
}

function figureHtml(f: RenderedFigure, index: number): string {
  return `<figure id="fig-${escapeHtml(f.file.replace(/\.svg$/, ''))}">${namespaceSvgIds(f.svg, `f${index}`)}<figcaption>${escapeHtml(f.caption)} <span class="file">(${escapeHtml(f.file)})</span></figcaption></figure>`;
}

const CSS = `
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1280px;padding:1rem 1.5rem;color:#222;line-height:1.4}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd}h3{font-size:1.05rem}
p.meta{color:#555;margin-top:0}
.scroll{overflow-x:auto;margin:.5rem 0}
table{border-collapse:collapse;font-size:.85rem}
th,td{padding:.2rem .5rem;border-bottom:1px solid #e4e4e4;text-align:right;white-space:nowrap}
th{background:#f4f4f4;position:sticky;top:0}
td:nth-child(2),th:nth-child(2){text-align:left}
table.plain td:first-child,table.plain th:first-child{text-align:left}
#leaderboard tbody tr:first-child{background:#fff6d5;font-weight:600}
figure{margin:1rem 0;overflow-x:auto}figure svg{max-width:100%;height:auto}
figcaption{font-size:.85rem;color:#444;max-width:60rem}.file{color:#888}
details{margin:.4rem 0}summary{cursor:pointer;font-weight:600}
nav a{margin-right:1rem}
`;

export function renderReportHtml(ranking: Ranking, figures: RenderedFigure[]): string {
  const { header, rows } = leaderboardRows(ranking);
  const boot = ranking.bootstrap;
  const leaderboard = table(
    header.map(escapeHtml),
    rows.map((r, i) => {
      // Ranks and significance scores are counts; rank scores and means get a fixed 4 decimals.
      const cells = r.map((c, k) => {
        if (typeof c !== 'number') return escapeHtml(c);
        const h = header[k] as string;
        return h === 'rank' || h.startsWith('score_') || !Number.isFinite(c) ? num(c) : c.toFixed(4);
      });
      const loss = ranking.leaderboard[i]?.loss as string;
      const s = boot?.losses.find((x) => x.loss === loss);
      return s === undefined ? cells : [...cells, `${num(s.medianRank, 1)} [${num(s.rankLow, 1)}, ${num(s.rankHigh, 1)}]`];
    }),
    ' id="leaderboard"',
  ).replace('</tr></thead>', boot === undefined ? '</tr></thead>' : '<th>bootstrap rank: median [95%]</th></tr></thead>');

  const byFile = (prefix: string) => figures.map((f, i) => ({ f, i })).filter(({ f }) => f.file.startsWith(prefix));
  const sections: string[] = [];
  sections.push(`<h2 id="leaderboard-section">Leaderboard</h2><p>${escapeHtml(rankingRuleText(ranking))}</p>${leaderboard}`);
  sections.push(`<h2 id="figures">Ranking figures</h2>${[...byFile('rank_scores'), ...byFile('stability'), ...byFile('bootstrap')].map(({ f, i }) => figureHtml(f, i)).join('\n')}`);

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

  // Per task: significance scores, violins, p-values, per-case values.
  for (const task of ranking.tasks) {
    const parts: string[] = [`<h2 id="task-${escapeHtml(task)}">Task ${escapeHtml(task)}</h2>`];
    const comps = ranking.comparisons.filter((c) => c.task === task);
    parts.push(
      '<h3>Significance scores (number of losses significantly beaten)</h3>' +
        table(['loss', ...comps.map((c) => metricDescriptor(c.metric).displayName)], ranking.losses.map((l, i) => [escapeHtml(l), ...comps.map((c) => String(c.scores[i]))]), ' class="plain"'),
    );
    for (const { f, i } of byFile(`violin_`)) if (f.title.startsWith(`${task} — `)) parts.push(figureHtml(f, i));
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
    }
    for (const t of ranking.tables.filter((x) => x.task === task)) {
      parts.push(
        `<details><summary>Per-case ${metricDescriptor(t.metric).displayName} (${t.cases.length} cases${ranking.multiLabel ? ', mean over labels' : ''}, after the N/A policy)</summary>` +
          table(['case', ...ranking.losses.map(escapeHtml)], t.cases.map((c, i) => [escapeHtml(c), ...t.values.map((row) => num(row[i] as number))]), ' class="plain"') +
          '</details>',
      );
    }
    sections.push(parts.join('\n'));
  }
  const top = ranking.leaderboard[0];
  const scoreCols = ranking.tasks.flatMap((t) => ranking.options.metrics.map((m) => scoreKey(t, m))).length;
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
<p class="meta">${ranking.losses.length} losses × ${ranking.tasks.length} task(s) (${ranking.tasks.map(escapeHtml).join(', ')}), ${scoreCols} task × metric scores; top: <b>${escapeHtml(top?.loss ?? '')}</b>. Inputs: ${ranking.sources.map(escapeHtml).join(', ') || '(in memory)'}.</p>
<nav><a href="#leaderboard-section">Leaderboard</a><a href="#figures">Figures</a><a href="#table2">Table 2</a>${ranking.tasks.map((t) => `<a href="#task-${escapeHtml(t)}">${escapeHtml(t)}</a>`).join('')}</nav>
${sections.join('\n')}
<p class="meta">Generated by segloss rank. Wilcoxon signed-rank test as scipy 1.10 <code>wilcoxon(x, y)</code> (two-sided, zero differences dropped; exact distribution for n ≤ 50 without ties or zeros, otherwise normal approximation with tie correction, no continuity correction).</p>
</body>
</html>
`;
}
