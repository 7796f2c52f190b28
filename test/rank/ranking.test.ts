import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, SHARED, tempDir } from '../helpers.js';
import { readResultsCsv, parseResultsCsv } from '../../src/rank/results.js';
import { rankResults } from '../../src/rank/ranking.js';
import { buildTable2, renderTable2Markdown } from '../../src/rank/table2.js';
import { kendallTauB } from '../../src/rank/kendall.js';
import { quantile, ranksFromTotals } from '../../src/rank/ranks.js';
import { InputError, UsageError } from '../../src/util/errors.js';
import type { Ranking, ResultRow } from '../../src/rank/types.js';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'rank');
const HAND = path.join(FIXTURES, 'hand-ranking.csv');
const opts = { metrics: ['dsc', 'nsd'], alpha: 0.05, bootstrap: 0, seed: 7 };

const score = (r: Ranking, task: string, metric: string, loss: string) =>
  r.comparisons.find((c) => c.task === task && c.metric === metric)?.scores[r.losses.indexOf(loss)];
const rankOf = (r: Ranking, scheme: string, loss: string) => r.schemes.find((s) => s.name === scheme)?.ranks[r.losses.indexOf(loss)];

// Derivation in test/fixtures/rank/README.md: with 6 cases, no ties and no zeros, the exact
// two-sided p is 2/64 = 0.03125 < 0.05 exactly when one loss wins on all 6 cases, else >= 0.0625.
test('hand-made CSV: significance scores, rank scores and ranks as derived by hand', () => {
  const r = rankResults(readResultsCsv([HAND]), opts);
  assert.deepEqual(r.tasks, ['t1', 't2']);
  assert.deepEqual(r.losses, ['A', 'B', 'C']);
  assert.deepEqual(r.metricsAvailable, ['dsc', 'nsd', 'hd95']);
  const expected: Record<string, [number, number, number]> = {
    't1/dsc': [2, 1, 0],
    't1/nsd': [1, 1, 0],
    't1/hd95': [2, 1, 0],
    't2/dsc': [0, 0, 2],
    't2/nsd': [0, 0, 0],
    't2/hd95': [0, 0, 0],
  };
  for (const [key, scores] of Object.entries(expected)) {
    const [task, metric] = key.split('/') as [string, string];
    assert.deepEqual(['A', 'B', 'C'].map((l) => score(r, task, metric, l)), scores, key);
  }
  assert.deepEqual(r.leaderboard.map((e) => [e.rank, e.loss, e.rankScore]), [[1, 'A', 0.75], [2, 'B', 0.5], [2, 'C', 0.5]]);
  assert.deepEqual(r.leaderboard[0]?.scores, { 't1/dsc': 2, 't1/nsd': 1, 't2/dsc': 0, 't2/nsd': 0 });
  // Stability: DSC only A 1, C 1, B 3; NSD only A 1, B 1, C 3; HD95 only 1, 2, 3.
  assert.deepEqual(r.schemes.map((s) => s.name), ['DSC+NSD', 'DSC', 'NSD', 'HD95']);
  assert.deepEqual(['A', 'B', 'C'].map((l) => rankOf(r, 'DSC', l)), [1, 3, 1]);
  assert.deepEqual(['A', 'B', 'C'].map((l) => rankOf(r, 'NSD', l)), [1, 1, 3]);
  assert.deepEqual(['A', 'B', 'C'].map((l) => rankOf(r, 'HD95', l)), [1, 2, 3]);
  const t1dsc = r.comparisons.find((c) => c.task === 't1' && c.metric === 'dsc');
  assert.equal(t1dsc?.pvalues[0]?.[1], 2 / 64);
  const t1nsd = r.comparisons.find((c) => c.task === 't1' && c.metric === 'nsd');
  assert.equal(t1nsd?.pvalues[0]?.[1], 0.6875); // scipy 1.10: statistic 8, p 0.6875
});

