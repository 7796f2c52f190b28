/**
 * Which weights `predict` tests (docs/training.md, "Checkpoint"): checkpoint/best, or 'final' =
 * checkpoint/latest of a finished run (nnU-Net V1's model_final_checkpoint); the run's own choice
 * from config.json unless `--checkpoint` overrides it. Checked by predicting one toy case with
 * each choice and comparing the written probabilities with those of each checkpoint loaded
 * directly: two differently initialised networks, so the two checkpoints predict differently.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { runSegloss, tempDir } from '../helpers.js';
import { preprocessedToyLiver } from '../data/small-datasets.js';
import type { Plans } from '../../src/preprocess/plans.js';
import { readNiftiSync } from '../../src/data/nifti.js';
import { UNet3D } from '../../src/model/unet.js';
import { loadModel, saveModel } from '../../src/model/checkpoint.js';
import { predictCases, predictVolume, runCheckpointDirectory } from '../../src/eval/predict.js';
import { InputError } from '../../src/util/errors.js';

let root = '';
let raw = '';
let pre = '';
let input = '';
let plans: Plans;
const CASE = 'toyliver_002';
/** Probabilities of CASE with the weights of checkpoint/best and checkpoint/latest, loaded directly. */
const expected: Record<'best' | 'latest', Float32Array> = { best: new Float32Array(), latest: new Float32Array() };

function makeRun(name: string, config: Record<string, unknown>, state: string): string {
  const run = path.join(root, 'results', name);
  mkdirSync(run, { recursive: true });
  writeFileSync(path.join(run, 'config.json'), JSON.stringify({ identity: { task: 'toy-liver', loss: 'ce', fold: 0, seed: 12345 }, preprocessedDir: pre, ...config }));
  writeFileSync(path.join(run, 'status.json'), JSON.stringify({ state }));
  return run;
}

before(async () => {
  await tf.setBackend('cpu');
  ({ root, raw, pre, plans } = await preprocessedToyLiver('segloss-checkpoint-'));
  input = path.join(root, 'input');
  mkdirSync(input, { recursive: true });
  copyFileSync(path.join(raw, 'imagesTr', `${CASE}.nii.gz`), path.join(input, `${CASE}.nii.gz`));
  const image = readNiftiSync(path.join(input, `${CASE}.nii.gz`));
  for (const [which, seed] of [['best', 1], ['latest', 2]] as const) {
    const model = new UNet3D(plans.network, { seed });
    await saveModel(path.join(root, 'weights', which), model);
    model.dispose();
    const loaded = await loadModel(path.join(root, 'weights', which));
    expected[which] = predictVolume(loaded, plans, image, CASE, { tta: false, keepProbabilities: true }).probabilities as Float32Array;
    loaded.dispose();
  }
});

async function linkWeights(run: string): Promise<void> {
  for (const which of ['best', 'latest']) {
    const from = path.join(root, 'weights', which);
    const to = path.join(run, 'checkpoint', which);
    mkdirSync(to, { recursive: true });
    for (const f of ['model.json', 'weights.bin']) copyFileSync(path.join(from, f), path.join(to, f));
  }
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** Predict CASE with `choice` (undefined: the run's default) and return the written probabilities and the choice reported. */
async function predictWith(run: string, choice: 'best' | 'final' | undefined, out: string): Promise<{ probabilities: Float32Array; checkpoint: string }> {
  const report = await predictCases({ runDir: run, inputDir: input, outDir: out, tta: false, saveProbabilities: true, ...(choice !== undefined ? { checkpoint: choice } : {}) });
  assert.equal(report.failed, 0, JSON.stringify(report.cases));
  const vol = readNiftiSync(report.cases[0]!.probabilitiesFile as string);
  return { probabilities: vol.data as Float32Array, checkpoint: report.checkpoint };
}

test('the two checkpoints predict differently (else the test could not tell them apart)', () => {
  assert.ok(maxDifference(expected.best, expected.latest) > 1e-3);
});

test("a run trained with --checkpoint final: predict uses checkpoint/latest by default, --checkpoint best overrides", async () => {
  const run = makeRun('final', { checkpoint: 'final' }, 'done');
  await linkWeights(run);
  const byDefault = await predictWith(run, undefined, path.join(root, 'out-final-default'));
  assert.equal(byDefault.checkpoint, 'final');
  assert.ok(maxDifference(byDefault.probabilities, expected.latest) < 1e-6);
  const best = await predictWith(run, 'best', path.join(root, 'out-final-best'));
  assert.equal(best.checkpoint, 'best');
  assert.ok(maxDifference(best.probabilities, expected.best) < 1e-6);
});

test('a run without a choice (older runs, default best): predict uses checkpoint/best, --checkpoint final the latest', async () => {
  const run = makeRun('default', {}, 'done');
  await linkWeights(run);
  const byDefault = await predictWith(run, undefined, path.join(root, 'out-default'));
  assert.equal(byDefault.checkpoint, 'best');
  assert.ok(maxDifference(byDefault.probabilities, expected.best) < 1e-6);
  const final = await predictWith(run, 'final', path.join(root, 'out-default-final'));
  assert.ok(maxDifference(final.probabilities, expected.latest) < 1e-6);
  // The CLI flag: same weights as the library call.
  const out = path.join(root, 'out-cli');
  const r = runSegloss(['--backend', 'cpu', 'predict', '--run', run, '--input', input, '--out', out, '--checkpoint', 'final', '--no-tta', '--save-probabilities']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /checkpoint final, no TTA/);
  assert.ok(maxDifference(readNiftiSync(path.join(out, `${CASE}_probabilities.nii.gz`)).data as Float32Array, expected.latest) < 1e-6);
});

test('final needs a finished run: an unfinished or interrupted run has no final checkpoint yet', async () => {
  for (const state of ['running', 'interrupted']) {
    const run = makeRun(`unfinished-${state}`, { checkpoint: 'final' }, state);
    await linkWeights(run);
    assert.equal(runCheckpointDirectory(run, 'best'), path.join(run, 'checkpoint', 'best'));
    assert.equal(runCheckpointDirectory(run, 'latest'), path.join(run, 'checkpoint', 'latest'));
    assert.throws(() => runCheckpointDirectory(run, 'final'), (err: unknown) => err instanceof InputError && err.message.includes(`the run is not finished (status ${state})`));
    await assert.rejects(predictWith(run, undefined, path.join(root, `out-${state}`)), /--checkpoint final: the run is not finished/);
  }
});
