/**
 * The replacements of stock wasm kernels (src/engine/kernels/) return exactly what the cpu backend
 * returns: Transpose (every permutation of rank 3–6 shapes with size-1 axes, tiled and run paths),
 * Slice, SplitV, PadV2, Reverse (every axis subset), Concat, reductions over arbitrary axis sets,
 * matMul with transpose flags, Identity sharing. Every kernel file is in the registration list
 * (src/engine/register-kernels.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { kernelNames, registerKernels } from '../../src/engine/register-kernels.js';
import { Rng } from '../../src/util/rng.js';
import { REPO_ROOT } from '../helpers.js';

function values(shape: number[], seed: number): Float32Array {
  const rng = new Rng(seed);
  const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < v.length; i++) v[i] = rng.normal();
  return v;
}

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  return permutations(n - 1).flatMap((p) => [...Array(n).keys()].map((i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

/** Run fn on cpu and on patched wasm; results must be identical. */
async function same(fn: () => tf.Tensor | tf.Tensor[], label: string, tol = 0): Promise<void> {
  await tf.setBackend('cpu');
  const ref = tf.tidy(() => [fn()].flat().map((t) => ({ shape: t.shape, v: Array.from(t.dataSync()) })));
  await tf.setBackend('wasm');
  registerKernels('wasm');
  const got = tf.tidy(() => [fn()].flat().map((t) => ({ shape: t.shape, v: Array.from(t.dataSync()) })));
  assert.equal(got.length, ref.length, label);
  for (let i = 0; i < ref.length; i++) {
    assert.deepEqual(got[i]!.shape, ref[i]!.shape, label);
    if (tol === 0) assert.deepEqual(got[i]!.v, ref[i]!.v, label);
    else for (let k = 0; k < ref[i]!.v.length; k++) assert.ok(Math.abs(got[i]!.v[k]! - ref[i]!.v[k]!) <= tol * (1 + Math.abs(ref[i]!.v[k]!)), `${label} @${k}`);
  }
}

test('patched Transpose equals cpu for all permutations (ranks 3–5, size-1 axes, tiled sizes)', async () => {
  for (const shape of [[7, 9, 70], [3, 1, 5, 4], [2, 3, 1, 4, 5], [4, 33, 2, 40]]) {
    const v = values(shape, shape.length);
    for (const perm of permutations(shape.length)) await same(() => tf.transpose(tf.tensor(v, shape), perm), `transpose ${shape} ${perm}`);
  }
  const shape6 = [2, 3, 2, 4, 3, 5];
  const v6 = values(shape6, 6);
  for (const perm of [[5, 4, 3, 2, 1, 0], [0, 2, 4, 1, 3, 5], [1, 0, 3, 2, 5, 4]]) await same(() => tf.transpose(tf.tensor(v6, shape6), perm), `transpose6 ${perm}`);
});

test('patched Slice, SplitV and PadV2 equal cpu (rank 2–5, runs shorter and longer than 64)', async () => {
  const shape = [2, 5, 6, 7, 80];
  const v = values(shape, 1);
  await same(() => tf.slice(tf.tensor(v, shape), [1, 1, 2, 3, 0], [1, 3, 4, 2, 80]), 'slice full inner');
  await same(() => tf.slice(tf.tensor(v, shape), [0, 2, 0, 0, 5], [2, 2, 6, 7, 10]), 'slice short run');
  await same(() => tf.slice(tf.tensor(v, shape), [0, 0, 0, 0, 0], shape), 'slice all');
  await same(() => tf.slice(tf.tensor(v.subarray(0, 120), [12, 10]), [3, 2], [5, 7]), 'slice 2d');
  await same(() => tf.split(tf.tensor(v, shape), [30, 50], 4), 'split channels');
  await same(() => tf.pad(tf.tensor(v, shape), [[0, 0], [1, 1], [0, 0], [0, 0], [0, 0]]), 'pad depth');
  await same(() => tf.pad(tf.tensor(v, shape), [[1, 0], [1, 2], [0, 1], [2, 0], [0, 3]], 1.5), 'pad all axes, constant');
  await same(() => tf.pad(tf.tensor(v.subarray(0, 120), [12, 10]), [[0, 0], [3, 1]]), 'pad 2d inner');
  await same(() => tf.split(tf.tensor(v, shape), 5, 1), 'split depth');
});

