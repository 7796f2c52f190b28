/**
 * Replicates in the grid (seeds × folds): cells, --only, the learning-rate choice over replicates
 * and what prediction follows, provenance, paper.yaml's fine-tuning rates and protocol keys.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseBenchmarkConfig } from '../../src/study/config.js';
import { planGrid, type Cell, type GridOptions, type GridPaths } from '../../src/study/grid.js';
import { cellState } from '../../src/study/state.js';
import { planBenchmark } from '../../src/study/plan.js';
import { chooseRate, computeLrChoice, meanReplicateScore, writeLrChoice, readLrChoice } from '../../src/study/lr-choice.js';
import { testProvenanceEntry } from '../../src/study/provenance.js';
import { writeRunStatus } from '../../src/util/run-status.js';
import { lrChoiceFile, resolveRunDirectory, runDirectory, pretrainDirectory, RUN_FILES } from '../../src/util/layout.js';
import { UsageError } from '../../src/util/errors.js';
import { runSegloss, tempDir } from '../helpers.js';

const registries = { validLosses: ['ce', 'dice', 'dicebd', 'dicehd'], validTasks: ['toy-liver', 'liver'] };
const paths: GridPaths = { synth: '/s', preprocessed: '/p', results: '/r' };
const options: GridOptions = {
  seed: 12345,
  isSynthetic: (t) => t.startsWith('toy-'),
  pretrainLossOf: (l) => ({ dicebd: 'dice', dicehd: 'dice' })[l],
  usesFinetuneRates: (l) => l === 'dicebd' || l === 'dicehd',
};

test('grid: every (task, loss, rate, seed, fold) is a cell with its own run directory; tests per replicate wait for every rate and replicate', () => {
  const config = parseBenchmarkConfig('/c/rep.yaml', { tasks: ['toy-liver'], losses: ['ce', 'dice', 'dicebd'], learning_rates: [3e-3, 3e-4], finetune_learning_rates: [1e-5], seeds: [1, 2], folds: [0, 3] }, registries);
  const cells = planGrid(config, paths, options);
  const train = cells.filter((c) => c.kind === 'train');
  // ce, dice: 2 rates × 4 replicates; dicebd: 1 rate × 4 replicates.
  assert.equal(train.length, 2 * 2 * 4 + 4);
  assert.equal(cells.filter((c) => c.kind === 'test').length, 3 * 4);
  assert.equal(cells.length, 1 + 20 + 12 + 1);
  const ce = train.find((c) => c.id === 'train:toy-liver:ce:3e-4:fold-3:seed-2');
  const line = ce?.commands[0]?.join(' ') ?? '';
  assert.ok(line.startsWith('--seed 2 --quiet train --task toy-liver --loss ce --fold 3 '), line);
  assert.ok(line.endsWith('--lr 3e-4'), line);
  const plan = planBenchmark({ config: writeConfig('tasks: [toy-liver]\nlosses: [ce]\nlearning_rates: [3e-3, 3e-4]\nseeds: [1, 2]\nfolds: [0, 3]\n'), seed: 12345, results: '/r', preprocessed: '/p' });
  const dirs = plan.cells.filter((c) => c.kind === 'train').map((c) => plan.layout.runDirs(c)[0]);
  assert.equal(new Set(dirs).size, 8);
  assert.ok(dirs.includes(runDirectory('/r', 'toy-liver', 'ce', 3e-4, 3, 2)));
  const testCell = cells.find((c) => c.id === 'test:toy-liver:ce:fold-3:seed-2');
  assert.deepEqual(testCell?.dependsOn, train.filter((c) => c.loss === 'ce').map((c) => c.id));
  assert.equal(testCell?.commands[0]?.join(' '), '--seed 2 --quiet study choose-lr --results /r --task toy-liver --loss ce --rates 3e-3,3e-4 --seeds 1,2 --folds 0,3');
  assert.equal(testCell?.commands[1]?.join(' '), '--seed 2 --quiet predict --run /r/toy-liver/ce --fold 3 --split test --out /r/toy-liver/ce/test/fold-3/seed-2/predictions');
  // Fine-tuning of a replicate waits for every run of the base loss (the rate is chosen over all of them).
  const bd = train.find((c) => c.id === 'train:toy-liver:dicebd:1e-5:fold-0:seed-1');
  assert.equal(bd?.dependsOn.length, 1 + 2 * 4);
  // The rank cell reads one results.csv per (loss, replicate).
  const rank = cells.at(-1)?.commands[0] ?? [];
  assert.equal(rank.slice(rank.indexOf('--results') + 1, rank.indexOf('--out')).length, 12);
  // Preparation uses the global seed: one data set and split for every replicate.
  assert.deepEqual(cells[0]?.commands.map((c) => c.slice(0, 2)), [['--seed', '12345'], ['--seed', '12345']]);
});

test('grid: without seeds one seed, the global --seed; a special schedule gets one pre-training per replicate', () => {
  const config = parseBenchmarkConfig('/c/one.yaml', { tasks: ['toy-liver'], losses: ['dicehd'], folds: [1, 2] }, registries);
  const cells = planGrid(config, paths, options);
  assert.deepEqual(cells.filter((c) => c.kind === 'pretrain').map((c) => c.id), ['pretrain:toy-liver:dice:fold-1:seed-12345', 'pretrain:toy-liver:dice:fold-2:seed-12345']);
  assert.deepEqual(cells.find((c) => c.id === 'train:toy-liver:dicehd:3e-4:fold-2:seed-12345')?.dependsOn, ['prepare:toy-liver', 'pretrain:toy-liver:dice:fold-2:seed-12345']);
});

function writeConfig(text: string): string {
  const dir = tempDir('segloss-rep-config-');
  const file = path.join(dir, 'rep.yaml');
  writeFileSync(file, text);
  return file;
}

test('plan: --seeds/--folds replace the config\'s; --only seed=/fold= restricts them and must name replicates of the grid', () => {
  const file = writeConfig('tasks: [toy-liver]\nlosses: [ce]\nseeds: [1, 2, 3]\nfolds: [0, 1]\n');
  const ids = (flags: Partial<Parameters<typeof planBenchmark>[0]>) =>
    planBenchmark({ config: file, seed: 12345, results: '/r', preprocessed: '/p', ...flags }).cells.filter((c) => c.kind === 'train').map((c) => c.id);
  assert.equal(ids({}).length, 6);
  assert.deepEqual(ids({ seeds: [7], folds: [4] }), ['train:toy-liver:ce:3e-4:fold-4:seed-7']);
  assert.deepEqual(ids({ only: 'seed=2,fold=1' }), ['train:toy-liver:ce:3e-4:fold-1:seed-2']);
  assert.deepEqual(ids({ only: 'seed=1,seed=3,fold=0' }), ['train:toy-liver:ce:3e-4:fold-0:seed-1', 'train:toy-liver:ce:3e-4:fold-0:seed-3']);
  assert.throws(() => ids({ only: 'seed=9' }), (e: unknown) => e instanceof UsageError && e.message === "--only seed=9: the grid's seeds are 1, 2, 3");
  assert.throws(() => ids({ only: 'fold=x' }), /--only: fold=x is not a whole number/);
});

test('the ranking is stale when a test cell\'s results.csv or the provenance.json beside it is newer than the leaderboard', () => {
  const root = tempDir('segloss-rank-stale-');
  const file = writeConfig('tasks: [toy-liver]\nlosses: [ce]\nseeds: [1, 2]\n');
  const plan = planBenchmark({ config: file, seed: 12345, results: path.join(root, 'r'), preprocessed: path.join(root, 'p') });
  const rank = plan.cells.find((c) => c.kind === 'rank') as Cell;
  const inputs = plan.inputsOf(rank);
  const evaluation = (seed: number) => path.join(root, 'r', 'toy-liver', 'ce', 'test', 'fold-0', `seed-${seed}`, 'evaluation');
  assert.deepEqual(inputs, [1, 2].flatMap((seed) => [path.join(evaluation(seed), 'results.csv'), path.join(evaluation(seed), 'provenance.json')]));
  for (const f of inputs) {
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, '');
  }
  const leaderboard = plan.layout.outputFile(rank) as string;
  mkdirSync(path.dirname(leaderboard), { recursive: true });
  writeFileSync(leaderboard, '');
  const past = new Date(Date.now() - 60_000);
  for (const f of inputs) utimesSync(f, past, past);
  const state = () => cellState(rank, plan.paths, plan.layout, plan.inputsOf).state;
  assert.equal(state(), 'done');
  // Re-writing a provenance.json (e.g. `segloss study provenance` after a fix) makes the ranking stale.
  utimesSync(inputs[3] as string, new Date(), new Date(Date.now() + 1000));
  assert.equal(state(), 'pending');
});

test('lr choice: the mean over replicates, failed replicates as 0, ties to the smaller rate', () => {
  assert.equal(meanReplicateScore([0.8, 0.6]), 0.7);
  assert.equal(meanReplicateScore([0.8, null]), 0.4);
  assert.equal(meanReplicateScore([null, null]), null);
  // 3e-3 wins one replicate (0.9 vs 0.7) but loses on the mean: 0.5 against 0.65.
  assert.equal(chooseRate([{ learningRate: 3e-3, meanScore: 0.5 }, { learningRate: 3e-4, meanScore: 0.65 }]), 3e-4);
  assert.equal(chooseRate([{ learningRate: 3e-3, meanScore: 0.6 }, { learningRate: 3e-4, meanScore: 0.6 }]), 3e-4);
  assert.equal(chooseRate([{ learningRate: 3e-3, meanScore: null }]), null);
});

/** A finished (or failed) run with a status.json, config.json and log.jsonl as training writes them. */
function fakeRun(runDir: string, status: Record<string, unknown>, config: Record<string, unknown> = {}, log: Record<string, unknown>[] = []): void {
  mkdirSync(runDir, { recursive: true });
  writeRunStatus(runDir, status as never);
  writeFileSync(path.join(runDir, RUN_FILES.config), JSON.stringify(config));
  writeFileSync(path.join(runDir, RUN_FILES.log), log.map((e) => JSON.stringify(e)).join('\n') + (log.length > 0 ? '\n' : ''));
}

