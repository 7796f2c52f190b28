/**
 * Predictions from a segloss run: run.json, the seed/fold columns of results.csv and
 * provenance.json, on hand-written run directories (config.json, status.json, log.jsonl, sibling
 * learning rates, an LR-search file, a pre-training run) whose expected entries are derived by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runSegloss, tempDir } from '../helpers.js';
import type { Affine } from '../../src/data/volume.js';
import { makeVolume, writeNiftiSync } from '../../src/data/nifti.js';
import { buildProvenanceEntry } from '../../src/eval/provenance.js';
import { readPredictionRunInfo, writePredictionRunInfo } from '../../src/eval/run-info.js';
import { lrSearchFile, pretrainDirectory, runDirectory } from '../../src/util/layout.js';
import { readProvenanceFile } from '../../src/util/provenance.js';

function writeJson(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(value));
}

function writeLog(dir: string, lines: object[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'log.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

function runConfig(loss: string, learningRate: number, fold: number, seed: number, iterations: number, epochs: number, pretrainFrom: string | null = null) {
  return { identity: { task: 'toy', loss, lossOptions: {}, learningRate, fold, iterations, seed, stage: 'train', pretrainFrom }, epochs };
}

/**
 * A DiceBD run (lr 1e-4, fold 1, seed 7) fine-tuned from a Dice pre-training, with siblings at
 * lr 1e-5 (done, 0.5) and 1e-3 (failed), and a replicate of another fold that must not count.
 * Old status fields only for the run (stopped after 3 of 4 epochs), new ones for the pre-training.
 */
function makeResults() {
  const results = tempDir('segloss-provenance-');
  const pre = pretrainDirectory(results, 'toy', 'dice', 1, 7);
  writeJson(path.join(pre, 'config.json'), runConfig('dice', 1e-2, 1, 7, 5, 2));
  writeJson(path.join(pre, 'status.json'), { state: 'done', epoch: 2, seconds: 12, steps: 9, budgetSteps: 10 });
  const run = runDirectory(results, 'toy', 'dicebd', 1e-4, 1, 7);
  writeJson(path.join(run, 'config.json'), runConfig('dicebd', 1e-4, 1, 7, 5, 4, path.join(pre, 'checkpoint', 'best')));
  writeJson(path.join(run, 'status.json'), { state: 'done', epoch: 3, bestValDice: 0.6, seconds: 30 });
  const log = [
    { epoch: 0, valDice: 0.4, newBest: true, seconds: 10 },
    { epoch: 1, valDice: 0.6, newBest: true, seconds: 10 },
    { epoch: 2, valDice: null, newBest: false, seconds: 10 },
  ];
  writeLog(run, log);
  writeLog(path.join(run, 'checkpoint', 'best'), log.slice(0, 2));
  const low = runDirectory(results, 'toy', 'dicebd', 1e-5, 1, 7);
  writeJson(path.join(low, 'config.json'), runConfig('dicebd', 1e-5, 1, 7, 5, 4));
  writeJson(path.join(low, 'status.json'), { state: 'done', epoch: 4, bestValDice: 0.5 });
  const high = runDirectory(results, 'toy', 'dicebd', 1e-3, 1, 7);
  writeJson(path.join(high, 'config.json'), runConfig('dicebd', 1e-3, 1, 7, 5, 4));
  writeJson(path.join(high, 'status.json'), { state: 'failed', epoch: 1, bestValDice: 0.9, reason: 'diverged' });
  const otherFold = runDirectory(results, 'toy', 'dicebd', 3e-4, 0, 7);
  writeJson(path.join(otherFold, 'config.json'), runConfig('dicebd', 3e-4, 0, 7, 5, 4));
  writeJson(path.join(otherFold, 'status.json'), { state: 'done', epoch: 4, bestValDice: 0.99 });
  return { results, run, pre };
}

