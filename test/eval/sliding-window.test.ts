import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { REPO_ROOT } from '../helpers.js';
import type { Vec3 } from '../../src/util/vec3.js';
import { argmaxClasses, gaussianImportanceMap, slidingWindowPredict, windowStarts, type PatchPredictor } from '../../src/eval/sliding-window.js';

const reference = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'eval', 'sliding-window-reference.json'), 'utf8')) as {
  gaussian: { patch_ijk: Vec3; values_i_fastest: number[] };
  window_starts: { patch: Vec3; size: Vec3; starts: number[][] }[];
};

before(async () => {
  await tf.setBackend('cpu');
});

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** Two-class model: logits (0, f(x)) where f is a tensor function of the window. */
function twoClass(f: (x: tf.Tensor5D) => tf.Tensor): PatchPredictor {
  return {
    predict: (x) => tf.tidy(() => {
      const fg = f(x);
      return tf.concat([tf.zerosLike(fg), fg], 4) as tf.Tensor5D;
    }),
  };
}

test('window starts equal nnU-Net compute_steps_for_sliding_window (numpy rounding)', () => {
  for (const c of reference.window_starts) {
    for (let a = 0; a < 3; a++) assert.deepEqual(windowStarts(c.size[a] as number, c.patch[a] as number, 0.5), c.starts[a], `${c.size} / ${c.patch} axis ${a}`);
  }
});

test('Gaussian importance map equals nnU-Net _get_gaussian (scipy gaussian_filter of a centred delta)', () => {
  const g = gaussianImportanceMap(reference.gaussian.patch_ijk);
  const want = reference.gaussian.values_i_fastest;
  assert.equal(g.length, want.length);
  for (let n = 0; n < g.length; n++) assert.ok(Math.abs((g[n] as number) - (want[n] as number)) <= 1e-6 * (want[n] as number), `${n}: ${g[n]} vs ${want[n]}`);
  const centre = 6 + 12 * (5 + 10 * 4);
  assert.equal(g[centre], 1);
});

/** image value = a unique function of the voxel, so misplaced stitching or padding shows. */
function coordinateImage(shape: Vec3): Float32Array {
  const [ni, nj, nk] = shape;
  const img = new Float32Array(ni * nj * nk);
  for (let k = 0; k < nk; k++) for (let j = 0; j < nj; j++) for (let i = 0; i < ni; i++) img[i + ni * (j + nj * k)] = Math.sin(0.37 * i + 0.11 * j * j - 0.23 * k + 0.05 * i * k);
  return img;
}

test('pointwise model: stitching over many windows and padding reproduce softmax per voxel, with and without TTA', () => {
  const model = twoClass((x) => tf.mul(x, 3));
  for (const [shape, patch] of [[[13, 11, 9], [6, 5, 4]], [[5, 7, 3], [8, 8, 6]]] as [Vec3, Vec3][]) {
    const img = coordinateImage(shape);
    for (const tta of [false, true]) {
      const p = slidingWindowPredict(model, img, 1, shape, patch, { tta, numClasses: 2 });
      const n = img.length;
      for (let v = 0; v < n; v++) {
        const want = sigmoid(3 * (img[v] as number));
        assert.ok(Math.abs((p[n + v] as number) - want) < 1e-5, `shape ${shape} tta ${tta} voxel ${v}: ${p[n + v]} vs ${want}`);
        assert.ok(Math.abs((p[v] as number) + (p[n + v] as number) - 1) < 1e-5);
      }
    }
  }
});