test('lr choice over replicates is written with every score, and predict/--pretrained follow it for every replicate', () => {
  const results = tempDir('segloss-lr-choice-');
  // Binary fractions, so that the means are exact.
  const scores: Record<string, [number | null, number | null]> = { '3e-3': [0.9375, 0.0625], '3e-4': [0.875, 0.625] };
  for (const [rate, [s1, s2]] of Object.entries(scores)) {
    for (const [seed, score] of [[1, s1], [2, s2]] as const) {
      const dir = runDirectory(results, 'toy-liver', 'dice', Number(rate), 0, seed);
      fakeRun(dir, score === null ? { state: 'failed', reason: 'NaN' } : { state: 'done', bestValDice: score }, { identity: { loss: 'dice' } });
    }
  }
  const choice = computeLrChoice(results, 'toy-liver', 'dice', [3e-3, 3e-4], [{ seed: 1, fold: 0 }, { seed: 2, fold: 0 }]);
  const file = writeLrChoice(results, choice);
  assert.equal(file, lrChoiceFile(results, 'toy-liver', 'dice'));
  assert.equal(file, path.join(results, 'toy-liver', 'dice', 'lr-choice.json'));
  assert.equal(choice.chosen, 3e-4);
  assert.deepEqual(choice.rates.map((r) => [r.learningRate, r.meanScore]), [[3e-3, 0.5], [3e-4, 0.75]]);
  assert.deepEqual(readLrChoice(results, 'toy-liver', 'dice')?.rates[0]?.scores, [
    { seed: 1, fold: 0, score: 0.9375, state: 'done' },
    { seed: 2, fold: 0, score: 0.0625, state: 'done' },
  ]);
  // Seed 1 alone would pick 3e-3 (0.9375); the choice over replicates makes both replicates use 3e-4.
  const lossDir = path.join(results, 'toy-liver', 'dice');
  assert.equal(resolveRunDirectory(lossDir, 0, 1), runDirectory(results, 'toy-liver', 'dice', 3e-4, 0, 1));
  assert.equal(resolveRunDirectory(lossDir, 0, 2), runDirectory(results, 'toy-liver', 'dice', 3e-4, 0, 2));
  // A replicate the choice does not cover keeps its own best rate.
  fakeRun(runDirectory(results, 'toy-liver', 'dice', 3e-3, 0, 3), { state: 'done', bestValDice: 0.5 });
  assert.equal(resolveRunDirectory(lossDir, 0, 3), runDirectory(results, 'toy-liver', 'dice', 3e-3, 0, 3));
  // The chosen rate's run of a replicate failed: prediction is refused (evaluation then scores N/A).
  writeRunStatus(runDirectory(results, 'toy-liver', 'dice', 3e-4, 0, 2), { state: 'failed', reason: 'NaN' });
  assert.throws(() => resolveRunDirectory(lossDir, 0, 2), /chosen learning rate's run of fold 0, seed 2 is failed/);
});

test('provenance: steps, budget, epochs, stop reason, checkpoint epoch, seconds and curve from the run files, the pre-training added', () => {
  const results = tempDir('segloss-provenance-');
  const pre = pretrainDirectory(results, 'toy-liver', 'dice', 1, 5);
  // config.json as training writes it (the identity the shared builder, src/eval/provenance.ts, requires).
  const identity = (loss: string, learningRate: number) => ({ task: 'toy-liver', loss, seed: 5, fold: 1, learningRate, iterations: 10 });
  fakeRun(pre, { state: 'done', epoch: 4, seconds: 40 }, { identity: identity('dice', 3e-4), epochs: 4 });
  const run = runDirectory(results, 'toy-liver', 'dicebd', 1e-5, 1, 5);
  const log = [
    { epoch: 0, valDice: 0.5, newBest: true },
    { epoch: 1, valDice: 0.7, newBest: true },
    { epoch: 2, valDice: null, newBest: false },
  ];
  // Stopped after 3 of 8 planned epochs: an older status file without stopReason or steps.
  fakeRun(run, { state: 'done', epoch: 3, seconds: 33, bestValDice: 0.7 }, { identity: { ...identity('dicebd', 1e-5), pretrainFrom: path.join(pre, RUN_FILES.best) }, epochs: 8 }, log);
  fakeRun(runDirectory(results, 'toy-liver', 'dicebd', 1e-6, 1, 5), { state: 'failed', reason: 'NaN' });
  const choice = computeLrChoice(results, 'toy-liver', 'dicebd', [1e-5, 1e-6], [{ seed: 5, fold: 1 }]);
  const entry = testProvenanceEntry(results, choice, { seed: 5, fold: 1 });
  assert.deepEqual(entry, {
    task: 'toy-liver',
    loss: 'dicebd',
    seed: 5,
    fold: 1,
    learningRate: 1e-5,
    lrScores: [{ learningRate: 1e-5, score: 0.7 }, { learningRate: 1e-6, score: null }],
    steps: 3 * 10 + 4 * 10,
    budgetSteps: 8 * 10 + 4 * 10,
    epochs: 3,
    stopReason: 'early-stop',
    checkpoint: { kind: 'best', epoch: 1 },
    seconds: 73,
    valCurve: [{ epoch: 0, valDice: 0.5 }, { epoch: 1, valDice: 0.7 }, { epoch: 2, valDice: null }],
    pretrain: { loss: 'dice', steps: 40, seconds: 40 },
  });
  // Newer status fields win over what is derived; the final checkpoint is the last logged epoch.
  writeRunStatus(run, { state: 'done', epoch: 3, seconds: 33, bestValDice: 0.7, steps: 31, budgetSteps: 80, stopReason: 'lr-floor', bestEpoch: 1 } as never);
  const final = testProvenanceEntry(results, choice, { seed: 5, fold: 1 }, 'final');
  assert.deepEqual([final?.steps, final?.budgetSteps, final?.stopReason, final?.checkpoint], [71, 120, 'lr-floor', { kind: 'final', epoch: 2 }]);
});

test('configs/paper.yaml: `--emit jsonl` lists DiceBD and DiceHD fine-tuning at exactly footnote 7\'s rates, with selection paper and checkpoint final', () => {
  const dir = tempDir('segloss-paper-jsonl-');
  const out = path.join(dir, 'cells.jsonl');
  const r = runSegloss(['benchmark', '--config', 'paper', '--emit', 'jsonl', '--out', out, '--results', path.join(dir, 'results')], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  const cells = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; task: string; loss: string; learning_rate: number; selection: string | null; checkpoint: string | null });
  for (const task of ['liver', 'livertumor', 'pancreas', 'multiorgan']) {
    for (const loss of ['dicebd', 'dicehd']) {
      const rates = cells.filter((c) => c.kind === 'train' && c.task === task && c.loss === loss).map((c) => c.learning_rate);
      assert.deepEqual(rates, [3e-4, 3e-5, 3e-6, 1e-5, 1e-6], `${task} ${loss}`);
    }
    assert.deepEqual(cells.filter((c) => c.kind === 'train' && c.task === task && c.loss === 'dice').map((c) => c.learning_rate), [3e-3, 3e-4, 3e-5]);
  }
  assert.ok(cells.filter((c) => c.kind === 'train' || c.kind === 'test').every((c) => c.selection === 'paper' && c.checkpoint === 'final'));
});

