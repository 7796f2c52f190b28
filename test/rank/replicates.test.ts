import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers.js';
import { parseResultsCsv, readResultsCsv } from '../../src/rank/results.js';
import { rankResults } from '../../src/rank/ranking.js';
import { effectsCsv, replicateRanksCsv } from '../../src/rank/outputs.js';
import { leaderboardJson, renderLeaderboardMarkdown, renderLeaderboardText } from '../../src/rank/leaderboard.js';
import { InputError } from '../../src/util/errors.js';
import type { ResultRow } from '../../src/rank/types.js';

const HAND = path.join(REPO_ROOT, 'test', 'fixtures', 'rank', 'hand-ranking.csv');
const close = (got: number | undefined, want: number, what: string) => assert.ok(Math.abs((got as number) - want) < 1e-12, `${what}: ${got} != ${want}`);

function expectInputError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

/**
 * Two losses × six cases × two replicates (seed 1 and 2, fold 0), DSC only:
 *   seed 1: A_i = 0.50 + 0.01 i, B_i = A_i + (0.10 + 0.01 i)   → B wins every case
 *   seed 2: A_i = 0.80 + 0.01 i, B_i = A_i − (0.010 + 0.005 i) → A wins every case
 * Replicate means: B_i − A_i = ((0.10 + 0.01 i) − (0.010 + 0.005 i)) / 2 = 0.045 + 0.0025 i > 0,
 * distinct in magnitude, so B wins all six cases: exact two-sided p = 2/2^6 = 0.03125 < 0.05.
 */
function twoSeedRows(): ResultRow[] {
  const rows: ResultRow[] = [];
  for (let i = 0; i < 6; i++) {
    const c = `c${i + 1}`;
    const a1 = 0.5 + 0.01 * i;
    const a2 = 0.8 + 0.01 * i;
    rows.push({ task: 't', loss: 'A', case: c, metric: 'dsc', value: a1, seed: 1, fold: 0 });
    rows.push({ task: 't', loss: 'B', case: c, metric: 'dsc', value: a1 + (0.1 + 0.01 * i), seed: 1, fold: 0 });
    rows.push({ task: 't', loss: 'A', case: c, metric: 'dsc', value: a2, seed: 2, fold: 0 });
    rows.push({ task: 't', loss: 'B', case: c, metric: 'dsc', value: a2 - (0.01 + 0.005 * i), seed: 2, fold: 0 });
  }
  return rows;
}
const dscOnly = { metrics: ['dsc'], alpha: 0.05, bootstrap: 0, seed: 5 };

test('replicates: the ranked value is the mean over replicates per case; the rule is applied to the means', () => {
  const r = rankResults(twoSeedRows(), dscOnly);
  assert.deepEqual(r.replicates, { t: [{ seed: 1, fold: 0 }, { seed: 2, fold: 0 }] });
  const table = r.tables[0];
  for (let i = 0; i < 6; i++) {
    close(table?.values[0]?.[i], (0.5 + 0.01 * i + (0.8 + 0.01 * i)) / 2, `A c${i + 1}`);
    close((table?.values[1]?.[i] as number) - (table?.values[0]?.[i] as number), 0.045 + 0.0025 * i, `B - A c${i + 1}`);
  }
  assert.equal(r.comparisons[0]?.pvalues[0]?.[1], 2 / 64);
  assert.deepEqual(r.leaderboard.map((e) => [e.rank, e.loss, e.rankScore]), [[1, 'B', 1], [2, 'A', 0]]);
  assert.deepEqual(r.topLoss, { t: 'B' });
});

test('replicate ranks: the rule on each replicate alone, summarised per loss; replicate_ranks.csv', () => {
  const r = rankResults(twoSeedRows(), dscOnly);
  assert.equal(replicateRanksCsv(r), 'seed,fold,loss,rank_score,rank\n1,0,B,1,1\n1,0,A,0,2\n2,0,A,1,1\n2,0,B,0,2\n');
  for (const loss of ['A', 'B']) {
    assert.deepEqual(r.leaderboard.find((e) => e.loss === loss)?.replicateRank, { median: 1.5, min: 1, max: 2, shareFirst: 0.5, count: 2 });
  }
  assert.match(renderLeaderboardMarkdown(r), /\| B \| 1 \| 1\.5 \| \[1, 2\] \| 50% \| 2 \|/);
  assert.match(renderLeaderboardText(r), /1\.5 \[1–2\], first in 50%/);
  const json = leaderboardJson(r) as { leaderboard: { loss: string; replicateRank: unknown }[]; replicateRanks: unknown[] };
  assert.deepEqual(json.leaderboard[0]?.replicateRank, { median: 1.5, min: 1, max: 2, shareFirst: 0.5, count: 2 });
  assert.equal(json.replicateRanks.length, 4);
});

