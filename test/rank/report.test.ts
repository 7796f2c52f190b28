import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, checkReportInBrowserOrSkip, runSegloss, tempDir } from '../helpers.js';
import { readResultsCsv } from '../../src/rank/results.js';
import { rankResults } from '../../src/rank/ranking.js';
import { writeRankingOutputs } from '../../src/rank/outputs.js';
import { highlightedLoss, renderReportHtml } from '../../src/rank/report.js';
import { caseJitter, compactSvgTranslations, heatCellKind, svgMarkTitles } from '../../src/rank/report-cells.js';
import { labelMeans } from '../../src/rank/report-labels.js';
import type { EffectRow, PairwiseComparison, ProvenanceSummary, Ranking, ResultRow } from '../../src/rank/types.js';

const HAND = path.join(REPO_ROOT, 'test', 'fixtures', 'rank', 'hand-ranking.csv');
const hand = (): Ranking => rankResults(readResultsCsv([HAND]), { metrics: ['dsc', 'nsd'], alpha: 0.05, bootstrap: 0, seed: 1 });
const comparison = (r: Ranking, task: string, metric: string) => r.comparisons.find((c) => c.task === task && c.metric === metric) as PairwiseComparison;

// test/fixtures/rank/README.md: t1 DSC A > B > C on every case (p = 2/64 for every pair); t2 NSD nothing significant.
test('significance map cells: row better / worse / not significant / untestable / same, from the hand-derived tests', () => {
  const r = hand();
  const [A, B, C] = [0, 1, 2];
  const t1 = comparison(r, 't1', 'dsc');
  assert.deepEqual(
    [A, B, C].map((a) => [A, B, C].map((b) => heatCellKind(t1, a, b))),
    [
      ['same', 'better', 'better'],
      ['worse', 'same', 'better'],
      ['worse', 'worse', 'same'],
    ],
  );
  // t1 NSD: A, B > C, A vs B mixed.
  const t1n = comparison(r, 't1', 'nsd');
  assert.equal(heatCellKind(t1n, A, B), 'not-significant');
  assert.equal(heatCellKind(t1n, C, B), 'worse');
  const t2n = comparison(r, 't2', 'nsd');
  assert.ok([A, B, C].every((a) => [A, B, C].every((b) => heatCellKind(t2n, a, b) === (a === b ? 'same' : 'not-significant'))));
  // A pair with identical values on every case has p = NaN: untestable.
  const tied: PairwiseComparison = { task: 't', metric: 'dsc', pvalues: [[NaN, NaN], [NaN, NaN]], better: [[false, false], [false, false]], scores: [0, 0], worseThan: [0, 0] };
  assert.equal(heatCellKind(tied, 0, 1), 'untestable');
});

test('case jitter: a function of the case id only, spread over [-1, 1]', () => {
  const ids = Array.from({ length: 300 }, (_, i) => `case_${String(i).padStart(3, '0')}`);
  const first = ids.map(caseJitter);
  const again = [...ids].reverse().map(caseJitter).reverse();
  assert.deepEqual(again, first);
  assert.ok(first.every((j) => j >= -1 && j <= 1));
  assert.equal(new Set(first).size, ids.length, 'distinct ids get distinct offsets');
  assert.ok(Math.min(...first) < -0.9 && Math.max(...first) > 0.9, 'the whole width is used');
  const mean = first.reduce((s, v) => s + v, 0) / first.length;
  assert.ok(Math.abs(mean) < 0.15, `mean offset ${mean} near 0`);
  // Neighbouring ids (last character differs) do not sit side by side.
  assert.ok(Math.abs(caseJitter('c1') - caseJitter('c2')) > 0.05);
});

test('compactSvgTranslations rounds translate offsets to 0.01 px and nothing else', () => {
  assert.equal(
    compactSvgTranslations('<path transform="translate(16.666874250913242,190.43200000000002)" d="M1.5,0.123456"/><g transform="translate(-0.004,3)">'),
    '<path transform="translate(16.67,190.43)" d="M1.5,0.123456"/><g transform="translate(0,3)">',
  );
});