test('patched Reverse equals cpu for every axis subset (ranks 1–5, runs shorter and longer than 64, int32 and bool)', async () => {
  for (const shape of [[9], [4, 70], [3, 1, 5, 4], [3, 3, 3, 8, 16], [2, 3, 2, 4, 5]]) {
    const v = values(shape, shape.length + 10);
    const r = shape.length;
    for (let mask = 0; mask < 1 << r; mask++) {
      const axes = [...Array(r).keys()].filter((a) => (mask >> a) & 1);
      await same(() => tf.reverse(tf.tensor(v, shape), axes), `reverse ${shape} [${axes}]`);
    }
  }
  // The gradient of reverse is a reverse: the flipped conv kernel's gradient goes through it too.
  const w = values([3, 3, 3, 4, 2], 3);
  await same(() => tf.grad((x: tf.Tensor) => tf.reverse(x, [0, 1, 2]).mul(tf.range(0, 216).reshape([3, 3, 3, 4, 2])).sum())(tf.tensor(w, [3, 3, 3, 4, 2])), 'reverse gradient');
  await same(() => tf.reverse(tf.tensor([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), [1]), 'reverse int32');
  await same(() => tf.reverse(tf.tensor([true, false, false, true, true, false], [3, 2], 'bool'), [0]), 'reverse bool');
  // By hand: [[1, 2, 3], [4, 5, 6]] reversed along both axes.
  await tf.setBackend('wasm');
  registerKernels('wasm');
  assert.deepEqual(Array.from(tf.tidy(() => tf.reverse(tf.tensor2d([[1, 2, 3], [4, 5, 6]]), [0, 1]).dataSync())), [6, 5, 4, 3, 2, 1]);
});

test('patched Concat equals cpu on every axis (blocks shorter and longer than 64, empty inputs, int32)', async () => {
  const a = [2, 3, 4, 8];
  for (let axis = 0; axis < 4; axis++) {
    const b = [...a];
    b[axis] = 2 * (b[axis] as number) + 1;
    const c = [...a];
    c[axis] = 0;
    await same(() => tf.concat([tf.tensor(values(a, 1), a), tf.tensor(values(b, 2), b), tf.tensor([], c)], axis), `concat axis ${axis}`);
  }
  const wide = [2, 3, 80];
  await same(() => tf.concat([tf.tensor(values(wide, 3), wide), tf.tensor(values(wide, 4), wide)], 2), 'concat long blocks');
  await same(() => tf.concat([tf.tensor([1, 2, 3, 4], [2, 2], 'int32'), tf.tensor([5, 6], [2, 1], 'int32')], 1), 'concat int32');
  await same(() => tf.concat([tf.tensor([1, 2], [2, 1]), tf.tensor([], [2, 0])], 1), 'concat with one non-empty input');
});

test('patched reductions, matMul with transpose flags and Identity equal cpu', async () => {
  const shape = [2, 3, 4, 5, 6];
  const v = values(shape, 2);
  for (const axes of [[0, 1, 2, 3], [1, 2, 3], [4], [0, 4], [1, 3], [0, 1, 2, 3, 4]]) {
    for (const keep of [false, true]) {
      await same(() => tf.sum(tf.tensor(v, shape), axes, keep), `sum ${axes} ${keep}`, 1e-5);
      await same(() => tf.mean(tf.tensor(v, shape), axes, keep), `mean ${axes} ${keep}`, 1e-5);
      await same(() => tf.max(tf.tensor(v, shape), axes, keep), `max ${axes} ${keep}`);
      await same(() => tf.min(tf.tensor(v, shape), axes, keep), `min ${axes} ${keep}`);
    }
  }
  const a = values([7, 5], 3);
  const b = values([7, 4], 4);
  await same(() => tf.matMul(tf.tensor(a, [7, 5]), tf.tensor(b, [7, 4]), true, false), 'matMul tA', 1e-5);
  await same(() => tf.matMul(tf.tensor(b, [7, 4]), tf.tensor(a, [7, 5]), true, false), 'matMul tA 2', 1e-5);
  await same(() => tf.matMul(tf.tensor(a, [7, 5]), tf.tensor(a, [7, 5]), false, true), 'matMul tB', 1e-5);
  await same(() => tf.matMul(tf.tensor(a, [5, 7]), tf.tensor(a, [7, 5]), true, true), 'matMul tA tB', 1e-5);
  // Identity shares memory: the clone survives disposing the original and keeps its values
  await tf.setBackend('wasm');
  const x = tf.tensor(v, shape);
  const c = tf.clone(x);
  x.dispose();
  assert.deepEqual(Array.from(c.dataSync()), Array.from(v));
  c.dispose();
});

test('every kernel file of src/engine/kernels is in the registration list (src/engine/register-kernels.ts)', async () => {
  // Kernel files are named after their kernel (tfjs-backend-wasm's convention); segloss's own
  // kernels carry the prefix 'Segloss' in their kernel name. Helpers have lower-case names.
  const files = readdirSync(path.join(REPO_ROOT, 'src', 'engine', 'kernels')).filter((f) => /^[A-Z_].*\.ts$/.test(f)).map((f) => f.slice(0, -3));
  const wasm = kernelNames('wasm');
  for (const f of files) assert.ok(wasm.includes(f) || wasm.includes(`Segloss${f}`), `src/engine/kernels/${f}.ts is not registered`);
  assert.equal(wasm.length, files.length);
  assert.deepEqual(kernelNames('cpu'), ['SeglossInstanceNormLeakyRelu', 'SeglossInstanceNormLeakyReluGrad']);
  await tf.setBackend('wasm');
  registerKernels('wasm');
  for (const name of wasm) assert.ok(tf.getKernel(name, 'wasm') !== undefined, name);
});
