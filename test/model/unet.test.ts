/**
 * UNet3D: shapes (isotropic, anisotropic, deep supervision), deterministic He initialisation,
 * parameter count by hand, whole-network equivalence of the fast wasm path with the cpu backend's
 * own tf.conv3d, and the tensor-leak check over 50 Adam steps. (The fused InstanceNorm+LeakyReLU
 * kernels: test/engine/instance-norm.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Rng } from '../../src/util/rng.js';
import { UNet3D } from '../../src/model/unet.js';
import { setConvImplementation } from '../../src/engine/conv3d.js';
import type { NetworkTopology } from '../../src/model/topology.js';

function topology(features: number[], deepSupervision = false, numClasses = 2): NetworkTopology {
  return {
    inChannels: 1,
    numClasses,
    deepSupervision,
    stages: features.map((f, i) => ({ features: f, kernelSize: [3, 3, 3], stride: i === 0 ? [1, 1, 1] : [2, 2, 2] })),
  };
}

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal();
  return tf.tensor(v, shape);
}

/** Soft Dice (batch, foreground classes) + CE, as ../shared/reference/torch_unet_step.py. */
function diceCE(logits: tf.Tensor5D, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const c = logits.shape[4];
    const flat = tf.reshape(logits, [-1, c]);
    const oh = tf.oneHot(tf.reshape(labels, [-1]) as tf.Tensor1D, c);
    const ce = tf.losses.softmaxCrossEntropy(oh, flat);
    const p = tf.softmax(flat);
    const inter = tf.sum(tf.mul(p, oh), 0);
    const den = tf.add(tf.sum(p, 0), tf.sum(oh, 0));
    const dice = tf.div(tf.add(tf.mul(inter, 2), 1e-5), tf.add(den, 1e-5));
    return tf.add(ce, tf.sub(1, tf.mean(tf.slice(dice, [1], [c - 1])))) as tf.Scalar;
  });
}

async function use(backend: string): Promise<void> {
  await tf.setBackend(backend);
  await tf.ready();
  assert.equal(tf.getBackend(), backend);
}

test('UNet3D shapes: deep supervision outputs from full to coarse resolution; anisotropic kernels and strides', async () => {
  await use('wasm');
  const net = new UNet3D(topology([4, 8, 16], true, 3), { seed: 1 });
  const x = randomTensor([2, 8, 8, 8, 1], 2) as tf.Tensor5D;
  const outs = net.apply(x, true);
  assert.deepEqual(outs.map((o) => o.shape), [[2, 8, 8, 8, 3], [2, 4, 4, 4, 3]]);
  tf.dispose(outs);
  // NIfTI (i, j, k) kernel [3,3,1] and stride [2,2,1]: tensors [B, D=k, H=j, W=i] get kernel 1×3×3, stride (1,2,2)
  const aniso = new UNet3D(
    {
      inChannels: 2,
      numClasses: 2,
      deepSupervision: false,
      stages: [
        { features: 4, kernelSize: [3, 3, 1], stride: [1, 1, 1] },
        { features: 8, kernelSize: [3, 3, 1], stride: [2, 2, 1] },
        { features: 16, kernelSize: [3, 3, 3], stride: [2, 2, 2] },
      ],
    },
    { seed: 1 },
  );
  const xa = randomTensor([1, 6, 8, 12, 2], 3) as tf.Tensor5D;
  const pa = aniso.predict(xa);
  assert.deepEqual(pa.shape, [1, 6, 8, 12, 2]);
  assert.deepEqual(aniso.divisibility(), [2, 4, 4]);
  assert.throws(() => aniso.predict(randomTensor([1, 5, 8, 12, 2], 3) as tf.Tensor5D), /divisible/);
  tf.dispose([x, xa, pa]);
  net.dispose();
  aniso.dispose();
});

