import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { runSegloss, tempDir } from '../helpers.js';
import { preprocessedToyLiver } from '../data/small-datasets.js';
import { preprocessForInference } from '../../src/preprocess/inference.js';
import type { Plans } from '../../src/preprocess/plans.js';
import { readNiftiSync } from '../../src/data/nifti.js';
import { UNet3D } from '../../src/model/unet.js';
import { saveModel } from '../../src/model/checkpoint.js';
import { predictVolume, listInputCases } from '../../src/eval/predict.js';
import { resolveRunDirectory } from '../../src/util/layout.js';
import type { PatchPredictor } from '../../src/eval/sliding-window.js';

let root = '';
let raw = '';
let pre = '';
let run = '';
let plans: Plans;

before(async () => {
  await tf.setBackend('cpu');
  ({ root, raw, pre, plans } = await preprocessedToyLiver('segloss-predict-'));
  // a run directory as training leaves it: config.json naming the preprocessed folder, a checkpoint
  run = path.join(root, 'results', 'toy-liver', 'ce', 'lr-3e-4', 'fold-0', 'seed-12345');
  const model = new UNet3D(plans.network, { seed: 1 });
  await saveModel(path.join(run, 'checkpoint', 'best'), model);
  model.dispose();
  mkdirSync(run, { recursive: true });
  writeFileSync(path.join(run, 'config.json'), JSON.stringify({ identity: { task: 'toy-liver', loss: 'ce', fold: 0, seed: 12345 }, preprocessedDir: pre }));
  writeFileSync(path.join(run, 'status.json'), JSON.stringify({ state: 'done', bestValDice: 0.5 }));
});

test('predictVolume with a threshold model labels exactly the voxels whose normalised intensity is positive', () => {
  // logits (0, 40·x): class 1 wherever the preprocessed intensity x > 0 (away from ties)
  const model: PatchPredictor = { predict: (x) => tf.tidy(() => tf.concat([tf.zerosLike(x), tf.mul(x, 40)], 4) as tf.Tensor5D) };
  const image = readNiftiSync(path.join(raw, 'imagesTr', 'toyliver_001.nii.gz'));
  const input = preprocessForInference(plans, image, 'toyliver_001');
  // toy data: nothing to crop (air is −1000, non-zero) and already at the target spacing, so the
  // preprocessed grid is the original grid and the expected labels follow voxel by voxel
  assert.deepEqual(input.shape, image.shape.slice(0, 3));
  const pred = predictVolume(model, plans, image, 'toyliver_001', { tta: false, keepProbabilities: true });
  let disagreements = 0;
  let checked = 0;
  for (let v = 0; v < pred.labels.length; v++) {
    const x = input.image[v] as number;
    if (Math.abs(x) < 0.05) continue; // softmax ≈ ½ there
    checked++;
    if (pred.labels[v] !== (x > 0 ? 1 : 0)) disagreements++;
  }
  assert.ok(checked > 0.9 * pred.labels.length);
  assert.equal(disagreements, 0);
  const n = pred.labels.length;
  assert.equal(pred.probabilities?.length, 2 * n);
  for (let v = 0; v < n; v += 97) assert.ok(Math.abs((pred.probabilities?.[v] as number) + (pred.probabilities?.[n + v] as number) - 1) < 1e-5);
});

test('listInputCases groups <case>_0000 channel files and takes single files as cases', () => {
  const dir = path.join(root, 'chan');
  mkdirSync(dir, { recursive: true });
  for (const f of ['b_0001.nii.gz', 'b_0000.nii.gz', 'a_0000.nii.gz']) writeFileSync(path.join(dir, f), '');
  assert.deepEqual(listInputCases(dir).map((c) => [c.id, c.files.map((f) => path.basename(f))]), [['a', ['a_0000.nii.gz']], ['b', ['b_0000.nii.gz', 'b_0001.nii.gz']]]);
});

test('segloss predict writes uint8 label maps with the input geometry, reports a failing case and runs the others; evaluate scores them', () => {
  const input = path.join(root, 'input');
  mkdirSync(input, { recursive: true });
  copyFileSync(path.join(raw, 'imagesTr', 'toyliver_002.nii.gz'), path.join(input, 'toyliver_002.nii.gz'));
  writeFileSync(path.join(input, 'broken.nii.gz'), 'not a nifti file');
  const out = path.join(root, 'pred');
  const r = runSegloss(['predict', '--run', run, '--input', input, '--out', out, '--save-probabilities']);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /case broken failed/);
  assert.match(r.stderr, /1 of 2 case\(s\) failed: broken/);
  const written = readNiftiSync(path.join(out, 'toyliver_002.nii.gz'), { kind: 'label' });
  const source = readNiftiSync(path.join(raw, 'imagesTr', 'toyliver_002.nii.gz'));
  assert.ok(written.data instanceof Uint8Array);
  assert.deepEqual(written.shape, source.shape);
  assert.deepEqual(written.affine, source.affine);
  assert.deepEqual(written.geometry, source.geometry);
  assert.ok([...new Set(written.data)].every((v) => v === 0 || v === 1));
  const probs = readNiftiSync(path.join(out, 'toyliver_002_probabilities.nii.gz'));
  assert.deepEqual(probs.shape, [...source.shape.slice(0, 3), 2]);
  assert.equal(readFileSync(path.join(out, 'cases.txt'), 'utf8'), 'broken\ntoyliver_002\n');
  // run.json names the run and the checkpoint (this hand-made config has no learning rate, the checkpoint no log)
  assert.deepEqual(JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')), {
    version: 1, runDir: path.resolve(run), task: 'toy-liver', loss: 'ce', seed: 12345, fold: 0, learningRate: null, checkpoint: { kind: 'best', epoch: null },
  });

  // the failed case has no prediction: evaluate scores it as empty when asked for the listed cases
  const gtDir = path.join(root, 'gt');
  mkdirSync(gtDir, { recursive: true });
  copyFileSync(path.join(raw, 'labelsTr', 'toyliver_002.nii.gz'), path.join(gtDir, 'toyliver_002.nii.gz'));
  const e = runSegloss(['evaluate', '--pred', out, '--gt', gtDir, '--cases', 'toyliver_002', '--out', path.join(root, 'eval'), '--labels', '1']);
  assert.equal(e.status, 0, e.stderr);
  const rows = readFileSync(path.join(root, 'eval', 'per_case.csv'), 'utf8').trim().split('\n');
  assert.equal(rows.length, 4);
  assert.ok(existsSync(path.join(root, 'eval', 'summary.json')));
  // task, loss, seed and fold come from run.json
  assert.match(readFileSync(path.join(root, 'eval', 'results.csv'), 'utf8'), /^task,loss,case,metric,value,seed,fold\ntoy-liver,ce,toyliver_002,dsc,[0-9.e-]+,12345,0\n/);
});

