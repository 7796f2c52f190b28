import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runSegloss, tempDir } from '../helpers.js';
import { rankResults } from '../../src/rank/ranking.js';
import { isRising } from '../../src/rank/warnings.js';
import { summariseProvenance } from '../../src/rank/provenance.js';
import { leaderboardJson, renderLeaderboardMarkdown } from '../../src/rank/leaderboard.js';
import { writeProvenanceFile, type ProvenanceEntry } from '../../src/util/provenance.js';
import { InputError } from '../../src/util/errors.js';
import type { RankWarning, ResultRow } from '../../src/rank/types.js';

/** Losses A, B on task t with n cases, B better by 0.1 + 0.01 i on case i (distinct), seeds as given. */
function rows(n: number, seeds: number[] = [1]): ResultRow[] {
  const out: ResultRow[] = [];
  for (const seed of seeds) {
    for (let i = 0; i < n; i++) {
      out.push({ task: 't', loss: 'A', case: `c${i}`, metric: 'dsc', value: 0.5, seed, fold: 0 });
      out.push({ task: 't', loss: 'B', case: `c${i}`, metric: 'dsc', value: 0.6 + 0.01 * i, seed, fold: 0 });
    }
  }
  return out;
}
const opts = { metrics: ['dsc'], alpha: 0.05, bootstrap: 0, seed: 1 };
const codes = (w: RankWarning[]) => w.map((x) => `${x.code}${x.loss ? `:${x.loss}` : ''}`).sort();

const FLAT = [0.5, 0.6, 0.7, 0.75, 0.78, 0.79, 0.8, 0.8, 0.8, 0.8].map((v, i) => ({ epoch: i + 1, valDice: v }));
const RISING = [0.5, 0.55, 0.6, 0.62, 0.64, 0.66, 0.68, 0.7, 0.72, 0.75].map((v, i) => ({ epoch: i + 1, valDice: v }));

function entry(over: Partial<ProvenanceEntry>): ProvenanceEntry {
  return {
    task: 't',
    loss: 'A',
    seed: 1,
    fold: 0,
    learningRate: 0.01,
    lrScores: [
      { learningRate: 0.1, score: 0.5 },
      { learningRate: 0.01, score: 0.7 },
      { learningRate: 0.001, score: 0.6 },
    ],
    steps: 1000,
    budgetSteps: 1000,
    epochs: 10,
    stopReason: 'budget',
    checkpoint: { kind: 'best', epoch: 8 },
    seconds: 60,
    valCurve: FLAT,
    ...over,
  };
}
const healthy = () => [entry({}), entry({ loss: 'B' })];

test('too-few-cases: 2/2^n >= alpha warns and names no top loss; 6 cases (or a larger alpha) do not', () => {
  const five = rankResults(rows(5), opts);
  assert.deepEqual(codes(five.warnings), ['single-replicate', 'too-few-cases']);
  assert.equal(five.warnings.find((w) => w.code === 'too-few-cases')?.task, 't');
  assert.match(five.warnings.find((w) => w.code === 'too-few-cases')?.message ?? '', /5 test case\(s\): the smallest two-sided Wilcoxon p is 2\/2\^5 = 0\.0625/);
  assert.deepEqual(five.topLoss, { t: null });
  const six = rankResults(rows(6), opts);
  assert.deepEqual(codes(six.warnings), ['single-replicate']);
  assert.deepEqual(six.topLoss, { t: 'B' });
  // alpha 0.1: 2/2^5 = 0.0625 < 0.1, so five cases can reach significance.
  const fiveLoose = rankResults(rows(5), { ...opts, alpha: 0.1 });
  assert.deepEqual(codes(fiveLoose.warnings), ['single-replicate']);
  assert.deepEqual(fiveLoose.topLoss, { t: 'B' });
  // A tie for first names no top loss either (no loss beats another with identical values).
  const tie = rankResults(rows(6).map((r) => ({ ...r, value: 0.5 })), opts);
  assert.deepEqual(tie.topLoss, { t: null });
});