test('N/A policy: NaN DSC/NSD count as 0, infinite HD95 as the largest finite HD95 of the task + 1 mm', () => {
  const r = rankResults(readResultsCsv([HAND]), opts);
  const t2nsd = r.tables.find((t) => t.task === 't2' && t.metric === 'nsd');
  assert.equal(t2nsd?.values[2]?.[1], 0);
  assert.deepEqual(t2nsd?.naCounts, [0, 0, 1]);
  const t1hd = r.tables.find((t) => t.task === 't1' && t.metric === 'hd95');
  assert.equal(t1hd?.substitute, 17);
  assert.equal(t1hd?.values[2]?.[5], 17);
  assert.equal(r.tables.find((t) => t.task === 't2' && t.metric === 'hd95')?.substitute, 7.45);
  // Mean NSD of C on t2 with the N/A as 0: (0.44 + 0 + 0.47 + 0.79 + 0.21 + 0.585) / 6.
  assert.ok(Math.abs((r.leaderboard.find((e) => e.loss === 'C')?.means.nsd?.['t2'] as number) - 2.495 / 6) < 1e-12);
});

test('Table 2 marks: bold = highest significance score, underlined = beaten by the most losses', () => {
  const r = rankResults(readResultsCsv([HAND]), opts);
  const t = buildTable2(r);
  assert.deepEqual(t.columns.map((c) => `${c.task}/${c.metric}`), ['t1/dsc', 't1/nsd', 't2/dsc', 't2/nsd']);
  const marks = t.rows.map((row) => row.cells.map((c) => (c.best ? 'b' : '') + (c.worst ? 'u' : '') || '-').join(' '));
  assert.deepEqual(marks, ['b b u -', '- b u -', 'u u b -']);
  const md = renderTable2Markdown(r);
  assert.match(md, /\| A \| \*\*0\.9250\*\* \| \*\*0\.7250\*\* \| <u>0\.6083<\/u> \| 0\.5083 \|/);
});

test('published Table 2 means (one row per loss and task) round-trip into the Table 2 layout', () => {
  const r = rankResults(readResultsCsv([path.join(FIXTURES, 'published-table2-means.csv')]), { ...opts, bootstrap: 0 });
  assert.equal(r.losses.length, 20);
  assert.deepEqual(r.tasks, ['Liver', 'Liver Tumor', 'Multi-organ', 'Pancreas']);
  const md = renderTable2Markdown(r);
  const published = readFileSync(path.join(SHARED, 'data', 'loss-odyssey-published', 'table2-means-20losses.csv'), 'utf8').trim().split(/\r?\n/);
  const header = (published[0] as string).split(',');
  for (const line of published.slice(1)) {
    const cells = line.split(',');
    const loss = cells[0] as string;
    const row = md.split('\n').find((l) => l.startsWith(`| ${loss} |`));
    assert.ok(row !== undefined, loss);
    // With one value per loss no test can be significant, so nothing is bold or underlined.
    const shown = row.split('|').slice(2, -1).map((s) => s.trim());
    const tableColumns = buildTable2(r).columns.map((c) => `${c.task}-${c.metric.toUpperCase()}`);
    tableColumns.forEach((col, i) => assert.equal(shown[i], Number(cells[header.indexOf(col)]).toFixed(4), `${loss} ${col}`));
  }
  assert.ok(r.leaderboard.every((e) => e.rank === 1 && e.rankScore === 0));
});

test('several labels per case: the case value is the mean over labels after the N/A policy', () => {
  const rows: ResultRow[] = [];
  for (const loss of ['X', 'Y']) {
    for (const c of ['c1', 'c2']) {
      rows.push({ task: 'organs', loss, case: c, metric: 'dsc', label: '1', value: loss === 'X' ? 0.8 : 0.6 });
      rows.push({ task: 'organs', loss, case: c, metric: 'dsc', label: '2', value: c === 'c2' && loss === 'Y' ? NaN : 0.4 });
      rows.push({ task: 'organs', loss, case: c, metric: 'hd95', label: '1', value: c === 'c1' && loss === 'X' ? Infinity : 3 });
      rows.push({ task: 'organs', loss, case: c, metric: 'hd95', label: '2', value: 5 });
    }
  }
  const r = rankResults(rows, { metrics: ['dsc'], alpha: 0.05, bootstrap: 0, seed: 1 });
  assert.equal(r.multiLabel, true);
  const dsc = r.tables.find((t) => t.metric === 'dsc');
  assert.deepEqual(dsc?.values, [[0.6000000000000001, 0.6000000000000001], [0.5, 0.3]]);
  const hd = r.tables.find((t) => t.metric === 'hd95');
  assert.equal(hd?.substitute, 6);
  assert.deepEqual(hd?.values, [[5.5, 4], [4, 4]]);
});