test('UNet3D initialisation: deterministic per seed, He std, parameter count by hand', async () => {
  await use('cpu');
  const a = new UNet3D(topology([8, 16, 32]), { seed: 7 });
  const b = new UNet3D(topology([8, 16, 32]), { seed: 7 });
  const c = new UNet3D(topology([8, 16, 32]), { seed: 8 });
  const wa = a.variables.map((v) => Array.from(v.dataSync()));
  assert.deepEqual(b.variables.map((v) => Array.from(v.dataSync())), wa);
  assert.notDeepEqual(c.variables.map((v) => Array.from(v.dataSync())), wa);
  // conv weights (no bias) + IN γ, β per conv + transposed convs + head
  const conv = (ci: number, co: number) => 27 * ci * co + 2 * co;
  const expected =
    conv(1, 8) + conv(8, 8) + conv(8, 16) + conv(16, 16) + conv(16, 32) + conv(32, 32) + // encoder
    8 * 32 * 16 + 8 * 16 * 8 + // transposed convs 2×2×2
    conv(32, 16) + conv(16, 16) + conv(16, 8) + conv(8, 8) + // decoder
    8 * 2; // head
  assert.equal(a.parameterCount(), expected);
  // He normal, fan_in = 27·Ci: sample std of the 27·32·32 enc2.conv1 kernel within 3%
  const k = a.namedVariables().find((n) => n.name === 'enc2.conv1.kernel')!.variable.dataSync();
  const std = Math.sqrt(Array.from(k).reduce((s, v) => s + v * v, 0) / k.length);
  const want = Math.sqrt(2 / (1 + 1e-4)) / Math.sqrt(27 * 32);
  assert.ok(Math.abs(std / want - 1) < 0.03, `std ${std} vs ${want}`);
  for (const n of [a, b, c]) n.dispose();
});

/** Loss trajectory of 3 Adam steps. */
function trajectory(steps: number): number[] {
  const net = new UNet3D(topology([4, 8, 16]), { seed: 3 });
  const x = randomTensor([2, 8, 8, 8, 1], 4) as tf.Tensor5D;
  const labels = tf.tidy(() => tf.cast(tf.greater(randomTensor([2, 8, 8, 8], 5), 1.0), 'int32'));
  const opt = tf.train.adam(1e-3);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const loss = opt.minimize(() => diceCE(net.apply(x, true)[0]!, labels), true, net.variables) as tf.Scalar;
    losses.push(loss.dataSync()[0]!);
    loss.dispose();
  }
  opt.dispose();
  tf.dispose([x, labels]);
  net.dispose();
  return losses;
}

test('UNet3D on wasm (decomposed conv, JS InstanceNorm) trains like the cpu backend with tf.conv3d', async () => {
  await use('cpu');
  setConvImplementation('native');
  const ref = trajectory(3);
  setConvImplementation('auto');
  await use('wasm');
  const fast = trajectory(3);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(fast[i]! - ref[i]!) < 1e-4 * Math.abs(ref[i]!), `step ${i}: ${fast[i]} vs ${ref[i]}`);
  assert.ok(ref[2]! < ref[0]!, 'loss decreases');
});

test('no tensor leak: tf.memory().numTensors equal after Adam step 1 and step 50 (wasm)', async () => {
  await use('wasm');
  const net = new UNet3D(topology([4, 8], true), { seed: 3 });
  const x = randomTensor([2, 8, 8, 8, 1], 4) as tf.Tensor5D;
  const labels = tf.tidy(() => tf.cast(tf.greater(randomTensor([2, 8, 8, 8], 5), 1.0), 'int32'));
  const opt = tf.train.adam(1e-3);
  let after1 = -1;
  for (let i = 1; i <= 50; i++) {
    const loss = opt.minimize(() => diceCE(net.apply(x, true)[0]!, labels), true, net.variables) as tf.Scalar;
    loss.dispose();
    if (i === 1) after1 = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, after1);
  opt.dispose();
  tf.dispose([x, labels]);
  net.dispose();
});
