import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers.js';
import type { Vec3 } from '../../src/util/vec3.js';
import { nonzeroMask, cropToNonzero, fillHoles, boundingBox, cropArray, pasteArray, type CropBox } from '../../src/preprocess/crop.js';
import { foregroundSamples, intensityStats, percentileSorted } from '../../src/preprocess/fingerprint.js';
import { normalizeCT, normalizeZScore, useNonzeroMask } from '../../src/preprocess/normalize.js';

type Stats = Record<'median' | 'mean' | 'sd' | 'mn' | 'mx' | 'percentile_99_5' | 'percentile_00_5', number>;
const ref = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/preprocess/crop_stats_numpy.json'), 'utf8')) as {
  shape: Vec3; image: number[]; seg: number[]; mask: number[]; bbox: CropBox; croppedSeg: number[]; samples: number[];
  big: number[]; bigStats: Stats; sampleStats: Stats; ct: number[]; zMasked: number[]; zAll: number[];
};

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  assert.equal(actual.length, expected.length);
  for (let x = 0; x < actual.length; x++) {
    const e = expected[x] as number;
    assert.ok(Math.abs((actual[x] as number) - e) <= tol * Math.max(1, Math.abs(e)), `index ${x}: ${actual[x]} vs ${e}`);
  }
}

test('non-zero mask with filled holes equals scipy binary_fill_holes', () => {
  assert.deepEqual(Array.from(nonzeroMask([ref.image], ref.shape)), ref.mask);
});

test('fill holes: a hollow cube is filled, an open one is not', () => {
  const shape: Vec3 = [5, 5, 5];
  const m = new Uint8Array(125);
  for (let k = 1; k < 4; k++) for (let j = 1; j < 4; j++) for (let i = 1; i < 4; i++) m[i + 5 * (j + 5 * k)] = 1;
  m[2 + 5 * (2 + 5 * 2)] = 0;
  assert.equal(fillHoles(m, shape)[62], 1);
  m[2 + 5 * (2 + 5 * 1)] = 0; // open a channel to the hole along k
  m[2 + 5 * (2 + 5 * 0)] = 0;
  assert.equal(fillHoles(m, shape)[62], 0);
});

test('crop box and −1 outside the mask equal nnU-Net crop_to_nonzero', () => {
  const c = cropToNonzero([ref.image], ref.seg, ref.shape);
  assert.ok(c !== null);
  assert.deepEqual(c.box, ref.bbox);
  assert.deepEqual(Array.from(c.seg), ref.croppedSeg);
  assert.equal(cropToNonzero([new Float32Array(8)], undefined, [2, 2, 2]), null);
});

test('crop then paste is the identity inside the box', () => {
  const shape: Vec3 = [4, 3, 2];
  const data = Float32Array.from({ length: 24 }, (_, x) => x + 1);
  const box: CropBox = [[1, 3], [0, 2], [1, 2]];
  const c = cropArray(data, shape, box);
  assert.deepEqual(Array.from(c), [14, 15, 18, 19]);
  const back = new Float32Array(24);
  pasteArray(c, box, back, shape);
  assert.equal(back[13], 14);
  assert.equal(back[0], 0);
  assert.deepEqual(boundingBox(back, shape), box);
});

test('foreground samples every 10th voxel in storage order and pooled statistics equal numpy', () => {
  const c = cropToNonzero([ref.image], ref.seg, ref.shape);
  assert.ok(c !== null);
  const s = foregroundSamples(c.channels[0] as Float32Array, c.seg);
  close(s, ref.samples, 1e-6);
  const st = intensityStats(ref.big);
  for (const key of Object.keys(ref.bigStats) as (keyof Stats)[]) close([st[key]], [ref.bigStats[key]], 1e-9);
  assert.equal(st.samples, ref.big.length);
  assert.equal(percentileSorted([1, 2, 3, 4], 50), 2.5);
});

test('CT and z-score normalisation equal numpy', () => {
  const c = cropToNonzero([ref.image], ref.seg, ref.shape);
  assert.ok(c !== null);
  const ct = Float32Array.from(c.channels[0] as Float32Array);
  normalizeCT(ct, ref.bigStats);
  close(ct, ref.ct, 1e-5);
  const zm = Float32Array.from(c.channels[0] as Float32Array);
  normalizeZScore(zm, c.seg);
  close(zm, ref.zMasked, 1e-5);
  const za = Float32Array.from(c.channels[0] as Float32Array);
  normalizeZScore(za);
  close(za, ref.zAll, 1e-5);
  assert.equal(useNonzeroMask([0.5, 0.7, 0.9]), true);
  assert.equal(useNonzeroMask([0.8, 0.7, 0.9]), false);
});