test('replicate ranks cover the tasks that have the replicate; three replicates give a median and share', () => {
  const rows = twoSeedRows();
  // seed 3 = seed 1 again: B wins it too → B ranks 1, 1, 2 (median 1, share 2/3); A 2, 2, 1.
  for (const r of rows.filter((x) => x.seed === 1)) rows.push({ ...r, seed: 3 });
  const r = rankResults(rows, dscOnly);
  assert.deepEqual(r.leaderboard.find((e) => e.loss === 'B')?.replicateRank, { median: 1, min: 1, max: 2, shareFirst: 2 / 3, count: 3 });
  assert.deepEqual(r.leaderboard.find((e) => e.loss === 'A')?.replicateRank, { median: 2, min: 1, max: 2, shareFirst: 1 / 3, count: 3 });
});

test('replicate mean rule with the N/A policy per replicate: NaN DSC counts 0, inf HD95 counts max finite + 1 mm (over all replicates)', () => {
  const csv = [
    'task,loss,case,metric,value,seed,fold',
    't,A,c1,dsc,nan,1,0',
    't,A,c1,dsc,0.6,2,0',
    't,B,c1,dsc,0.5,1,0',
    't,B,c1,dsc,0.7,2,0',
    't,A,c1,hd95,inf,1,0',
    't,A,c1,hd95,4,2,0',
    't,B,c1,hd95,2,1,0',
    't,B,c1,hd95,9,2,0',
  ].join('\n');
  const r = rankResults(parseResultsCsv(csv, 'rep.csv'), dscOnly);
  const dsc = r.tables.find((t) => t.metric === 'dsc');
  // A: (0 + 0.6) / 2 = 0.3; B: (0.5 + 0.7) / 2 = 0.6.
  assert.deepEqual(dsc?.values, [[0.3], [(0.5 + 0.7) / 2]]);
  assert.deepEqual(dsc?.replicateValues, [[[0], [0.6]], [[0.5], [0.7]]]);
  assert.deepEqual(dsc?.naCounts, [1, 0]);
  const hd = r.tables.find((t) => t.metric === 'hd95');
  // Largest finite HD95 over losses, cases and replicates = 9, so inf counts 10: A = (10 + 4) / 2 = 7, B = (2 + 9) / 2 = 5.5.
  assert.equal(hd?.substitute, 10);
  assert.deepEqual(hd?.values, [[7], [5.5]]);
});

test('one replicate: seed/fold columns change nothing (tables, leaderboard, bootstrap with the same seed)', () => {
  const text = readFileSync(HAND, 'utf8').trim().split(/\r?\n/);
  const withColumns = [`${text[0]},seed,fold`, ...text.slice(1).map((l) => `${l},42,0`)].join('\n');
  const options = { metrics: ['dsc', 'nsd'], alpha: 0.05, bootstrap: 200, seed: 9 };
  const plain = rankResults(readResultsCsv([HAND]), options);
  const seeded = rankResults(parseResultsCsv(withColumns, 'seeded.csv'), options);
  assert.deepEqual(seeded.replicates, { t1: [{ seed: 42, fold: 0 }], t2: [{ seed: 42, fold: 0 }] });
  assert.deepEqual(plain.replicates, { t1: [{ seed: null, fold: null }], t2: [{ seed: null, fold: null }] });
  assert.deepEqual(seeded.tables, plain.tables);
  assert.deepEqual(seeded.leaderboard, plain.leaderboard);
  assert.deepEqual(seeded.bootstrap, plain.bootstrap);
  assert.deepEqual(seeded.effects, plain.effects);
  assert.deepEqual(seeded.replicateRanks, []);
  assert.equal(renderLeaderboardMarkdown(seeded), renderLeaderboardMarkdown(plain));
});

test('replicate sets: a loss missing a replicate, a case missing in one replicate and exact duplicates are refused', () => {
  const rows = twoSeedRows().filter((r) => !(r.loss === 'B' && r.seed === 2));
  expectInputError(() => rankResults(rows, dscOnly), /task 't': loss 'B' has no rows for replicate\(s\) seed 2, fold 0/);
  const holes = twoSeedRows().filter((r) => !(r.loss === 'A' && r.seed === 2 && r.case === 'c4'));
  expectInputError(() => rankResults(holes, dscOnly), /task 't', metric dsc: loss 'A', case c4 has no row for replicate\(s\) seed 2, fold 0/);
  const dup = parseResultsCsv('task,loss,case,metric,value,seed,fold\nt,A,c1,dsc,0.5,1,0\nt,A,c1,dsc,0.6,2,0\nt,A,c1,dsc,0.7,1,0\n', 'd.csv');
  expectInputError(() => rankResults(dup, dscOnly), /^d\.csv:4: duplicate row task=t loss=A case=c1 metric=dsc seed=1 fold=0 \(first at d\.csv:2\)/);
  expectInputError(() => parseResultsCsv('task,loss,case,metric,value,seed\nt,A,c1,dsc,0.5,1.5\n', 'f.csv'), /^f\.csv: line 2: seed '1\.5' is not an integer/);
});

