/**
 * Checkpoints: a model saved here and loaded in a NEW process predicts bit-identically (wasm);
 * saveTensors/loadTensors round-trip exactly; a torn or foreign checkpoint is an InputError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { REPO_ROOT, tempDir } from '../helpers.js';
import { Rng } from '../../src/util/rng.js';
import { UNet3D } from '../../src/model/unet.js';
import { saveModel, loadModel, saveTensors, loadTensors } from '../../src/model/checkpoint.js';
import { InputError } from '../../src/util/errors.js';

function input(seed: number): tf.Tensor5D {
  const rng = new Rng(seed);
  const v = new Float32Array(1 * 8 * 8 * 8 * 1);
  for (let i = 0; i < v.length; i++) v[i] = rng.normal();
  return tf.tensor5d(v, [1, 8, 8, 8, 1]);
}

test('saveModel → loadModel in a new process predicts bit-identically on wasm', async () => {
  await tf.setBackend('wasm');
  const dir = tempDir();
  const topology = {
    inChannels: 1,
    numClasses: 3,
    deepSupervision: true,
    stages: [
      { features: 4, kernelSize: [3, 3, 3] as [number, number, number], stride: [1, 1, 1] as [number, number, number] },
      { features: 8, kernelSize: [3, 3, 3] as [number, number, number], stride: [2, 2, 2] as [number, number, number] },
    ],
  };
  const net = new UNet3D(topology, { seed: 5 });
  // move the weights away from their initial values so a re-initialisation could not pass
  for (const v of net.variables) v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.1, 'float32', 3))));
  const x = input(9);
  const y = net.predict(x);
  await saveModel(dir, net);
  assert.deepEqual(readdirSync(dir).sort(), ['model.json', 'weights.bin']);
  const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
  assert.equal(json.format, 'segloss-unet3d');
  assert.deepEqual(json.modelTopology.topology, topology);
  assert.equal(json.weightsManifest[0].weights.length, net.variables.length);

  const script = path.join(REPO_ROOT, 'dist', 'test', 'model', 'predict-child.js');
  const r = spawnSync(process.execPath, [script, dir, path.join(dir, 'child.bin')], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const child = new Float32Array(new Uint8Array(readFileSync(path.join(dir, 'child.bin'))).buffer);
  const here = y.dataSync() as Float32Array;
  assert.equal(child.length, here.length);
  assert.ok(Buffer.from(child.buffer).equals(Buffer.from(here.buffer, here.byteOffset, here.byteLength)), 'bit-identical logits');

  // same process: loaded weights are exactly the saved ones
  const loaded = await loadModel(dir);
  const a = net.namedVariables();
  const b = loaded.namedVariables();
  assert.deepEqual(b.map((n) => n.name), a.map((n) => n.name));
  for (let i = 0; i < a.length; i++) assert.deepEqual(Array.from(b[i]!.variable.dataSync()), Array.from(a[i]!.variable.dataSync()));
  tf.dispose([x, y]);
  net.dispose();
  loaded.dispose();
});

test('saveTensors/loadTensors round-trip; torn and foreign checkpoints are InputErrors', async () => {
  await tf.setBackend('cpu');
  const dir = tempDir();
  const m = tf.tensor([[1.5, -2], [3.25, 1e-8]]);
  const s = tf.scalar(42, 'int32');
  await saveTensors(dir, 'optimizer', { 'enc0.conv0.kernel/m': m, step: s });
  const back = await loadTensors(dir, 'optimizer');
  assert.deepEqual(Object.keys(back).sort(), ['enc0.conv0.kernel/m', 'step']);
  assert.deepEqual(Array.from(back['enc0.conv0.kernel/m']!.dataSync()), Array.from(m.dataSync()));
  assert.deepEqual(back['enc0.conv0.kernel/m']!.shape, [2, 2]);
  assert.equal(back['step']!.dtype, 'int32');
  assert.equal(back['step']!.dataSync()[0], 42);
  // foreign: a tensors file is not a model
  await assert.rejects(loadModel(dir), (e: unknown) => e instanceof InputError);
  // torn: binary changed after the JSON was written
  writeFileSync(path.join(dir, 'optimizer.bin'), new Uint8Array(12));
  await assert.rejects(loadTensors(dir, 'optimizer'), (e: unknown) => e instanceof InputError && /sha256/.test((e as Error).message));
  await assert.rejects(loadTensors(dir, 'missing'), (e: unknown) => e instanceof InputError);
  tf.dispose([m, s, ...Object.values(back)]);
});