test('segloss status lists every replicate\'s cells with seed and fold; --only seed= restricts them', () => {
  const dir = tempDir('segloss-status-rep-');
  const file = path.join(dir, 'rep.yaml');
  writeFileSync(file, 'tasks: [toy-liver]\nlosses: [dice]\nlearning_rates: [3e-3, 3e-4]\nseeds: [1, 2]\n');
  const r = runSegloss(['--json', 'status', '--config', file], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  const status = JSON.parse(r.stdout) as { replicates: unknown; counts: Record<string, number>; cells: { id: string; state: string; seed: number | null; fold: number | null }[] };
  assert.deepEqual(status.replicates, [{ seed: 1, fold: 0 }, { seed: 2, fold: 0 }]);
  assert.deepEqual(status.counts, { done: 0, running: 0, failed: 0, pending: 8 });
  assert.deepEqual(status.cells.map((c) => [c.id, c.seed, c.fold]), [
    ['prepare:toy-liver', null, null],
    ['train:toy-liver:dice:3e-3:fold-0:seed-1', 1, 0],
    ['train:toy-liver:dice:3e-3:fold-0:seed-2', 2, 0],
    ['train:toy-liver:dice:3e-4:fold-0:seed-1', 1, 0],
    ['train:toy-liver:dice:3e-4:fold-0:seed-2', 2, 0],
    ['test:toy-liver:dice:fold-0:seed-1', 1, 0],
    ['test:toy-liver:dice:fold-0:seed-2', 2, 0],
    ['rank', null, null],
  ]);
  const only = runSegloss(['status', '--config', file, '--only', 'seed=2'], { cwd: dir });
  assert.equal(only.status, 0, only.stderr);
  assert.ok(!only.stdout.includes('seed-1') && only.stdout.includes('test:toy-liver:dice:fold-0:seed-2'), only.stdout);
  assert.ok(only.stdout.split('\n').every((l) => l.length <= 100), only.stdout);
  const flags = runSegloss(['--json', 'status', '--config', file, '--seeds', '5', '--folds', '1,2'], { cwd: dir });
  assert.deepEqual((JSON.parse(flags.stdout) as { replicates: unknown }).replicates, [{ seed: 5, fold: 1 }, { seed: 5, fold: 2 }]);
});
