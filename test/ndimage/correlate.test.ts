/**
 * correlate1d (src/ndimage/correlate.ts) by hand and against scipy.ndimage.correlate1d, and the
 * scanner blur of the synthetic data (src/data/synth/field.ts) built on it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { correlate1d } from '../../src/ndimage/correlate.js';
import { blur3 } from '../../src/data/synth/field.js';

const W = Float64Array.of(0.25, 0.5, 0.25);

test('correlate1d equals scipy.ndimage.correlate1d for modes nearest and constant', () => {
  // scipy: correlate1d([1, 2, 4], [0.25, 0.5, 0.25], mode='nearest') = [1.25, 2.25, 3.5]; 'constant': [1, 2.25, 2.5]
  const nearest = Float32Array.of(1, 2, 4);
  correlate1d(nearest, [3], 0, W, 'nearest');
  assert.deepEqual(Array.from(nearest), [1.25, 2.25, 3.5]);
  const constant = Float32Array.of(1, 2, 4);
  correlate1d(constant, [3], 0, W, 'constant');
  assert.deepEqual(Array.from(constant), [1, 2.25, 2.5]);
});

test('correlate1d filters along the requested axis only (i-fastest layout)', () => {
  // [2, 3] array, i fastest: rows along j are (1, 2, 4) for i = 0 and (10, 20, 40) for i = 1
  const data = Float32Array.of(1, 10, 2, 20, 4, 40);
  correlate1d(data, [2, 3], 1, W, 'nearest');
  assert.deepEqual(Array.from(data), [1.25, 12.5, 2.25, 22.5, 3.5, 35]);
  assert.throws(() => correlate1d(data, [2, 3], 0, Float64Array.of(1, 1), 'nearest'), /odd number/);
});

test('blur3 is the 3-tap formula w·left + (1 − 2w)·centre + w·right with replicated edges, bit for bit', () => {
  const rng = new Rng(8);
  const shape: [number, number, number] = [6, 5, 4];
  const weights: [number, number, number] = [0.2, 0, 0.12];
  const data = Float32Array.from({ length: 120 }, () => rng.normal());
  const want = Float32Array.from(data);
  const strides = [1, 6, 30];
  for (let axis = 0; axis < 3; axis++) {
    const w = weights[axis] as number;
    if (w === 0) continue;
    const n = shape[axis] as number;
    const stride = strides[axis] as number;
    const before = Float32Array.from(want);
    for (let q = 0; q < 120; q++) {
      const s = Math.floor(q / stride) % n;
      const left = before[q - (s > 0 ? stride : 0)] as number;
      const right = before[q + (s < n - 1 ? stride : 0)] as number;
      want[q] = w * left + (1 - 2 * w) * (before[q] as number) + w * right;
    }
  }
  blur3(data, shape, weights);
  assert.deepEqual(Array.from(data), Array.from(want));
});
