import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Vec3 } from '../../src/util/vec3.js';
import { diagonalAffine } from '../../src/data/geometry.js';
import { restoreToOriginal, preprocessedAffine, type CaseMeta } from '../../src/preprocess/index.js';

function meta(overrides: Partial<CaseMeta>): CaseMeta {
  const affine = diagonalAffine([1, 1, 1]);
  return {
    id: 'x',
    cropBox: [[1, 3], [0, 2], [0, 1]],
    originalShape: [4, 2, 1],
    originalSpacingMm: [1, 1, 1],
    shapeAfterCrop: [2, 2, 1],
    shapeAfterResample: [2, 2, 1],
    spacingAfterResampleMm: [1, 1, 1],
    separateZAxis: null,
    affine,
    geometry: { qformCode: 1, sformCode: 1, quatern: [0, 0, 0, 0, 0, 0], pixdim: [1, 1, 1, 1, 0, 0, 0, 0], srow: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], xyztUnits: 10 },
    classes: [0, 1],
    ...overrides,
  };
}

test('restoreToOriginal pastes probabilities into the crop box, background 1 outside', () => {
  // 2 classes on a 2×2×1 grid (no resampling needed), original 4×2×1 with crop i ∈ [1, 3).
  const probs = Float32Array.from([0.9, 0.2, 0.3, 0.6, /* class 1 */ 0.1, 0.8, 0.7, 0.4]);
  const out = restoreToOriginal(probs, 2, [2, 2, 1], meta({}));
  assert.deepEqual(Array.from(out).map((v) => Number(v.toFixed(6))), [1, 0.9, 0.2, 1, 1, 0.3, 0.6, 1, 0, 0.1, 0.8, 0, 0, 0.7, 0.4, 0]);
  assert.throws(() => restoreToOriginal(probs, 3, [2, 2, 1], meta({})), /values for 3 classes/);
});

test('restoreToOriginal resamples linearly back to the cropped shape (grid convention)', () => {
  // One axis 2 → 4: linear grid-mode interpolation at x = (o + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25.
  const probs = Float32Array.from([0, 1, /* class 1 */ 1, 0]);
  const m = meta({ cropBox: [[0, 4], [0, 1], [0, 1]], originalShape: [4, 1, 1], shapeAfterCrop: [4, 1, 1], shapeAfterResample: [2, 1, 1] });
  const out = restoreToOriginal(probs, 2, [2, 1, 1], m);
  assert.deepEqual(Array.from(out), [0, 0.25, 0.75, 1, 1, 0.75, 0.25, 0]);
});

test('the preprocessed grid keeps directions, uses the target spacing and puts voxel 0 where resampling does', () => {
  const affine = diagonalAffine([0.7, 0.7, 5], [10, 20, 30]);
  const shapeCrop: Vec3 = [100, 80, 20];
  const shapeOut: Vec3 = [88, 70, 40];
  const a = preprocessedAffine(affine, [[4, 104], [0, 80], [2, 22]], shapeCrop, shapeOut, [0.8, 0.8, 2.5]);
  assert.deepEqual([a[0]![0], a[1]![1], a[2]![2]], [0.8, 0.8, 2.5]);
  // voxel 0 ↔ original index lo + 0.5·(n_crop/n_out) − 0.5
  const p = [4 + 0.5 * (100 / 88) - 0.5, 0.5 * (80 / 70) - 0.5, 2 + 0.5 * (20 / 40) - 0.5];
  assert.ok(Math.abs(a[0]![3]! - (10 + 0.7 * p[0]!)) < 1e-12);
  assert.ok(Math.abs(a[1]![3]! - (20 + 0.7 * p[1]!)) < 1e-12);
  assert.ok(Math.abs(a[2]![3]! - (30 + 5 * p[2]!)) < 1e-12);
});