test('bootstrap with replicates resamples the replicates too: B loses in resamples that draw seed 2 only', () => {
  const rows = twoSeedRows();
  const options = { ...dscOnly, bootstrap: 200, seed: 3 };
  const two = rankResults(rows, options);
  // The same replicate means as a single-replicate input: a case-only bootstrap never makes A
  // significantly better than B (B − A > 0 on every case), so B never ranks 2.
  const means = two.tables[0] as { cases: string[]; values: number[][] };
  const single: ResultRow[] = [];
  means.cases.forEach((c, i) => ['A', 'B'].forEach((loss, l) => single.push({ task: 't', loss, case: c, metric: 'dsc', value: means.values[l]?.[i] as number })));
  const caseOnly = rankResults(single, options);
  assert.equal(caseOnly.bootstrap?.losses.find((s) => s.loss === 'B')?.rankCounts[1], 0);
  // Drawing seed 2 twice (probability 1/4) gives A the win on every case it draws.
  const bRank2 = two.bootstrap?.losses.find((s) => s.loss === 'B')?.rankCounts[1] as number;
  assert.ok(bRank2 > 10 && bRank2 < 100, `B ranked 2 in ${bRank2} of 200 resamples`);
  assert.deepEqual(rankResults(rows, options).bootstrap, two.bootstrap, 'deterministic for a seed');
});

test('effects.csv: mean over cases of a − b on the ranked values, its bootstrap interval and the Wilcoxon p', () => {
  const r = rankResults(twoSeedRows(), { ...dscOnly, bootstrap: 300 });
  const ba = r.effects.find((e) => e.lossA === 'B' && e.lossB === 'A');
  const ab = r.effects.find((e) => e.lossA === 'A' && e.lossB === 'B');
  // mean of 0.045 + 0.0025 i over i = 0..5 = 0.045 + 0.0025 · 2.5 = 0.05125.
  close(ba?.meanDiff, 0.05125, 'mean diff B − A');
  close(ab?.meanDiff, -0.05125, 'mean diff A − B');
  assert.equal(ba?.pValue, 2 / 64);
  assert.equal(ba?.significant, true);
  assert.equal(ba?.nCases, 6);
  assert.equal(r.effects.length, 2);
  // Resampling the replicates: seed 2 alone gives B − A = −(0.010 + 0.005 i) < 0, so the interval reaches below 0.
  assert.ok((ba?.ciLow as number) < 0 && (ba?.ciHigh as number) > 0.05125, `[${ba?.ciLow}, ${ba?.ciHigh}]`);
  close(ab?.ciLow, -(ba?.ciHigh as number), 'mirrored interval');
  assert.match(effectsCsv(r), /^task,metric,loss_a,loss_b,n_cases,mean_diff,ci_low,ci_high,p_value,significant\nt,dsc,A,B,6,-0\.0512\d*,[^,]+,[^,]+,0\.03125,true\n/);
});

test('effects: a constant difference has a degenerate interval; without bootstrap the interval is nan', () => {
  const rows: ResultRow[] = [];
  for (let i = 0; i < 5; i++) {
    rows.push({ task: 't', loss: 'A', case: `c${i}`, metric: 'dsc', value: 0.25 + 0.1 * i });
    rows.push({ task: 't', loss: 'B', case: `c${i}`, metric: 'dsc', value: 0.5 + 0.1 * i });
  }
  const r = rankResults(rows, { ...dscOnly, bootstrap: 100 });
  const ba = r.effects.find((e) => e.lossA === 'B');
  close(ba?.meanDiff, 0.25, 'mean');
  close(ba?.ciLow, 0.25, 'low');
  close(ba?.ciHigh, 0.25, 'high');
  // p is the ranking's own Wilcoxon p of the pair (all |d| tied: normal approximation, 0.0339 < 0.05).
  assert.equal(ba?.pValue, r.comparisons[0]?.pvalues[1]?.[0]);
  assert.equal(ba?.significant, (ba?.pValue as number) < 0.05);
  const none = rankResults(rows, dscOnly).effects[0];
  assert.ok(Number.isNaN(none?.ciLow) && Number.isNaN(none?.ciHigh));
});
