import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Vec3 } from '../../src/util/vec3.js';
import { Rng } from '../../src/util/rng.js';
import { roundHalfEven, isForcedForeground, cornerBounds, chooseCorner, cropPatch, sampleBatch, classVoxelIndices, type TrainingCase } from '../../src/train/sampler.js';

test('Python round (half to even) and which samples are forced to contain foreground', () => {
  assert.deepEqual([0.5, 1.5, 2.5, 1.34, 6.03, 2.6].map(roundHalfEven), [0, 2, 2, 1, 6, 3]);
  assert.deepEqual([0, 1].map((j) => isForcedForeground(j, 2)), [false, true]);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map((j) => isForcedForeground(j, 9)), [false, false, false, false, false, false, true, true, true]);
  assert.deepEqual([0].map((j) => isForcedForeground(j, 1)), [false]);
});

test('corner bounds: padding bookkeeping of DataLoader3D', () => {
  // size 50, loaded 62, final 40: need 22 → lb −11, ub 50 + 11 + 0 − 62 = −1
  assert.deepEqual(cornerBounds([50, 50, 50], [62, 62, 62], [40, 40, 40]), { lb: [-11, -11, -11], ub: [-1, -1, -1] });
  // case smaller than loaded − need: size 10, loaded 20, final 16 → need 10 (= loaded − size), lb −5, ub 10+5+0−20 = −5
  assert.deepEqual(cornerBounds([10, 100, 30], [20, 20, 21], [16, 16, 16]), { lb: [-5, -2, -2], ub: [-5, 82, 12] });
});

function makeCase(shape: Vec3, fg: (i: number, j: number, k: number) => number, id = 'c'): TrainingCase {
  const [ni, nj, nk] = shape;
  const seg = new Uint8Array(ni * nj * nk);
  const image = new Float32Array(ni * nj * nk);
  for (let k = 0; k < nk; k++) for (let j = 0; j < nj; j++) for (let i = 0; i < ni; i++) {
    seg[i + ni * (j + nj * k)] = fg(i, j, k);
    image[i + ni * (j + nj * k)] = i + 100 * j + 10000 * k;
  }
  return { id, shape, channels: 1, image, seg, classVoxels: classVoxelIndices(seg, 3) };
}

test('forced samples are centred on a voxel of a foreground class, uniformly over present classes', () => {
  // class 1: one voxel at (40, 5, 20); class 2: a slab of 200 voxels; sizes differ, classes are chosen uniformly.
  const c = makeCase([60, 30, 40], (i, j, k) => (i === 40 && j === 5 && k === 20 ? 1 : k === 3 && j < 10 && i < 20 ? 2 : 0));
  const loaded: Vec3 = [24, 24, 24];
  const final: Vec3 = [16, 16, 16];
  const rng = new Rng(4);
  let hitsClass1 = 0;
  const n = 2000;
  for (let t = 0; t < n; t++) {
    const corner = chooseCorner(c, loaded, final, true, rng);
    const p = cropPatch(c, corner, loaded);
    // The voxel sits at the patch centre except on axis j, where the lower clamp (lb = −4) shifts it.
    const centre = 12 + 24 * (9 + 24 * 12);
    const labels = new Set(p.seg);
    assert.ok(labels.has(1) || labels.has(2), 'forced patch contains foreground');
    if (corner[0] === 28 && corner[1] === Math.max(-4, 5 - 12) && corner[2] === 8) {
      hitsClass1++;
      assert.equal(p.seg[centre], 1, 'the selected voxel sits at the patch centre (shifted by the lower clamp on j)');
    }
  }
  assert.ok(Math.abs(hitsClass1 / n - 0.5) < 0.05, `class 1 chosen ${hitsClass1}/${n}`);
});

test('random samples: corners uniform over [lb, ub]; padding 0 for images and −1 for labels', () => {
  const c = makeCase([20, 20, 20], () => 0);
  const rng = new Rng(8);
  const seen = new Set<number>();
  for (let t = 0; t < 2000; t++) {
    const corner = chooseCorner(c, [24, 24, 24], [16, 16, 16], true, rng); // no foreground → random
    const { lb, ub } = cornerBounds(c.shape, [24, 24, 24], [16, 16, 16]);
    for (let d = 0; d < 3; d++) assert.ok(corner[d]! >= lb[d]! && corner[d]! <= ub[d]!);
    seen.add(corner[0]);
  }
  assert.equal(seen.size, 1 + cornerBounds(c.shape, [24, 24, 24], [16, 16, 16]).ub[0] - cornerBounds(c.shape, [24, 24, 24], [16, 16, 16]).lb[0]);
  const p = cropPatch(c, [-2, 0, 0], [24, 24, 24]);
  assert.equal(p.seg[0], -1);
  assert.equal(p.image[0], 0);
  assert.equal(p.seg[2], 0);
  assert.equal(p.image[2 + 24 * 1], 100, 'voxel (0, 1, 0) of the case');
});

test('oversampling proportions over many batches of 2: half the samples forced, 1 random + 1 forced each', () => {
  // Foreground is 1 voxel in 8000: random patches rarely contain it, forced ones always do.
  const c = makeCase([20, 20, 20], (i, j, k) => (i === 3 && j === 3 && k === 3 ? 1 : 0));
  const rng = new Rng(1);
  let forcedWithFg = 0;
  let randomWithFg = 0;
  const batches = 500;
  for (let b = 0; b < batches; b++) {
    const batch = sampleBatch([c], 2, [12, 12, 12], [8, 8, 8], rng);
    assert.deepEqual(batch.forced, [false, true]);
    if (batch.patches[1]!.seg.includes(1)) forcedWithFg++;
    if (batch.patches[0]!.seg.includes(1)) randomWithFg++;
  }
  assert.equal(forcedWithFg, batches);
  assert.ok(randomWithFg < batches * 0.3, `random samples with foreground: ${randomWithFg}`);
});

test('outside the non-zero region background labels become −1 in patches, as nnU-Net stores them', () => {
  const c = makeCase([6, 1, 1], (i) => (i === 2 ? 1 : 0));
  c.outside = Uint8Array.from([1, 0, 1, 0, 0, 1]);
  const p = cropPatch(c, [0, 0, 0], [6, 1, 1]);
  assert.deepEqual(Array.from(p.seg), [-1, 0, 1, 0, 0, -1]);
});
