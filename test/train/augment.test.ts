import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Vec3 } from '../../src/util/vec3.js';
import { Rng } from '../../src/util/rng.js';
import {
  NNUNET_AUGMENTATION, loadedPatchSize, spatialTransform,
  applyGamma, mirrorPatch, augmentPatch, centreCrop, dummy2DAxis, rotationMatrix, applyMask, type AugmentationParams,
} from '../../src/train/augment.js';
import type { Patch } from '../../src/train/sampler.js';

test('loaded patch size follows batchgenerators get_patch_size (values from the python algorithm)', () => {
  const p = NNUNET_AUGMENTATION;
  assert.deepEqual(loadedPatchSize([128, 128, 128], p, null), [184, 184, 184]);
  assert.deepEqual(loadedPatchSize([40, 56, 40], p, null), [62, 75, 57]);
  assert.deepEqual(loadedPatchSize([64, 64, 64], p, null), [92, 92, 92]);
  assert.deepEqual(loadedPatchSize([32, 48, 48], p, null), [50, 69, 64]);
  // Dummy 2D: slice axis kept, in-plane with the ±180° (capped at 90°) rotation.
  assert.deepEqual(loadedPatchSize([224, 192, 40], p, 2), [263, 263, 40]);
  assert.deepEqual(loadedPatchSize([40, 64, 48], p, 0), [40, 75, 75]);
});

test('dummy-2D rule: largest patch edge more than 3x the edge along the coarsest axis', () => {
  assert.equal(dummy2DAxis([192, 224, 40], [0.8, 0.8, 5]), 2);
  assert.equal(dummy2DAxis([64, 64, 32], [0.8, 0.8, 2.5]), null);
  assert.equal(dummy2DAxis([48, 48, 48], [1, 1, 1]), null);
});

/** A known volume: a 20×18×16 box, label 1 in a centred ball of radius 5, label 2 in a small cube, intensities = label·10 + i/100. */
function knownPatch(shape: Vec3 = [20, 18, 16]): Patch {
  const [ni, nj, nk] = shape;
  const n = ni * nj * nk;
  const image = new Float32Array(n);
  const seg = new Int8Array(n);
  for (let k = 0; k < nk; k++) for (let j = 0; j < nj; j++) for (let i = 0; i < ni; i++) {
    const q = i + ni * (j + nj * k);
    const r2 = (i - (ni - 1) / 2) ** 2 + (j - (nj - 1) / 2) ** 2 + (k - (nk - 1) / 2) ** 2;
    let l = r2 <= 25 ? 1 : 0;
    if (i >= 2 && i < 5 && j >= 2 && j < 5 && k >= 2 && k < 5) l = 2;
    seg[q] = l;
    image[q] = l * 10 + i / 100;
  }
  return { shape, channels: 1, image, seg };
}

const count = (seg: Int8Array, l: number) => seg.reduce((s, v) => s + (v === l ? 1 : 0), 0);

test('no spatial draw: the loaded patch is centre-cropped exactly', () => {
  const p = knownPatch();
  const out = spatialTransform(p, [10, 8, 6], { elastic: null, rotation: null, scale: null }, null, 3, new Rng(1));
  assert.deepEqual(out.shape, [10, 8, 6]);
  // start = floor((20-10)/2)=5, floor((18-8)/2)=5, floor((16-6)/2)=5
  assert.equal(out.image[0], p.image[5 + 20 * (5 + 18 * 5)]);
  assert.deepEqual(out, centreCrop(p, [10, 8, 6]));
});

test('scaling by s changes a ball volume by about 1/s^3; labels stay in the label set', () => {
  const p = knownPatch([31, 31, 31]);
  const full = count(p.seg, 1);
  for (const s of [0.85, 1.25]) {
    const out = spatialTransform(p, [31, 31, 31], { elastic: null, rotation: null, scale: s }, null, 1, new Rng(1));
    const ratio = count(out.seg, 1) / full;
    assert.ok(Math.abs(ratio - 1 / s ** 3) < 0.12 / s ** 3, `scale ${s}: volume ratio ${ratio} vs ${1 / s ** 3}`);
    for (const v of out.seg) assert.ok(v >= -1 && v <= 2);
  }
});

test('rotation preserves geometry: a centred ball keeps its volume, 90° about an axis permutes the other two', () => {
  const p = knownPatch([31, 31, 31]);
  const full = count(p.seg, 1);
  const out = spatialTransform(p, [31, 31, 31], { elastic: null, rotation: [0.2, -0.25, 0.1], scale: null }, null, 1, new Rng(1));
  assert.ok(Math.abs(count(out.seg, 1) - full) <= 0.05 * full);
  // Rotation by exactly 90° about axis 0: v·Rx maps (x, y, z) to (x, y cos + z sin, −y sin + z cos) = (x, z, −y).
  const m = rotationMatrix(Math.PI / 2, 0, 0);
  assert.ok(Math.abs((m[5] as number) + 1) < 1e-12 && Math.abs((m[7] as number) - 1) < 1e-12);
  const cube = knownPatch([21, 21, 21]);
  const rot = spatialTransform(cube, [21, 21, 21], { elastic: null, rotation: [Math.PI / 2, 0, 0], scale: null }, null, 1, new Rng(1));
  // output (i, j, k) samples input coords (i, c + (k − c), c − (j − c)) with c = 10
  for (const [i, j, k] of [[3, 3, 17], [3, 4, 16], [12, 9, 2]] as Vec3[]) {
    const src = cube.seg[i + 21 * (10 + (k - 10) + 21 * (10 - (j - 10)))];
    assert.equal(rot.seg[i + 21 * (j + 21 * k)], src, `voxel ${i},${j},${k}`);
  }
});

