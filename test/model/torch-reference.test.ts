/**
 * UNet3D equals the PyTorch network of ../shared/reference/torch_unet_step.py (the benchmark's
 * reference) given the same weights: logits and the gradients of Σ logits·r w.r.t. every weight,
 * on wasm (decomposed convolutions, JS InstanceNorm) and cpu (tf.conv3d), within 1e-4 relative.
 * Fixture: test/fixtures/model/torch_unet.json from make_torch_unet_fixture.py (float64 PyTorch; the
 * conv biases before InstanceNorm are random there and absent here: they cancel exactly).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { REPO_ROOT, maxRelativeError } from '../helpers.js';
import { UNet3D } from '../../src/model/unet.js';

interface Fixture {
  features: number[];
  classes: number;
  input_shape: [number, number, number, number, number];
  input: number[];
  r: number[];
  logits: number[];
  weights: Record<string, { shape: number[]; values: number[] }>;
  grads: Record<string, number[]>;
}

const fixture = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'model', 'torch_unet.json'), 'utf8')) as Fixture;

for (const backend of ['wasm', 'cpu']) {
  test(`UNet3D on ${backend} reproduces the PyTorch reference network (logits and all weight gradients ≤ 1e-4)`, async () => {
    await tf.setBackend(backend);
    const net = new UNet3D(
      {
        inChannels: 1,
        numClasses: fixture.classes,
        deepSupervision: false,
        stages: fixture.features.map((f, i) => ({ features: f, kernelSize: [3, 3, 3], stride: i === 0 ? [1, 1, 1] : [2, 2, 2] })),
      },
      { seed: 0 },
    );
    const named = net.namedVariables();
    assert.deepEqual(named.map((n) => n.name).sort(), Object.keys(fixture.weights).sort());
    for (const { name, variable } of named) {
      const w = fixture.weights[name]!;
      assert.deepEqual(variable.shape, w.shape, name);
      variable.assign(tf.tensor(w.values, w.shape));
    }
    const x = tf.tensor5d(fixture.input, fixture.input_shape);
    const logits = net.predict(x);
    const e = maxRelativeError(logits.dataSync(), fixture.logits);
    assert.ok(e < 1e-4, `logits relative error ${e}`);
    const r = tf.tensor(fixture.r, logits.shape);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(net.apply(x, true)[0]!, r)) as tf.Scalar, net.variables);
    for (const { name, variable } of named) {
      const g = maxRelativeError(grads[variable.name]!.dataSync(), fixture.grads[name]!);
      assert.ok(g < 1e-4, `${name}: gradient relative error ${g}`);
    }
    tf.dispose([x, logits, r, ...Object.values(grads)]);
    net.dispose();
  });
}