test('directories are searched recursively for results.csv and merged', () => {
  const dir = tempDir();
  const lines = readFileSync(HAND, 'utf8').trim().split(/\r?\n/);
  const header = lines[0] as string;
  mkdirSync(path.join(dir, 'runs', 't1', 'eval'), { recursive: true });
  mkdirSync(path.join(dir, 'runs', 't2'), { recursive: true });
  writeFileSync(path.join(dir, 'runs', 't1', 'eval', 'results.csv'), [header, ...lines.filter((l) => l.startsWith('t1,'))].join('\n'));
  writeFileSync(path.join(dir, 'runs', 't2', 'results.csv'), [header, ...lines.filter((l) => l.startsWith('t2,'))].join('\r\n') + '\r\n');
  writeFileSync(path.join(dir, 'runs', 't2', 'per_case.csv'), 'case,label,metric,value\n');
  const rows = readResultsCsv([path.join(dir, 'runs')]);
  assert.equal(rows.length, lines.length - 1);
  const r = rankResults(rows, opts);
  assert.deepEqual(r.leaderboard.map((e) => [e.rank, e.loss]), [[1, 'A'], [2, 'B'], [2, 'C']]);
});

function expectInputError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InputError || err instanceof UsageError, `expected InputError/UsageError, got ${String(err)}`);
    assert.match((err as Error).message, pattern);
    assert.equal((err as InputError).exitCode, 2);
    return true;
  });
}

test('input errors name the rows: duplicates, unknown metrics, bad values, missing columns', () => {
  const ok = 'task,loss,case,metric,value\n';
  expectInputError(() => parseResultsCsv(ok + 't,a,c1,dsc,0.5\nt,a,c1,dice,0.5\n', 'r.csv'), /^r\.csv: line 3: unknown metric 'dice'/);
  expectInputError(() => parseResultsCsv(ok + 't,a,c1,dsc,zero\n', 'r.csv'), /^r\.csv: line 2: value 'zero' is not a number/);
  expectInputError(() => parseResultsCsv(ok + 't,a,c1,dsc,1.5\n', 'r.csv'), /line 2: dsc must be within \[0, 1\]/);
  expectInputError(() => parseResultsCsv(ok + 't,a,c1,hd95,-1\n', 'r.csv'), /line 2: hd95 must be >= 0/);
  expectInputError(() => parseResultsCsv('task,loss,case,value\nt,a,c1,0.5\n', 'r.csv'), /line 1: missing column\(s\) metric/);
  expectInputError(() => parseResultsCsv(ok + 't,a,c1\n', 'r.csv'), /line 2: 3 field\(s\), the header has 5/);
  const dup = parseResultsCsv(ok + 't,a,c1,dsc,0.5\nt,b,c1,dsc,0.4\nt,a,c1,dsc,0.6\n', 'r.csv');
  expectInputError(() => rankResults(dup, { ...opts, metrics: ['dsc'] }), /^r\.csv:4: duplicate row task=t loss=a case=c1 metric=dsc \(first at r\.csv:2\)/);
  const missing = parseResultsCsv(ok + 't,a,c1,dsc,0.5\nt,a,c2,dsc,0.5\nt,b,c1,dsc,0.4\n', 'r.csv');
  expectInputError(() => rankResults(missing, { ...opts, metrics: ['dsc'] }), /task 't', metric dsc: loss 'b' has no row for case\(s\) c2 \(other losses have them, e\.g\. r\.csv:3\)/);
  const noTask = parseResultsCsv(ok + 't,a,c1,dsc,0.5\nt,b,c1,dsc,0.4\nu,a,c1,dsc,0.5\n', 'r.csv');
  expectInputError(() => rankResults(noTask, { ...opts, metrics: ['dsc'] }), /task 'u': no rows for loss\(es\) b/);
  const rows = readResultsCsv([HAND]);
  expectInputError(() => rankResults(rows, { ...opts, metrics: ['dsc', 'jaccard'] }), /--metrics: unknown metric 'jaccard'/);
  expectInputError(() => rankResults(rows, { ...opts, alpha: 1.5 }), /--alpha/);
  expectInputError(() => rankResults(parseResultsCsv(ok + 't,a,c1,dsc,0.5\nt,b,c1,dsc,0.4\n', 'r.csv'), opts), /--metrics: the results have no nsd values/);
  const mixed = [
    ...parseResultsCsv('task,loss,case,metric,value,label\nt,a,c1,dsc,0.5,1\n', 'multi.csv'),
    ...parseResultsCsv(ok + 't,b,c1,dsc,0.4\n', 'single.csv'),
  ];
  expectInputError(() => rankResults(mixed, { ...opts, metrics: ['dsc'] }), /^single\.csv:2: task 't': this row has no label but multi\.csv:2 has one/);
  const empty = tempDir();
  expectInputError(() => readResultsCsv([empty]), /no results\.csv found/);
  expectInputError(() => readResultsCsv([path.join(empty, 'nope.csv')]), /nope\.csv: no such file or directory/);
});