test('single-replicate: one network per loss warns; two seeds do not; the banner heads leaderboard.md', () => {
  const one = rankResults(rows(6), opts);
  assert.equal(one.warnings[0]?.code, 'single-replicate');
  assert.equal(one.warnings[0]?.task, 't');
  const md = renderLeaderboardMarkdown(one);
  assert.match(md, /^# Leaderboard\n\n> \*\*Warnings\*\*\n>\n> - `single-replicate`: one trained network per loss on task t/);
  const two = rankResults(rows(6, [1, 2]), opts);
  assert.deepEqual(two.warnings, []);
  assert.doesNotMatch(renderLeaderboardMarkdown(two), /Warnings/);
});

test('under-trained: steps below 20 % of the budget, or a validation curve still rising at its end', () => {
  const base = rows(6, [1]);
  const check = (a: Partial<ProvenanceEntry>) => codes(rankResults(base, { ...opts, provenance: [entry(a), entry({ loss: 'B' })] }).warnings);
  assert.deepEqual(check({}), ['single-replicate']);
  // 199 < 0.2 · 1000 warns; 200 does not. (Steps equal budget-scaled for B would trip unequal-compute, so B has the same.)
  const short = (steps: number) => codes(rankResults(base, { ...opts, provenance: [entry({ steps }), entry({ loss: 'B', steps })] }).warnings);
  assert.deepEqual(short(199), ['single-replicate', 'under-trained:A', 'under-trained:B']);
  assert.deepEqual(short(200), ['single-replicate']);
  assert.deepEqual(check({ valCurve: RISING }), ['single-replicate', 'under-trained:A']);
  const msg = rankResults(base, { ...opts, provenance: [entry({ valCurve: RISING }), entry({ loss: 'B' })] }).warnings.find((w) => w.code === 'under-trained')?.message;
  assert.equal(msg, 'A on t: its validation score was still rising at the end (seed 1 fold 0)');
});

test('under-trained: a capped run that finished its own budget but trained < 20 % of what its profile plans', () => {
  const base = rows(6, [1]);
  // Both losses capped alike (no unequal-compute): 1000 of their own 1000 steps, of a profile's 5000 or 5010.
  const capped = (profileSteps: number) => rankResults(base, { ...opts, provenance: [entry({ profileSteps }), entry({ loss: 'B', profileSteps })] }).warnings;
  assert.deepEqual(codes(capped(5000)), ['single-replicate']); // 1000 = 20 % of 5000: not below
  const at = capped(5010);
  assert.deepEqual(codes(at), ['single-replicate', 'under-trained:A', 'under-trained:B']);
  assert.equal(at.find((w) => w.code === 'under-trained')?.message, 'A on t: trained 1000 of the 5010 steps its training profile plans (19.96 % < 20 %)');
  // A profile unknown for one replicate: no profile judgement (the summary has profileSteps null).
  const mixed = summariseProvenance([entry({ profileSteps: 9000 }), entry({ seed: 2 })], ['t'], ['A']);
  assert.equal(mixed[0]?.profileSteps, null);
  assert.equal(summariseProvenance([entry({ profileSteps: 9000 }), entry({ seed: 2, profileSteps: 8000 })], ['t'], ['A'])[0]?.profileSteps, 9000);
});

test('isRising: best of the last ⌈20 %⌉ epochs above the earlier best by more than 0.01', () => {
  assert.equal(isRising(RISING), true); // last 2: 0.75 > 0.70 + 0.01
  assert.equal(isRising(FLAT), false); // last 2: 0.8, earlier best 0.8
  const marginal = RISING.map((p) => ({ ...p, valDice: p.epoch === 10 ? 0.705 : p.epoch === 9 ? 0.7 : p.valDice }));
  assert.equal(isRising(marginal), false); // 0.705 ≤ 0.71
  assert.equal(isRising([{ epoch: 1, valDice: 0.1 }, { epoch: 2, valDice: 0.3 }]), true); // k = 1: 0.3 > 0.1 + 0.01
  assert.equal(isRising([{ epoch: 1, valDice: 0.3 }]), false);
  assert.equal(isRising([{ epoch: 1, valDice: 0.1 }, { epoch: 2, valDice: null }]), false); // one scored epoch
});

test('unequal-compute: largest / smallest steps within a task >= 1.5 warns', () => {
  const base = rows(6);
  const run = (bSteps: number) => rankResults(base, { ...opts, provenance: [entry({ steps: 1000 }), entry({ loss: 'B', steps: bSteps, budgetSteps: 2000 })] }).warnings;
  const at = run(1500);
  assert.deepEqual(codes(at), ['single-replicate', 'unequal-compute']);
  assert.equal(at.find((w) => w.code === 'unequal-compute')?.message, 'on t B trained 1500 steps and A 1000 (ratio 1.5 ≥ 1.5): the comparison mixes training budgets');
  assert.deepEqual(codes(run(1499)), ['single-replicate']);
});

test('lr-at-grid-edge: the chosen rate is the largest or smallest of >= 2 searched', () => {
  const base = rows(6);
  const run = (a: Partial<ProvenanceEntry>) => codes(rankResults(base, { ...opts, provenance: [entry(a), entry({ loss: 'B' })] }).warnings);
  assert.deepEqual(run({ learningRate: 0.1 }), ['lr-at-grid-edge:A', 'single-replicate']);
  assert.deepEqual(run({ learningRate: 0.001 }), ['lr-at-grid-edge:A', 'single-replicate']);
  assert.deepEqual(run({ learningRate: 0.01 }), ['single-replicate']);
  assert.deepEqual(run({ learningRate: 0.1, lrScores: [{ learningRate: 0.1, score: 0.4 }] }), ['single-replicate']);
});

test('provenance summary over replicates: max steps, summed seconds, mean score per rate, one learning rate required', () => {
  const entries = [
    entry({ seed: 2, steps: 1200, seconds: 30, stopReason: 'early-stop', checkpoint: { kind: 'best', epoch: 9 }, lrScores: [{ learningRate: 0.01, score: 0.6 }, { learningRate: 0.1, score: null }] }),
    entry({ seed: 1, steps: 1000, seconds: 60 }),
    entry({ seed: 1, steps: 5, seconds: 1 }), // the same replicate again: the first one read counts
    entry({ task: 'other' }), // not a ranked task: ignored
  ];
  const [s, ...rest] = summariseProvenance(entries, ['t'], ['A', 'B']);
  assert.equal(rest.length, 0);
  assert.deepEqual(s, {
    task: 't',
    loss: 'A',
    steps: 1200,
    budgetSteps: 1000,
    profileSteps: null,
    epochs: 10,
    stopReason: 'budget, early-stop',
    learningRate: 0.01,
    // 0.001: 0.6 (seed 1 only); 0.01: (0.7 + 0.6) / 2; 0.1: 0.5 (seed 2 failed: null left out).
    lrScores: [{ learningRate: 0.001, score: 0.6 }, { learningRate: 0.01, score: (0.7 + 0.6) / 2 }, { learningRate: 0.1, score: 0.5 }],
    replicates: [{ seed: 1, fold: 0 }, { seed: 2, fold: 0 }],
    checkpoint: { kind: 'best', epoch: null },
    seconds: 90,
    valCurves: [{ seed: 1, fold: 0, points: FLAT }, { seed: 2, fold: 0, points: FLAT }],
  });
  assert.throws(
    () => summariseProvenance([entry({}), entry({ seed: 2, learningRate: 0.1 })], ['t'], ['A']),
    (e: unknown) => e instanceof InputError && /provenance of task 't', loss 'A': its replicates were tested at different learning rates \(seed 1 fold 0: 0\.01; seed 2 fold 0: 0\.1\)/.test(e.message),
  );
});

test('leaderboard.json: provenance unknown without provenance.json, the list with it', () => {
  const plain = leaderboardJson(rankResults(rows(6), opts)) as { provenance: unknown; warnings: RankWarning[] };
  assert.deepEqual(plain.provenance, { unknown: true, reason: 'results came from CSV files without provenance.json' });
  assert.equal(plain.warnings[0]?.code, 'single-replicate');
  const elsewhere = leaderboardJson(rankResults(rows(6), { ...opts, provenance: [entry({ task: 'other' })] })) as { provenance: unknown };
  assert.deepEqual(elsewhere.provenance, { unknown: true, reason: 'results came from CSV files without provenance.json' });
  const known = leaderboardJson(rankResults(rows(6), { ...opts, provenance: healthy() })) as { provenance: { loss: string; steps: number }[] };
  assert.deepEqual(known.provenance.map((p) => [p.loss, p.steps]), [['A', 1000], ['B', 1000]]);
});

test('segloss rank reads provenance.json beside results.csv and prints the warnings on stderr', () => {
  const dir = tempDir('segloss-rank-prov-');
  const evalDir = path.join(dir, 'runs', 'eval');
  mkdirSync(evalDir, { recursive: true });
  const csv = ['task,loss,case,metric,value,seed,fold', ...rows(6).map((r) => `${r.task},${r.loss},${r.case},${r.metric},${r.value},${r.seed},${r.fold}`)];
  writeFileSync(path.join(evalDir, 'results.csv'), csv.join('\n') + '\n');
  writeProvenanceFile(evalDir, [entry({ learningRate: 0.1 }), entry({ loss: 'B', steps: 2000, budgetSteps: 2000 })]);
  const out = path.join(dir, 'out');
  const r = runSegloss(['rank', '--results', path.join(dir, 'runs'), '--out', out, '--bootstrap', '0', '--metrics', 'dsc']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: \[single-replicate\]/);
  assert.match(r.stderr, /warning: \[unequal-compute\] on t B trained 2000 steps and A 1000/);
  assert.match(r.stderr, /warning: \[lr-at-grid-edge\] A on t: the chosen learning rate 0\.1 is the largest of the 3 searched/);
  const json = JSON.parse(readFileSync(path.join(out, 'leaderboard.json'), 'utf8')) as { provenance: { loss: string; learningRate: number }[]; warnings: RankWarning[] };
  assert.deepEqual(json.provenance.map((p) => [p.loss, p.learningRate]), [['A', 0.1], ['B', 0.01]]);
  assert.deepEqual(codes(json.warnings), ['lr-at-grid-edge:A', 'single-replicate', 'unequal-compute']);
  assert.match(readFileSync(path.join(out, 'leaderboard.md'), 'utf8'), /^# Leaderboard\n\n> \*\*Warnings\*\*/);
});