test('svgMarkTitles turns a mark description into a <title> child and leaves other elements alone', () => {
  const svg = '<g><path aria-label="A vs B: p = 0.0312 &amp; more" role="graphics-symbol" aria-roledescription="rect" d="M0,0h1v1h-1Z"/><path class="background" aria-hidden="true" d="M0,0"/></g>';
  assert.equal(
    svgMarkTitles(svg),
    '<g><path aria-label="A vs B: p = 0.0312 &amp; more" role="graphics-symbol" aria-roledescription="rect" d="M0,0h1v1h-1Z"><title>A vs B: p = 0.0312 &amp; more</title></path><path class="background" aria-hidden="true" d="M0,0"/></g>',
  );
});

test('per-label means apply the N/A policy per label value (DSC N/A → 0, HD95 ∞ → largest finite + 1 mm) and average cases and replicates', () => {
  const row = (loss: string, c: string, label: string, metric: 'dsc' | 'hd95', value: number): ResultRow => ({ task: 'm', loss, case: c, metric, value, label });
  const rows: ResultRow[] = [
    row('A', 'c1', '1', 'dsc', 0.8), row('A', 'c2', '1', 'dsc', NaN), row('A', 'c1', '2', 'dsc', 0.5), row('A', 'c2', '2', 'dsc', 0.7),
    row('B', 'c1', '1', 'dsc', 0.6), row('B', 'c2', '1', 'dsc', 0.6), row('B', 'c1', '2', 'dsc', 0.9), row('B', 'c2', '2', 'dsc', 0.9),
    row('A', 'c1', '1', 'hd95', 2), row('A', 'c2', '1', 'hd95', Infinity), row('B', 'c1', '1', 'hd95', 4), row('B', 'c2', '1', 'hd95', 9),
  ];
  const means = labelMeans(rows);
  const get = (loss: string, metric: string, label: string) => means.find((m) => m.loss === loss && m.metric === metric && m.label === label);
  assert.equal(get('A', 'dsc', '1')?.mean, 0.4); // (0.8 + 0) / 2
  assert.equal(get('A', 'dsc', '2')?.mean, 0.6);
  assert.equal(get('B', 'dsc', '1')?.mean, 0.6);
  assert.equal(get('A', 'hd95', '1')?.mean, 6); // (2 + (9 + 1)) / 2
  assert.equal(get('B', 'hd95', '1')?.mean, 6.5);
  assert.equal(get('A', 'dsc', '1')?.n, 2);
  assert.deepEqual(means.map((m) => `${m.metric}/${m.label}/${m.loss}`), ['dsc/1/A', 'dsc/1/B', 'dsc/2/A', 'dsc/2/B', 'hd95/1/A', 'hd95/1/B']);
  // A replicate of A's label-1 DSC at another seed enters the mean like another value.
  assert.equal(labelMeans([...rows, { ...row('A', 'c1', '1', 'dsc', 0.2), seed: 2 } as ResultRow]).find((m) => m.loss === 'A' && m.metric === 'dsc' && m.label === '1')?.mean, (0.8 + 0 + 0.2) / 3);
});

test('leaderboard highlight: the single rank-1 loss, and none when no task names a top loss', () => {
  const r = hand();
  assert.equal(highlightedLoss(r), 'A');
  assert.match(renderReportHtml(r, []), /<tr class="top"><td>1<\/td><td>A<\/td>/);
  const none = { ...r, topLoss: { t1: null, t2: null } };
  assert.equal(highlightedLoss(none), null);
  const html = renderReportHtml(none, []);
  assert.doesNotMatch(html, /class="top"/);
  assert.match(html, /top loss per task: t1: none named; t2: none named/);
});