test('segloss predict --split test uses the run\'s held-out cases; a loss directory and --seed choose the replicate', () => {
  const out = path.join(root, 'pred-test');
  // The loss directory of the run: its only rate, for fold 0 and the default seed 12345.
  const lossDir = path.resolve(run, '..', '..', '..');
  const r = runSegloss(['--json', 'predict', '--run', lossDir, '--split', 'test', '--checkpoint', 'best', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { runDir: string }).runDir, run);
  const otherSeed = runSegloss(['--seed', '7', 'predict', '--run', lossDir, '--split', 'test', '--out', path.join(root, 'pred-seed-7')]);
  assert.equal(otherSeed.status, 2, otherSeed.stderr);
  assert.match(otherSeed.stderr, /lr-\*\/fold-0\/seed-7\/ runs/);
  const splits = JSON.parse(readFileSync(path.join(pre, 'splits.json'), 'utf8')) as { test: string[] };
  assert.ok(splits.test.length > 0);
  for (const id of splits.test) assert.ok(existsSync(path.join(out, `${id}.nii.gz`)), id);
  const missing = runSegloss(['predict', '--run', run, '--split', 'test', '--checkpoint', 'latest', '--out', out]);
  assert.equal(missing.status, 2, missing.stderr);
  assert.match(missing.stderr, /latest/);
});

test('a loss directory resolves to the finished run with the best validation Dice of the fold and seed', () => {
  const lossDir = path.join(root, 'results', 'toy-liver', 'dice');
  const make = (rate: string, fold: number, seed: number, status: object) => {
    const dir = path.join(lossDir, `lr-${rate}`, `fold-${fold}`, `seed-${seed}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'config.json'), '{}');
    writeFileSync(path.join(dir, 'status.json'), JSON.stringify(status));
    return dir;
  };
  make('1e-4', 0, 12345, { state: 'done', bestValDice: 0.61 });
  const winner = make('3e-4', 0, 12345, { state: 'done', bestValDice: 0.74 });
  make('1e-3', 0, 12345, { state: 'failed', reason: 'diverged', bestValDice: 0.9 });
  const fold1 = make('1e-3', 1, 12345, { state: 'done', bestValDice: 0.5 });
  // Another replicate of fold 0: its own choice of rate, whatever the other seed's runs scored.
  const seed7 = make('1e-4', 0, 7, { state: 'done', bestValDice: 0.7 });
  make('3e-4', 0, 7, { state: 'done', bestValDice: 0.69 });
  assert.equal(resolveRunDirectory(lossDir, 0, 12345), winner);
  assert.equal(resolveRunDirectory(lossDir, 1, 12345), fold1);
  assert.equal(resolveRunDirectory(lossDir, 0, 7), seed7);
  assert.equal(resolveRunDirectory(winner, 3, 3), winner);
  assert.throws(() => resolveRunDirectory(lossDir, 2, 12345), /lr-\*\/fold-2\/seed-12345/);
  assert.throws(() => resolveRunDirectory(lossDir, 1, 7), /lr-\*\/fold-1\/seed-7/);
});

test('segloss evaluate --split test --preprocessed: labels of the held-out cases; with --score-missing (the benchmark) a missing prediction folder scores all as empty', () => {
  const out = path.join(root, 'eval-split');
  const refused = runSegloss(['evaluate', '--pred', path.join(root, 'no-predictions'), '--split', 'test', '--preprocessed', pre, '--task', 'toy-liver', '--loss', 'ce', '--out', out]);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /no-predictions: prediction folder does not exist/);
  const r = runSegloss(['evaluate', '--pred', path.join(root, 'no-predictions'), '--split', 'test', '--preprocessed', pre, '--task', 'toy-liver', '--loss', 'ce', '--out', out, '--score-missing']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /does not exist: every case is scored as an empty prediction/);
  const splits = JSON.parse(readFileSync(path.join(pre, 'splits.json'), 'utf8')) as { test: string[] };
  const rows = readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  assert.deepEqual([...new Set(rows.map((x) => x[2]))].sort(), [...splits.test].sort());
  for (const row of rows) assert.equal(row[4], row[3] === 'hd95' ? 'inf' : '0');
  const usage = runSegloss(['evaluate', '--pred', out, '--split', 'test', '--out', out]);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--preprocessed/);
});
