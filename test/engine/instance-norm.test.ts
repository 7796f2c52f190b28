/**
 * The fused InstanceNorm + LeakyReLU kernels (src/engine/kernels/InstanceNormLeakyRelu.ts and
 * InstanceNormLeakyReluGrad.ts): value and gradients against the tfjs-ops formulation on wasm and
 * cpu, and bit-identical between the two backends (the same JavaScript loops, reading and writing
 * through the heap adapter src/engine/heap.ts: the wasm heap on one, JavaScript arrays on the other).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Rng } from '../../src/util/rng.js';
import { instanceNormLeakyRelu, instanceNormLeakyReluOps } from '../../src/engine/instance-norm.js';
import { maxRelativeError } from '../helpers.js';

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal();
  return tf.tensor(v, shape);
}

async function use(backend: string): Promise<void> {
  await tf.setBackend(backend);
  await tf.ready();
  assert.equal(tf.getBackend(), backend);
}

/** y and the gradients w.r.t. x, γ, β of Σ(y·r) through `impl`, as plain arrays. */
function valueAndGradients(impl: typeof instanceNormLeakyRelu, shape: number[]): { y: Float32Array; grads: Float32Array[] } {
  return tf.tidy(() => {
    const c = shape[shape.length - 1] as number;
    const x = tf.add(tf.mul(randomTensor(shape, 11), 3), 1.5);
    const g = tf.add(randomTensor([c], 12), 1) as tf.Tensor1D;
    const b = randomTensor([c], 13) as tf.Tensor1D;
    const r = randomTensor(shape, 14);
    const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(impl(xx, gg as tf.Tensor1D, bb as tf.Tensor1D), r));
    const y = impl(x, g, b).dataSync() as Float32Array;
    const grads = tf.grads(f)([x, g, b]).map((t) => t.dataSync() as Float32Array);
    return { y, grads };
  });
}

test('fused InstanceNorm+LeakyReLU kernel equals the tfjs-ops formulation (value and gradients), wasm and cpu', async () => {
  for (const backend of ['wasm', 'cpu']) {
    await use(backend);
    const fast = valueAndGradients(instanceNormLeakyRelu, [2, 3, 4, 5, 6]);
    const ref = valueAndGradients(instanceNormLeakyReluOps, [2, 3, 4, 5, 6]);
    assert.ok(maxRelativeError(fast.y, ref.y) < 1e-5, `${backend} y`);
    for (let i = 0; i < 3; i++) assert.ok(maxRelativeError(fast.grads[i]!, ref.grads[i]!) < 1e-4, `${backend} grad ${i}: ${maxRelativeError(fast.grads[i]!, ref.grads[i]!)}`);
  }
});

test('fused InstanceNorm+LeakyReLU kernels are bit-identical on wasm and cpu (several chunks per sample)', async () => {
  // [2, 9, 10, 11, 16]: 990 voxels × 16 channels = 15 840 floats per sample, 4 chunks of 4096
  for (const shape of [[2, 3, 4, 5, 6], [2, 9, 10, 11, 16], [1, 1, 1, 1, 3]]) {
    await use('cpu');
    const cpu = valueAndGradients(instanceNormLeakyRelu, shape);
    await use('wasm');
    const wasm = valueAndGradients(instanceNormLeakyRelu, shape);
    assert.deepEqual(Array.from(wasm.y), Array.from(cpu.y), `y ${shape}`);
    for (let i = 0; i < 3; i++) assert.deepEqual(Array.from(wasm.grads[i]!), Array.from(cpu.grads[i]!), `grad ${i} ${shape}`);
  }
});