test('bootstrap: deterministic for a seed, rank counts sum to the resamples, tau within [-1, 1]', () => {
  const rows = readResultsCsv([HAND]);
  const a = rankResults(rows, { ...opts, bootstrap: 300, seed: 11 });
  const b = rankResults(rows, { ...opts, bootstrap: 300, seed: 11 });
  const c = rankResults(rows, { ...opts, bootstrap: 300, seed: 12 });
  assert.deepEqual(a.bootstrap, b.bootstrap);
  assert.notDeepEqual(a.bootstrap?.kendallTau, c.bootstrap?.kendallTau);
  for (const s of a.bootstrap?.losses ?? []) {
    assert.equal(s.rankCounts.reduce((x, y) => x + y, 0), 300);
    assert.ok(s.rankLow <= s.medianRank && s.medianRank <= s.rankHigh);
  }
  for (const t of a.bootstrap?.kendallTau ?? []) assert.ok(Number.isNaN(t) || (t >= -1 && t <= 1));
  assert.deepEqual(Object.keys(a.bootstrap?.kendallTauByTask ?? {}), ['t1', 't2']);
});

test('ranks: ties share the better rank; Kendall tau-b on hand-computed cases', () => {
  assert.deepEqual(ranksFromTotals([3, 5, 5, 1, 3]), [3, 1, 1, 5, 3]);
  assert.equal(kendallTauB([1, 2, 3], [1, 2, 3]), 1);
  assert.equal(kendallTauB([1, 2, 3], [3, 2, 1]), -1);
  // x = [1,1,3], y = [1,2,3]: C = 2, D = 0, n0 = 3, ties in x = 1 -> 2 / sqrt(2 * 3).
  assert.ok(Math.abs(kendallTauB([1, 1, 3], [1, 2, 3]) - 2 / Math.sqrt(6)) < 1e-15);
  assert.ok(Number.isNaN(kendallTauB([1, 1, 1], [1, 2, 3])));
});

test('the fixture generator and its README exist for reproducibility', () => {
  assert.ok(existsSync(path.join(FIXTURES, 'gen_hand_ranking.py')));
  assert.ok(existsSync(path.join(FIXTURES, 'README.md')));
});

test('bootstrap quantiles are R type 7 (numpy percentile default): [1, 2, 3, 4, 10] at 2.5/50/97.5 % = 1.1, 3, 9.4', () => {
  const sorted = [1, 2, 3, 4, 10];
  assert.ok(Math.abs(quantile(sorted, 0.025) - 1.1) < 1e-12);
  assert.equal(quantile(sorted, 0.5), 3);
  assert.ok(Math.abs(quantile(sorted, 0.975) - 9.4) < 1e-12);
  assert.equal(quantile(sorted, 0.25), 2);
  assert.equal(quantile([7], 0.975), 7);
  assert.ok(Number.isNaN(quantile([], 0.5)), 'an empty list (every τ undefined) has no quantile');
});