test('four cases (no pair can reach p < 0.05): the too-few-cases warning is in the banner and no loss is highlighted as top', () => {
  const rows = readResultsCsv([HAND]).filter((r) => ['c1', 'c2', 'c3', 'c4'].includes(r.case));
  const r = rankResults(rows, { metrics: ['dsc', 'nsd'], alpha: 0.05, bootstrap: 0, seed: 1 });
  assert.deepEqual(r.topLoss, { t1: null, t2: null });
  const html = renderReportHtml(r, []);
  assert.match(html, /<div id="warnings"[^>]*>.*<li><code>too-few-cases<\/code> /s);
  assert.doesNotMatch(html, /class="top"/);
  assert.match(html, /top loss per task: t1: none named; t2: none named/);
  assert.match(html, /<p>Top loss: none named \(too few cases/);
});

test('with replicates the leaderboard shows the replicate rank median [min–max] and the share of replicates ranked first', () => {
  // Two seeds with identical values: each replicate alone is the hand-derived ranking (A 1, B 2, C 2).
  const rows = readResultsCsv([HAND]).flatMap((r) => [{ ...r, seed: 1 }, { ...r, seed: 2 }]);
  const r = rankResults(rows, { metrics: ['dsc', 'nsd'], alpha: 0.05, bootstrap: 0, seed: 1 });
  const html = renderReportHtml(r, []);
  const head = /<table id="leaderboard"><thead>(.*?)<\/thead>/s.exec(html)?.[1] ?? '';
  assert.match(head, /replicate rank<br>median \[min–max\]<\/th><th[^>]*>ranked first<br>in replicates<\/th><\/tr>$/);
  assert.match(html, /<tr class="top"><td>1<\/td><td>A<\/td><td>0\.750<\/td>.*?<td>1 \[1–1\]<\/td><td>100 % of 2<\/td><\/tr>/);
  assert.match(html, /<tr><td>2<\/td><td>B<\/td><td>0\.500<\/td>.*?<td>2 \[2–2\]<\/td><td>0 % of 2<\/td><\/tr>/);
});

test('warnings of one code are grouped: the first shown, the others folded away', () => {
  const r = hand();
  r.warnings = [
    { code: 'lr-at-grid-edge', message: 'A on t1: edge' },
    { code: 'single-replicate', message: 'one replicate' },
    { code: 'lr-at-grid-edge', message: 'B on t1: edge' },
    { code: 'lr-at-grid-edge', message: 'C on t1: edge' },
  ];
  const banner = /<div id="warnings"[^>]*>(.*?)<\/div>/s.exec(renderReportHtml(r, []))?.[1] ?? '';
  assert.equal(
    banner,
    '<b>4 warnings: read before trusting the ranking</b><ul>' +
      '<li><code>lr-at-grid-edge</code> A on t1: edge <details><summary>2 more <code>lr-at-grid-edge</code></summary><ul><li>B on t1: edge</li><li>C on t1: edge</li></ul></details></li>\n' +
      '<li><code>single-replicate</code> one replicate</li></ul>',
  );
});

test('without provenance the report says so; without published numbers it has no such section; warnings are listed with their codes', () => {
  const r = hand();
  r.warnings = [{ code: 'single-replicate', message: 'one replicate per loss: differences may be training noise' }];
  const html = renderReportHtml(r, []);
  assert.match(html, /<p id="provenance-unknown">Provenance unknown: /);
  assert.doesNotMatch(html, /published-section/);
  assert.match(html, /<div id="warnings"[^>]*><b>1 warning: [^<]*<\/b><ul><li><code>single-replicate<\/code> one replicate per loss: differences may be training noise<\/li><\/ul><\/div>/);
  // The banner comes before the leaderboard.
  assert.ok(html.indexOf('id="warnings"') < html.indexOf('id="leaderboard"'));
  assert.doesNotMatch(renderReportHtml({ ...hand(), warnings: [] }, []), /id="warnings"/);
  // Effect sizes without bootstrap resamples have a mean difference (A − B on t1 DSC = 0.28/6) but no interval.
  assert.match(html, /<tr><td>A<\/td><td>B<\/td><td>6<\/td><td>0\.0467<\/td><td>\[n\/a: no bootstrap\]<\/td><td>0\.0313<\/td><td>yes<\/td><\/tr>/);
});

/** The hand-made ranking with every optional part of the report filled in. */
function demoRanking(): Ranking {
  const r = rankResults(readResultsCsv([HAND]), { metrics: ['dsc', 'nsd'], alpha: 0.05, bootstrap: 50, seed: 3 });
  r.warnings = [
    { code: 'single-replicate', message: 'one replicate per loss: differences may be training noise' },
    { code: 'under-trained', message: 'toy-liver/B trained 12 % of its budget', task: 't1', loss: 'B' },
  ];
  const effects: EffectRow[] = [];
  for (const c of r.comparisons) {
    const t = r.tables.find((x) => x.task === c.task && x.metric === c.metric);
    if (t === undefined) continue;
    r.losses.forEach((a, i) =>
      r.losses.forEach((b, j) => {
        if (i === j) return;
        const d = (t.values[i] as number[]).map((v, k) => v - ((t.values[j] as number[])[k] as number));
        const meanDiff = d.reduce((s, v) => s + v, 0) / d.length;
        effects.push({ task: c.task, metric: c.metric, lossA: a, lossB: b, nCases: d.length, meanDiff, ciLow: Math.min(...d), ciHigh: Math.max(...d), pValue: c.pvalues[i]?.[j] as number, significant: c.better[i]?.[j] === true });
      }),
    );
  }
  r.effects = effects;
  r.provenance = r.tasks.flatMap((task) =>
    r.losses.map(
      (loss, l): ProvenanceSummary => ({
        task,
        loss,
        steps: 600 + 100 * l,
        budgetSteps: 1000,
        // Loss A's runs were capped at 1000 of the profile's 10 000 steps; the others ran uncapped.
        profileSteps: l === 0 ? 10_000 : 1000,
        epochs: 6,
        stopReason: 'budget',
        learningRate: 3e-4,
        lrScores: [{ learningRate: 3e-3, score: 0.41 }, { learningRate: 3e-4, score: 0.62 }, { learningRate: 3e-5, score: null }],
        replicates: [{ seed: 1, fold: 0 }],
        checkpoint: { kind: 'best', epoch: 5 },
        seconds: 95 + l,
        valCurves: [{ seed: 1, fold: 0, points: [1, 2, 3, 4, 5, 6].map((epoch) => ({ epoch, valDice: epoch === 3 ? null : 0.1 * epoch + 0.05 * l })) }],
      }),
    ),
  );
  r.published = {
    table: 'table2',
    source: 'Ma et al. 2021, Table 2',
    rows: [
      { task: 't1', metric: 'dsc', loss: 'A', publishedMean: 0.9, mean: 0.925, ciLow: 0.91, ciHigh: 0.94, difference: 0.025 },
      { task: 't1', metric: 'dsc', loss: 'B', publishedMean: 0.88, mean: 0.8767, ciLow: 0.87, ciHigh: 0.885, difference: -0.0033, caveat: 'a caveat <b>escaped</b>' },
      { task: 't1', metric: 'dsc', loss: 'C', publishedMean: 0.6, mean: 0.575, ciLow: 0.5, ciHigh: 0.65, difference: -0.025 },
    ],
    tau: [{ task: 't1', metric: 'dsc', tau: 1, n: 3 }],
  };
  return r;
}

const demoOut = tempDir('segloss-report-');
let demoWritten: Promise<string[]> | undefined;
const writeDemo = () => (demoWritten ??= writeRankingOutputs(demoRanking(), demoOut));

test('the figures of the new sections are written: one significance map per task × metric, learning curves per task, the published scatter', async () => {
  const files = (await writeDemo()).map((f) => path.basename(f));
  for (const f of ['significance_t1_dsc.svg', 'significance_t1_nsd.svg', 'significance_t1_hd95.svg', 'significance_t2_dsc.svg', 'significance_t2_nsd.svg', 'significance_t2_hd95.svg', 'learning_curves_t1.svg', 'learning_curves_t2.svg', 'published_t1.svg']) {
    assert.ok(files.includes(f), f);
  }
  assert.ok(!files.includes('published_t2.svg'), 'no scatter for a task without published rows');
  // The significance map's cells carry their p-values as SVG titles (p = 2/64 = 0.03125 for A vs B on t1 DSC, 3 digits).
  const sig = readFileSync(path.join(demoOut, 'significance_t1_dsc.svg'), 'utf8');
  assert.match(sig, /<title>A vs B: p = 0\.0313 \(row significantly better\)<\/title>/);
  assert.match(sig, /<title>C vs A: p = 0\.0313 \(row significantly worse\)<\/title>/);
  // Effect sizes: B − A on t1 DSC = mean(-0.01, -0.02, -0.035, -0.055, -0.07, -0.09) = -0.28/6.
  assert.match(sig, /<title>B − A: -0\.0467 \[-0\.0900, -0\.0100\], 6 cases, p = 0\.0313<\/title>/);
  // Every case on every violin: 3 losses × 6 cases.
  const violin = readFileSync(path.join(demoOut, 'violin_t1_dsc.svg'), 'utf8');
  assert.equal((violin.match(/<title>[ABC], case c\d: DSC [0-9.]+<\/title>/g) ?? []).length, 18);
});

test('report.html with warnings, effects, provenance and published numbers renders every section in headless Chromium', async (t) => {
  await writeDemo();
  const probe = `({
    warnings: document.querySelector('#warnings')?.textContent ?? null,
    warningsBeforeLeaderboard: !!(document.querySelector('#warnings')?.compareDocumentPosition(document.querySelector('#leaderboard')) & Node.DOCUMENT_POSITION_FOLLOWING),
    leaderboardHeader: Array.from(document.querySelectorAll('#leaderboard thead th')).map((th) => th.textContent),
    leaderboardRows: Array.from(document.querySelectorAll('#leaderboard tbody tr')).map((tr) => Array.from(tr.cells).map((c) => c.textContent)),
    topCells: Array.from(document.querySelectorAll('#leaderboard td.top')).map((td) => td.title),
    rawHidden: [document.querySelector('#leaderboard-details').open, document.querySelector('#leaderboard-raw').checkVisibility()],
    significanceMaps: Array.from(document.querySelectorAll('figure[id^="fig-significance_"]')).map((f) => [f.id, f.querySelectorAll('svg [role="graphics-symbol"]').length, f.querySelector('svg').getBoundingClientRect().width > 100]),
    violinPoints: Array.from(document.querySelectorAll('figure[id^="fig-violin_"] svg title')).filter((x) => /, case c\\d:/.test(x.textContent)).length,
    provenanceRows: Array.from(document.querySelectorAll('#provenance tbody tr')).map((tr) => Array.from(tr.cells).map((c) => c.textContent)),
    curves: Array.from(document.querySelectorAll('figure[id^="fig-learning_curves_"]')).map((f) => f.id),
    publishedRows: Array.from(document.querySelectorAll('#published-table tbody tr')).map((tr) => Array.from(tr.cells).map((c) => c.textContent)),
    publishedScatter: document.querySelectorAll('#published-section ~ figure[id="fig-published_t1"] svg, figure#fig-published_t1 svg').length,
    tau: document.querySelector('#published-tau')?.textContent ?? null,
    outside: Array.from(document.querySelectorAll('#published-table td.outside')).map((td) => td.parentElement.cells[2].textContent),
  })`;
  const check = await checkReportInBrowserOrSkip(t, path.join(demoOut, 'report.html'), probe);
  if (check === undefined) return;
  assert.deepEqual(check.problems, []);
  assert.equal(new Set(check.svgIds).size, check.svgIds.length);
  assert.ok(check.overflowPx <= 0, `page is ${check.overflowPx}px wider than the window`);
  const p = check.probe as {
    warnings: string | null; warningsBeforeLeaderboard: boolean; leaderboardHeader: string[]; leaderboardRows: string[][]; topCells: string[]; rawHidden: boolean[];
    significanceMaps: [string, number, boolean][]; violinPoints: number; provenanceRows: string[][]; curves: string[]; publishedRows: string[][]; publishedScatter: number; tau: string | null; outside: string[];
  };
  assert.match(p.warnings ?? '', /2 warnings/);
  assert.match(p.warnings ?? '', /single-replicate one replicate per loss: differences may be training noise/);
  assert.match(p.warnings ?? '', /under-trained toy-liver\/B trained 12 % of its budget/);
  assert.ok(p.warningsBeforeLeaderboard);
  // Compact leaderboard: rank, loss, rank score, mean DSC and NSD per task, bootstrap rank; nothing else.
  assert.deepEqual(p.leaderboardHeader, ['rank', 'loss', 'rank score', 't1DSC', 't1NSD', 't2DSC', 't2NSD', 'bootstrap rankmedian [95%]']);
  assert.deepEqual(p.leaderboardRows.map((r) => r.slice(0, 4)), [['1', 'A', '0.750', '0.9250'], ['2', 'B', '0.500', '0.8783'], ['2', 'C', '0.500', '0.5750']]);
  // t1's top loss is A; t2's is C (C > A, C > B on DSC, nothing on NSD).
  assert.deepEqual(p.topCells, ['top loss of t1', 'top loss of t1', 'top loss of t2', 'top loss of t2']);
  assert.deepEqual(p.rawHidden, [false, false], 'the raw columns are folded away');
  // One significance map per task × metric, each 3 × 3 cells (+ effect-size marks), drawn at a visible size.
  assert.deepEqual(p.significanceMaps.map(([id]) => id).sort(), ['fig-significance_t1_dsc', 'fig-significance_t1_hd95', 'fig-significance_t1_nsd', 'fig-significance_t2_dsc', 'fig-significance_t2_hd95', 'fig-significance_t2_nsd']);
  for (const [id, marks, visible] of p.significanceMaps) {
    assert.ok(marks >= 9 + 2 * 2, `${id}: ${marks} marks`);
    assert.ok(visible, id);
  }
  assert.equal(p.violinPoints, 2 * 3 * 3 * 6, 'every case of every loss on all six violins');
  assert.equal(p.provenanceRows.length, 6);
  assert.deepEqual(p.provenanceRows[0], ['t1', 'A', '600 / 1000 (60 %); profile 10000 (6.0 %)', '6', 'budget', '3e-4', '3e-3: 0.410, 3e-4: 0.620, 3e-5: n/a', '1 (seed 1; fold 0)', 'best (epoch 5)', '95 s']);
  assert.deepEqual(p.curves.sort(), ['fig-learning_curves_t1', 'fig-learning_curves_t2']);
  assert.deepEqual(p.publishedRows[1], ['t1', 'DSC', 'B', '0.8800', '0.8767 [0.8700, 0.8850]', '-0.0033', 'a caveat <b>escaped</b>']);
  assert.equal(p.publishedScatter, 1);
  assert.match(p.tau ?? '', /t1 DSC: τ = 1\.000 over 3 losses/);
  // A's published 0.9 lies below its interval [0.91, 0.94]; B's and C's lie inside theirs.
  assert.deepEqual(p.outside, ['A']);
});

test('segloss rank on run folders with provenance.json and two seeds: the report shows the provenance rows, learning curves and replicate ranks', async (t) => {
  const dir = tempDir('segloss-report-prov-');
  const [header, ...lines] = readFileSync(HAND, 'utf8').trim().split('\n');
  for (const seed of [1, 2]) {
    const runDir = path.join(dir, 'runs', `seed-${seed}`);
    mkdirSync(runDir, { recursive: true });
    writeFileSync(path.join(runDir, 'results.csv'), [`${header},seed,fold`, ...lines.map((l) => `${l},${seed},0`)].join('\n') + '\n');
    const entries = ['t1', 't2'].flatMap((task) =>
      ['A', 'B', 'C'].map((loss, l) => ({
        task, loss, seed, fold: 0, learningRate: 3e-4,
        lrScores: [{ learningRate: 3e-3, score: 0.5 }, { learningRate: 3e-4, score: 0.6 + 0.01 * seed }, { learningRate: 3e-5, score: 0.4 }],
        steps: 1000, budgetSteps: 1000, epochs: 4, stopReason: 'budget', checkpoint: { kind: 'best', epoch: 3 }, seconds: 60 + l,
        valCurve: [1, 2, 3, 4].map((epoch) => ({ epoch, valDice: epoch === 4 ? 0.5 : 0.1 * epoch + 0.02 * l })),
      })),
    );
    writeFileSync(path.join(runDir, 'provenance.json'), JSON.stringify({ version: 1, entries }));
  }
  const out = path.join(dir, 'ranking');
  const r = runSegloss(['rank', '--results', path.join(dir, 'runs'), '--out', out, '--bootstrap', '20']);
  assert.equal(r.status, 0, r.stderr);
  const probe = `({
    provenance: Array.from(document.querySelectorAll('#provenance tbody tr')).map((tr) => Array.from(tr.cells).map((c) => c.textContent)),
    curves: Array.from(document.querySelectorAll('figure[id^="fig-learning_curves_"] svg')).length,
    header: Array.from(document.querySelectorAll('#leaderboard thead th')).map((th) => th.textContent),
    first: Array.from(document.querySelectorAll('#leaderboard tbody tr:first-child td')).map((td) => td.textContent),
    unknown: document.querySelector('#provenance-unknown') !== null,
  })`;
  const check = await checkReportInBrowserOrSkip(t, path.join(out, 'report.html'), probe);
  if (check === undefined) return;
  assert.deepEqual(check.problems, []);
  const p = check.probe as { provenance: string[][]; curves: number; header: string[]; first: string[]; unknown: boolean };
  assert.equal(p.unknown, false);
  assert.equal(p.provenance.length, 6);
  // Scores of a rate: mean over the two seeds (0.61 and 0.62); time: summed over them.
  assert.deepEqual(p.provenance[0], ['t1', 'A', '1000 / 1000 (100 %)', '4', 'budget', '3e-4', '3e-5: 0.400, 3e-4: 0.615, 3e-3: 0.500', '2 (seed 1, 2; fold 0)', 'best (epoch 3)', '2.0 min']);
  assert.equal(p.curves, 2);
  assert.ok(p.header.includes('replicate rankmedian [min–max]') && p.header.includes('ranked firstin replicates'), p.header.join(' | '));
  assert.deepEqual(p.first.slice(0, 2), ['1', 'A']);
  assert.deepEqual(p.first.slice(-3, -1), ['1 [1–1]', '100 % of 2']);
});

test('segloss rank --published on the published means themselves: every difference 0, every τ 1, one scatter per task', async (t) => {
  const out = tempDir('segloss-report-pub-');
  const input = path.join(REPO_ROOT, 'test', 'fixtures', 'rank', 'published-table2-means.csv');
  const r = runSegloss(['rank', '--results', input, '--out', out, '--bootstrap', '0', '--published', 'table2']);
  assert.equal(r.status, 0, r.stderr);
  const probe = `({
    rows: Array.from(document.querySelectorAll('#published-table tbody tr')).map((tr) => Array.from(tr.cells).map((c) => c.textContent)),
    tau: Array.from(document.querySelectorAll('#published-tau li')).map((li) => li.textContent),
    scatters: Array.from(document.querySelectorAll('figure[id^="fig-published_"] svg')).length,
    navTasks: Array.from(document.querySelectorAll('nav a')).map((a) => a.getAttribute('href')).filter((h) => h.startsWith('#task-')).map((h) => document.querySelector(h) !== null),
  })`;
  const check = await checkReportInBrowserOrSkip(t, path.join(out, 'report.html'), probe);
  if (check === undefined) return;
  assert.deepEqual(check.problems, []);
  const p = check.probe as { rows: string[][]; tau: string[]; scatters: number; navTasks: boolean[] };
  // 20 losses × 4 tasks × DSC/NSD, each reproduced mean equal to the published one.
  assert.equal(p.rows.length, 20 * 4 * 2);
  for (const row of p.rows) {
    assert.equal(row[5], '+0.0000', row.join(' | '));
    assert.equal(row[4]?.split(' ')[0], row[3]);
  }
  assert.equal(p.tau.length, 4 * 2);
  assert.ok(p.tau.every((x) => / τ = 1\.000 over 20 losses$/.test(x)), p.tau.join('; '));
  assert.equal(p.scatters, 4);
  // Task anchors work for names with spaces ("Liver Tumor").
  assert.deepEqual(p.navTasks, [true, true, true, true]);
});