const EXPECTED_BASE = {
  task: 'toy',
  loss: 'dicebd',
  seed: 7,
  fold: 1,
  learningRate: 1e-4,
  // sibling runs of fold 1, seed 7 (a failed run scores null, whatever its Dice)
  lrScores: [{ learningRate: 1e-5, score: 0.5 }, { learningRate: 1e-4, score: 0.6 }, { learningRate: 1e-3, score: null }],
  steps: 3 * 5 + 9, // 3 epochs × 5 iterations (no steps field) + the pre-training's 9 steps
  budgetSteps: 4 * 5 + 10, // 4 planned epochs × 5 iterations + the pre-training's budget
  epochs: 3,
  stopReason: 'early-stop', // done before its 4 planned epochs, no stopReason field
  seconds: 30 + 12,
  pretrain: { loss: 'dice', steps: 9, seconds: 12 },
  valCurve: [{ epoch: 0, valDice: 0.4 }, { epoch: 1, valDice: 0.6 }, { epoch: 2, valDice: null }],
};

test('buildProvenanceEntry: old status fields, sibling learning rates, a pre-training stage; the best epoch from the log', () => {
  const { run } = makeResults();
  assert.deepEqual(buildProvenanceEntry(run, { kind: 'best', epoch: null }), { ...EXPECTED_BASE, checkpoint: { kind: 'best', epoch: 1 } });
  assert.deepEqual(buildProvenanceEntry(run, { kind: 'final', epoch: null }).checkpoint, { kind: 'final', epoch: 2 });
});

test('buildProvenanceEntry: the LR-search file wins over sibling runs; new status fields win over derived values', () => {
  const { results, run } = makeResults();
  writeJson(lrSearchFile(results, 'toy', 'dicebd', 1, 7), {
    runs: [{ learningRate: 3e-5, status: 'done', bestValDice: 0.55 }, { learningRate: 1e-4, status: 'done', bestValDice: 0.6 }],
  });
  writeJson(path.join(run, 'status.json'), { state: 'done', epoch: 3, bestValDice: 0.6, seconds: 31, steps: 14, budgetSteps: 20, bestEpoch: 0, stopReason: 'lr-floor' });
  const entry = buildProvenanceEntry(run, { kind: 'best', epoch: null });
  assert.deepEqual(entry.lrScores, [{ learningRate: 3e-5, score: 0.55 }, { learningRate: 1e-4, score: 0.6 }]);
  assert.deepEqual([entry.steps, entry.budgetSteps, entry.stopReason, entry.seconds, entry.checkpoint.epoch], [14 + 9, 20 + 10, 'lr-floor', 31 + 12, 0]);
});

test('buildProvenanceEntry: profileSteps = the recorded profile\'s epochs × iterations, the pre-training\'s added; absent when a stage lacks it', () => {
  const { run, pre } = makeResults();
  const withProfile = (dir: string, epochs: number, iterations: number) => {
    const file = path.join(dir, 'config.json');
    const config = JSON.parse(readFileSync(file, 'utf8')) as object;
    writeJson(file, { ...config, profile: { name: 'cpu', epochs, iterations } });
  };
  withProfile(run, 200, 50);
  assert.equal(buildProvenanceEntry(run, { kind: 'best', epoch: null }).profileSteps, undefined, 'the pre-training has no profile recorded');
  withProfile(pre, 100, 50);
  const entry = buildProvenanceEntry(run, { kind: 'best', epoch: null });
  assert.equal(entry.profileSteps, 200 * 50 + 100 * 50);
  assert.equal(entry.budgetSteps, 4 * 5 + 10, 'the run\'s own (capped) budget is unchanged');
});

