/**
 * Gaussian filtering (src/ndimage/gaussian.ts) against scipy.ndimage: the kernel of
 * `_gaussian_kernel1d(1, 0, 4)` and `gaussian_filter(mode='constant')` on a random volume (fixture
 * test/fixtures/ndimage/ndimage_reference.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers.js';
import type { Vec3 } from '../../src/util/vec3.js';
import { gaussianFilter, gaussianKernel, gaussianRadius, gaussianWeights } from '../../src/ndimage/gaussian.js';

const ref = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/ndimage/ndimage-reference.json'), 'utf8')) as {
  shape: Vec3; volume: number[]; gaussian: { sigma: number; filtered: number[] }; coords: number[][]; order1: number[]; order3: number[];
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let n = 0; n < b.length; n++) m = Math.max(m, Math.abs((a[n] as number) - (b[n] as number)));
  return m;
}

test('Gaussian kernel equals scipy\'s (sigma 1, truncate 4: 9 taps); the unnormalised weights are 1 at the centre', () => {
  // scipy.ndimage._filters._gaussian_kernel1d(1.0, 0, 4), scipy 1.17.1
  const scipy = [0.00013383062461474175, 0.0044318616200312655, 0.05399112742070441, 0.24197144565660073, 0.39894346935609776, 0.24197144565660073, 0.05399112742070441, 0.0044318616200312655, 0.00013383062461474175];
  const k = gaussianKernel(1);
  assert.equal(k.length, 9);
  for (let n = 0; n < 9; n++) assert.ok(Math.abs((k[n] as number) - (scipy[n] as number)) < 1e-15, `tap ${n}`);
  assert.equal(gaussianRadius(2.3), 9); // ⌊9.2 + 0.5⌋
  const w = gaussianWeights(2);
  assert.equal(w[8], 1);
  assert.equal(w[9], Math.exp(-1 / 8));
});

test('Gaussian filter with constant borders equals scipy.ndimage.gaussian_filter', () => {
  const data = Float32Array.from(ref.volume);
  gaussianFilter(data, ref.shape, ref.gaussian.sigma, 'constant');
  assert.ok(maxAbsDiff(data, ref.gaussian.filtered) < 1e-6);
});

test('Gaussian filter leaves axes of size 1 alone (a 2D field stored as [ni, nj, 1])', () => {
  const data = Float32Array.from({ length: 5 * 4 }, (_, q) => (q % 7) - 3);
  const asPlane = Float32Array.from(data);
  gaussianFilter(asPlane, [5, 4, 1], 1.5, 'constant');
  const as2D = Float32Array.from(data);
  gaussianFilter(as2D, [5, 4], 1.5, 'constant');
  assert.deepEqual(Array.from(asPlane), Array.from(as2D));
});