test('window-constant model: overlapping windows are blended with the Gaussian weights', () => {
  // logits (0, mean of the window): each window predicts a constant, the output is the
  // Gaussian-weighted average of the window constants covering each voxel
  const model = twoClass((x) => tf.mul(tf.onesLike(x), tf.mean(x)));
  const shape: Vec3 = [11, 6, 5];
  const patch: Vec3 = [6, 6, 5];
  const img = coordinateImage(shape);
  const p = slidingWindowPredict(model, img, 1, shape, patch, { tta: false, numClasses: 2 });
  const starts = windowStarts(11, 6); // step 2.5: round(2.5) = 2 (half to even)
  assert.deepEqual(starts, [0, 2, 5]);
  const g = gaussianImportanceMap(patch);
  const windowValue = starts.map((s) => {
    let sum = 0;
    for (let k = 0; k < 5; k++) for (let j = 0; j < 6; j++) for (let i = 0; i < 6; i++) sum += img[s + i + 11 * (j + 6 * k)] as number;
    return sigmoid(sum / 180);
  });
  const n = img.length;
  for (let k = 0; k < 5; k++) for (let j = 0; j < 6; j++) for (let i = 0; i < 11; i++) {
    let num = 0;
    let den = 0;
    starts.forEach((s, w) => {
      if (i < s || i >= s + 6) return;
      const weight = g[i - s + 6 * (j + 6 * k)] as number;
      num += weight * (windowValue[w] as number);
      den += weight;
    });
    const got = p[n + i + 11 * (j + 6 * k)] as number;
    assert.ok(Math.abs(got - num / den) < 1e-5, `(${i},${j},${k}): ${got} vs ${num / den}`);
  }
});

test('TTA averages softmax over the 8 mirrorings, each flipped back', () => {
  // logits (0, x·r(w)) with a ramp r along the W (= i) axis of the window: a flip over W sees
  // r(P−1−w), so TTA gives ½(σ(x r(w)) + σ(x r(P−1−w))); flips over D and H change nothing
  const P = 6;
  const ramp = tf.tensor5d(Float32Array.from({ length: P }, (_, w) => w - 1.5), [1, 1, 1, P, 1]);
  const model = twoClass((x) => tf.mul(x, ramp));
  const shape: Vec3 = [P, 4, 3];
  const img = coordinateImage(shape);
  const n = img.length;
  const plain = slidingWindowPredict(model, img, 1, shape, shape, { tta: false, numClasses: 2 });
  const tta = slidingWindowPredict(model, img, 1, shape, shape, { tta: true, numClasses: 2 });
  for (let v = 0; v < n; v++) {
    const w = v % P;
    const x = img[v] as number;
    assert.ok(Math.abs((plain[n + v] as number) - sigmoid(x * (w - 1.5))) < 1e-5);
    const want = 0.5 * (sigmoid(x * (w - 1.5)) + sigmoid(x * (P - 1 - w - 1.5)));
    assert.ok(Math.abs((tta[n + v] as number) - want) < 1e-5, `voxel ${v}: ${tta[n + v]} vs ${want}`);
  }
  // the 8 flips in one batch (default) or one at a time give the same result
  const sequential = slidingWindowPredict(model, img, 1, shape, shape, { tta: true, numClasses: 2, maxBatchVoxels: 1 });
  for (let v = 0; v < 2 * n; v++) assert.ok(Math.abs((sequential[v] as number) - (tta[v] as number)) < 1e-6);
  ramp.dispose();
});

test('multi-channel input and three classes; argmax; no tensor leaks', () => {
  const before = tf.memory().numTensors;
  // logits (x0, x1, −x0 − x1) per voxel
  const model: PatchPredictor = {
    predict: (x) => tf.tidy(() => {
      const [a, b] = tf.split(x, 2, 4);
      return tf.concat([a as tf.Tensor, b as tf.Tensor, tf.neg(tf.add(a as tf.Tensor, b as tf.Tensor))], 4) as tf.Tensor5D;
    }),
  };
  const shape: Vec3 = [9, 7, 6];
  const n = 9 * 7 * 6;
  const c0 = coordinateImage(shape);
  const c1 = c0.map((v, i) => Math.cos(i * 0.7) - v);
  const img = new Float32Array(2 * n);
  img.set(c0, 0);
  img.set(c1, n);
  const p = slidingWindowPredict(model, img, 2, shape, [4, 4, 4], { tta: true, numClasses: 3 });
  const labels = argmaxClasses(p, 3);
  for (let v = 0; v < n; v++) {
    const logits = [c0[v] as number, c1[v] as number, -(c0[v] as number) - (c1[v] as number)];
    const z = logits.reduce((s, l) => s + Math.exp(l), 0);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs((p[c * n + v] as number) - Math.exp(logits[c] as number) / z) < 1e-5);
    assert.equal(labels[v], logits.indexOf(Math.max(...logits)));
  }
  assert.equal(tf.memory().numTensors, before);
});
