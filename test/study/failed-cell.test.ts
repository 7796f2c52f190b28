/**
 * A diverged training stays in the ranking with N/A values, as in the study's Table 3:
 * weighted CE with every class weight 0 is 0/0 = NaN (torch's weighted mean divides by the summed
 * weights of the targets, as the released code does), so its training fails in
 * the first epoch; its test cell then scores every case as an empty prediction.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runSegloss, tempDir } from '../helpers.js';
import { testResultsFile } from '../../src/util/layout.js';
import { DEFAULT_SEED } from '../../src/util/rng.js';

test('a cell whose training diverges is reported failed and ranked with N/A (DSC and NSD 0)', { timeout: 10 * 60_000 }, () => {
  const dir = tempDir('segloss-failed-cell-');
  const config = path.join(dir, 'diverge.yaml');
  writeFileSync(
    config,
    [
      'name: diverge',
      'tasks: [toy-multiorgan]',
      'losses: [dice, wce]',
      'loss_options:',
      '  wce: { class_weights: [0, 0, 0, 0] }',
      'learning_rates: [3e-4]',
      'training: { epochs: 2, iterations: 3, val_batches: 1 }',
      'synth: { cases: 20 }',
      'ranking: { bootstrap: 0 }',
      'jobs: 1',
    ].join('\n') + '\n',
  );
  const r = runSegloss(['benchmark', '--config', config], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  const cell = `train:toy-multiorgan:wce:3e-4:fold-0:seed-${DEFAULT_SEED}`;
  assert.match(r.stderr, new RegExp(`warning: ${cell} failed: .*diverged: training loss is NaN in epoch 0`));
  const status = runSegloss(['--json', 'status', '--config', config], { cwd: dir });
  const cells = (JSON.parse(status.stdout) as { cells: { id: string; state: string; reason?: string; trainingFailed?: boolean }[] }).cells;
  const failed = cells.filter((c) => c.state === 'failed');
  assert.deepEqual(failed.map((c) => c.id), [cell]);
  assert.equal(failed[0]?.reason, 'diverged: training loss is NaN in epoch 0, iteration 0');
  // A result of the study, kept by re-runs; the table says so by not promising a retry.
  assert.equal(failed[0]?.trainingFailed, true);
  const table = runSegloss(['status', '--config', config], { cwd: dir });
  // The table fits 100 columns: the reason is cut there (--json has it whole).
  assert.match(table.stdout, new RegExp(`${cell} +failed .*diverged: training loss is NaN`));
  assert.ok(table.stdout.split('\n').every((l) => l.length <= 100), table.stdout);
  assert.equal(cells.find((c) => c.id === `test:toy-multiorgan:wce:fold-0:seed-${DEFAULT_SEED}`)?.state, 'done');
  // Fold 0, and the default seed: the grid's runs and tests are per (fold, seed).
  const resultsFile = testResultsFile(path.join(dir, 'results', 'diverge'), 'toy-multiorgan', 'wce', 0, DEFAULT_SEED);
  assert.match(resultsFile, /wce\/test\/fold-0\/seed-12345\/evaluation\/results\.csv$/);
  const results = readFileSync(resultsFile, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
  const header = readFileSync(resultsFile, 'utf8').split('\n')[0]?.split(',') ?? [];
  const metric = header.indexOf('metric');
  const value = header.indexOf('value');
  const scored = results.filter((row) => row[metric] === 'dsc' || row[metric] === 'nsd');
  // 2 metrics × 4 test cases (20 % of 20) × 3 organs.
  assert.equal(scored.length, 2 * 4 * 3, `${scored.length} rows`);
  // An empty prediction: DSC and NSD 0 where the organ exists, NaN where it is absent from both.
  assert.ok(scored.every((row) => row[value] === '0' || row[value] === 'nan'), 'every DSC/NSD of the diverged loss is 0 or nan');
  assert.ok(results.filter((row) => row[metric] === 'hd95').some((row) => row[value] === 'inf'));
  const leaderboard = readFileSync(path.join(dir, 'results', 'diverge', 'ranking', 'leaderboard.csv'), 'utf8');
  assert.match(leaderboard, /\nwce,|,wce,/);
  // The rank cell read the tests' provenance.json: dice's from its run (2 epochs × 3 iterations at
  // 3e-4); the diverged wce has none (nothing was tested). The toy task makes it a demonstration.
  const json = JSON.parse(readFileSync(path.join(dir, 'results', 'diverge', 'ranking', 'leaderboard.json'), 'utf8')) as {
    provenance: { task: string; loss: string; steps: number; budgetSteps: number; learningRate: number; lrScores: { learningRate: number }[] }[] | { unknown: true };
    warnings: { code: string; message: string }[];
  };
  assert.ok(Array.isArray(json.provenance), JSON.stringify(json.provenance));
  const dice = json.provenance.find((p) => p.loss === 'dice');
  assert.deepEqual([dice?.task, dice?.steps, dice?.budgetSteps, dice?.learningRate, dice?.lrScores.map((s) => s.learningRate)], ['toy-multiorgan', 6, 6, 3e-4, [3e-4]]);
  assert.deepEqual(json.warnings.filter((w) => w.code === 'synthetic-data').map((w) => w.message), [
    'task toy-multiorgan: synthetic data — a demonstration of the pipeline; these results say nothing about how the losses compare on real images',
  ]);
});