test('buildProvenanceEntry: learning-rate scores the caller gives (the benchmark\'s lr-choice.json) replace the search; the kind defaults to the run\'s config', () => {
  const { run } = makeResults();
  const given = [{ learningRate: 1e-4, score: 0.625 }, { learningRate: 1e-5, score: null }];
  const entry = buildProvenanceEntry(run, { epoch: null }, given);
  assert.deepEqual(entry, { ...EXPECTED_BASE, lrScores: given, checkpoint: { kind: 'best', epoch: 1 } });
  writeJson(path.join(run, 'config.json'), { ...runConfig('dicebd', 1e-4, 1, 7, 5, 4, null), checkpoint: 'final' });
  assert.deepEqual(buildProvenanceEntry(run, { epoch: null }).checkpoint, { kind: 'final', epoch: 2 });
});

/** A reference and a prediction of one 2 × 2 × 1 case: G = {0, 1}, P = {1}: DSC 2/3. */
function writeCase(dir: string): { gt: string; pred: string } {
  const affine: Affine = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
  const gt = path.join(dir, 'gt');
  const pred = path.join(dir, 'pred');
  writeNiftiSync(path.join(gt, 'c1.nii.gz'), makeVolume(new Uint8Array([1, 1, 0, 0]), [2, 2, 1], affine));
  writeNiftiSync(path.join(pred, 'c1.nii.gz'), makeVolume(new Uint8Array([0, 1, 0, 0]), [2, 2, 1], affine));
  return { gt, pred };
}

test('evaluate on predictions with run.json: task and loss from the run, seed/fold columns, provenance.json; a conflicting --seed is refused', async () => {
  const { results, run } = makeResults();
  const { gt, pred } = writeCase(results);
  assert.ok((await writePredictionRunInfo(pred, run, 'best')) !== undefined);
  const info = readPredictionRunInfo(pred);
  assert.deepEqual(info, { version: 1, runDir: path.resolve(run), task: 'toy', loss: 'dicebd', seed: 7, fold: 1, learningRate: 1e-4, checkpoint: { kind: 'best', epoch: 1 } });

  const out = path.join(results, 'eval');
  const r = runSegloss(['evaluate', '--pred', pred, '--gt', gt, '--out', out, '--workers', '1']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n').slice(0, 2), [
    'task,loss,case,metric,value,seed,fold',
    `toy,dicebd,c1,dsc,${2 / 3},7,1`,
  ]);
  assert.deepEqual(readProvenanceFile(out), [{ ...EXPECTED_BASE, checkpoint: { kind: 'best', epoch: 1 } }]);

  const conflict = runSegloss(['evaluate', '--pred', pred, '--gt', gt, '--out', out, '--seed', '8', '--fold', '1']);
  assert.equal(conflict.status, 2);
  assert.match(conflict.stderr, /come from seed 7, fold 1 \(run\.json\)/);
});

test('evaluate on plain predictions: seed/fold columns only with --seed/--fold, no provenance.json (a stale one is removed)', () => {
  const root = tempDir('segloss-provenance-plain-');
  const { gt, pred } = writeCase(root);
  const plain = path.join(root, 'plain');
  writeJson(path.join(plain, 'provenance.json'), { version: 1, entries: [] }); // of an earlier evaluation: removed
  const r = runSegloss(['evaluate', '--pred', pred, '--gt', gt, '--out', plain, '--task', 'T', '--loss', 'L', '--workers', '1']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(path.join(plain, 'results.csv'), 'utf8').split('\n')[0], 'task,loss,case,metric,value');
  assert.equal(existsSync(path.join(plain, 'provenance.json')), false);
  const tagged = path.join(root, 'tagged');
  const t = runSegloss(['evaluate', '--pred', pred, '--gt', gt, '--out', tagged, '--task', 'T', '--loss', 'L', '--seed', '3', '--fold', '2', '--workers', '1']);
  assert.equal(t.status, 0, t.stderr);
  assert.deepEqual(readFileSync(path.join(tagged, 'results.csv'), 'utf8').split('\n').slice(0, 2), ['task,loss,case,metric,value,seed,fold', `T,L,c1,dsc,${2 / 3},3,2`]);
});