test('elastic deformation keeps the label set and roughly the volume of a large structure', () => {
  const p = knownPatch([31, 31, 31]);
  const full = count(p.seg, 1);
  const out = spatialTransform(p, [31, 31, 31], { elastic: { alpha: 300, sigma: 10 }, rotation: null, scale: null }, null, 1, new Rng(5));
  const got = count(out.seg, 1);
  assert.ok(Math.abs(got - full) < 0.35 * full, `${got} vs ${full}`);
  assert.notDeepEqual(out.seg, centreCrop(p, [31, 31, 31]).seg, 'the deformation moved something');
  for (const v of out.seg) assert.ok(v >= -1 && v <= 2);
});

test('gamma keeps min/max order, the mean and the std of each channel; labels untouched', () => {
  const rng = new Rng(9);
  const x = new Float32Array(1000).map(() => rng.normal() * 2 + 1);
  const before = Array.from(x);
  const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
  const std = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + (v - mean(a)) ** 2, 0) / a.length);
  const [gamma] = applyGamma(x, 1, [0.7, 1.5], new Rng(2));
  assert.ok(gamma! >= 0.7 && gamma! <= 1.5 && gamma !== 1);
  assert.ok(Math.abs(std(x) - std(before)) < 1e-3);
  // The original's two-step restore gives mean μ0/(σ+1e-8)·σ0, equal to μ0 only up to the rescale.
  assert.ok(Math.abs(mean(x) - mean(before)) < 0.2);
  const order = (a: number[]) => a.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0]).map((p) => p[1]);
  assert.deepEqual(order(Array.from(x)), order(before), 'monotone');
});

test('mirroring flips image and labels together and twice is the identity', () => {
  const p = knownPatch([5, 4, 3]);
  const copy = { ...p, image: Float32Array.from(p.image), seg: Int8Array.from(p.seg) };
  mirrorPatch(copy, [0, 2]);
  assert.equal(copy.image[0], p.image[4 + 5 * (0 + 4 * 2)]);
  assert.equal(copy.seg[0], p.seg[4 + 5 * (0 + 4 * 2)]);
  mirrorPatch(copy, [2, 0]);
  assert.deepEqual(copy, p);
});

test('full pipeline: final shape, labels in {0,1,2} (padding removed), every draw reproducible from the seed', () => {
  const params: AugmentationParams = { ...NNUNET_AUGMENTATION, elastic: { ...NNUNET_AUGMENTATION.elastic, p: 1 }, rotation: { ...NNUNET_AUGMENTATION.rotation, p: 1 }, scaling: { ...NNUNET_AUGMENTATION.scaling, p: 1 }, gamma: { ...NNUNET_AUGMENTATION.gamma, p: 1 } };
  const loaded = loadedPatchSize([16, 16, 12], params, null);
  const src = knownPatch(loaded);
  src.seg.fill(-1, 0, 50); // some padding
  const a = augmentPatch(src, [16, 16, 12], params, null, new Rng(42));
  const b = augmentPatch(src, [16, 16, 12], params, null, new Rng(42));
  assert.deepEqual(a.patch.shape, [16, 16, 12]);
  assert.deepEqual(a, b);
  for (const v of a.patch.seg) assert.ok(v === 0 || v === 1 || v === 2);
  assert.ok(a.record.spatial.elastic && a.record.spatial.rotation && a.record.spatial.scale && a.record.gamma);
  // Dummy 2D: same labels per slice axis transform, final shape kept.
  const d2 = augmentPatch(knownPatch(loadedPatchSize([16, 16, 4], params, 2)), [16, 16, 4], params, 2, new Rng(3));
  assert.deepEqual(d2.patch.shape, [16, 16, 4]);
  assert.equal(d2.record.spatial.rotation?.length, 1);
});

test('mask transform: channels normalised within the non-zero region become 0 where the label is −1', () => {
  const seg = Int8Array.from([-1, 0, 1, -1]);
  const patch: Patch = { shape: [4, 1, 1], channels: 2, image: Float32Array.from([5, 6, 7, 8, 1, 2, 3, 4]), seg };
  applyMask(patch, [true, false]);
  assert.deepEqual(Array.from(patch.image), [0, 6, 7, 0, 1, 2, 3, 4]);
  applyMask(patch, []);
  assert.deepEqual(Array.from(patch.image), [0, 6, 7, 0, 1, 2, 3, 4]);
});
