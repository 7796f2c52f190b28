/**
 * Selection modes (docs/training.md, "Selection"): which cases train and which choose the best
 * epoch and the learning rate — by hand on a 10-case split, and in real runs on toy-liver
 * (20 cases: 4 test, a 5-fold cross-validation of the other 16), where config.json records the
 * case lists the batches were drawn from.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers.js';
import { makeSplits } from '../../src/preprocess/splits.js';
import { loadSplits } from '../../src/preprocess/plans.js';
import { selectionCases, trainRun, type RunConfig } from '../../src/train/trainer.js';
import { shutdownWorkerPool } from '../../src/train/producer.js';
import { preprocessedTaskDirectory, runDirectory, RUN_FILES } from '../../src/util/layout.js';
import { UsageError } from '../../src/util/errors.js';

after(() => shutdownWorkerPool());

const IDS = Array.from({ length: 10 }, (_, i) => `case_${String(i).padStart(2, '0')}`);

test('nested: fold k of the cross-validation of the non-test cases trains and chooses; the test split is never used', () => {
  const splits = makeSplits(IDS);
  assert.equal(splits.test.length, 2);
  assert.equal(splits.folds.length, 5);
  const chosenSomewhere: string[] = [];
  for (let k = 0; k < 5; k++) {
    const { train, choose } = selectionCases(splits, k, 'nested');
    assert.deepEqual(train, splits.folds[k]!.train);
    assert.deepEqual(choose, splits.folds[k]!.val);
    // 8 non-test cases in 5 folds: ⌊8/5⌋ = 1, +1 for the first 8 mod 5 = 3 folds choose; the rest
    // train; nothing of the test split.
    assert.equal(choose.length, k < 3 ? 2 : 1);
    assert.equal(train.length, 8 - choose.length);
    for (const id of [...train, ...choose]) assert.ok(!splits.test.includes(id), id);
    assert.ok(train.every((id) => !choose.includes(id)));
    chosenSomewhere.push(...choose);
  }
  // Every non-test case chooses in exactly one fold.
  assert.deepEqual(chosenSomewhere.sort(), IDS.filter((id) => !splits.test.includes(id)));
  assert.throws(() => selectionCases(splits, 5, 'nested'), /--fold: expected 0 … 4, got 5/);
});

test('paper: every non-test case trains (the 80 %) and the test split chooses (the 20 %), fold 0 only', () => {
  const splits = makeSplits(IDS);
  const { train, choose } = selectionCases(splits, 0, 'paper');
  assert.deepEqual(choose, splits.test);
  assert.deepEqual(train, IDS.filter((id) => !splits.test.includes(id)));
  // Fold 0 of KFold(5) over all cases is the study's 80/20 split: its train list is what trains.
  assert.equal(train.length, 8);
  assert.throws(() => selectionCases(splits, 1, 'paper'), (err: unknown) => err instanceof UsageError && /only fold 0/.test(err.message));
  // Fewer than 5 cases: no test split, nothing to choose on.
  assert.throws(() => selectionCases(makeSplits(IDS.slice(0, 4)), 0, 'paper'), /no test split to choose on/);
});

test('real runs: config.json records the mode, the checkpoint choice and the case lists the batches come from; a run keeps its mode', async () => {
  const root = tempDir('segloss-selection-');
  const common = { task: 'toy-liver', loss: 'dice', epochs: 1, iterations: 1, valBatches: 1, workers: 0, profile: 'cpu', synth: path.join(root, 'synth'), preprocessed: path.join(root, 'pre') };
  const nested = await trainRun({ ...common, results: path.join(root, 'nested'), fold: 1 });
  const paper = await trainRun({ ...common, results: path.join(root, 'paper'), selection: 'paper', checkpoint: 'final' });
  const splits = loadSplits(preprocessedTaskDirectory(common.preprocessed, 'toy-liver'));
  assert.equal(splits.test.length, 4);

  const nestedConfig = JSON.parse(readFileSync(path.join(nested.runDir, RUN_FILES.config), 'utf8')) as RunConfig;
  assert.equal(nestedConfig.selection, 'nested');
  assert.equal(nestedConfig.checkpoint, 'best');
  assert.deepEqual(nestedConfig.trainCases, splits.folds[1]!.train);
  assert.deepEqual(nestedConfig.valCases, splits.folds[1]!.val);
  assert.equal(nestedConfig.trainCases.length + nestedConfig.valCases.length, 16);

  const paperConfig = JSON.parse(readFileSync(path.join(paper.runDir, RUN_FILES.config), 'utf8')) as RunConfig;
  assert.equal(paper.runDir, runDirectory(path.join(root, 'paper'), 'toy-liver', 'dice', 3e-4, 0, 12345));
  assert.equal(paperConfig.selection, 'paper');
  assert.equal(paperConfig.checkpoint, 'final');
  assert.deepEqual(paperConfig.valCases, splits.test);
  assert.deepEqual([...paperConfig.trainCases].sort(), [...splits.folds[0]!.train, ...splits.folds[0]!.val].sort());
  assert.equal(paperConfig.trainCases.length, 16);

  // A finished run asked for again with another checkpoint choice: recorded, nothing retrained.
  const again = await trainRun({ ...common, results: path.join(root, 'paper'), selection: 'paper', checkpoint: 'best' });
  assert.equal(again.skipped, true);
  assert.equal((JSON.parse(readFileSync(path.join(paper.runDir, RUN_FILES.config), 'utf8')) as RunConfig).checkpoint, 'best');

  // The mode decides what trains: a run cannot switch it when resumed.
  await assert.rejects(
    trainRun({ ...common, epochs: 2, results: path.join(root, 'paper') }),
    (err: unknown) => err instanceof UsageError && /was trained with selection 'paper', not 'nested'; use --restart/.test(err.message),
  );
});
