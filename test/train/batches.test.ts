import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Vec3 } from '../../src/util/vec3.js';
import { Rng } from '../../src/util/rng.js';
import { classVoxelIndices, type TrainingCase } from '../../src/train/sampler.js';
import { makeBatch, type BatchConfig } from '../../src/train/batches.js';
import { NNUNET_AUGMENTATION, loadedPatchSize } from '../../src/train/augment.js';
import { BatchStream, sharedWorkerPool, shutdownWorkerPool } from '../../src/train/producer.js';

after(() => shutdownWorkerPool());

function toyCase(id: string, seed: number, shape: Vec3 = [24, 22, 20]): TrainingCase {
  const rng = new Rng(seed);
  const [ni, nj, nk] = shape;
  const n = ni * nj * nk;
  const seg = new Uint8Array(n);
  const image = new Float32Array(2 * n);
  const c = [rng.uniform(8, 16), rng.uniform(8, 14), rng.uniform(7, 13)];
  for (let k = 0; k < nk; k++) for (let j = 0; j < nj; j++) for (let i = 0; i < ni; i++) {
    const q = i + ni * (j + nj * k);
    const r = Math.hypot(i - c[0]!, j - c[1]!, k - c[2]!);
    seg[q] = r < 3 ? 2 : r < 6 ? 1 : 0;
    image[q] = seg[q]! + rng.normal() * 0.1;
    image[n + q] = -seg[q]!;
  }
  return { id, shape, channels: 2, image, seg, classVoxels: classVoxelIndices(seg, 3) };
}

const cases = [toyCase('a', 1), toyCase('b', 2), toyCase('c', 3)];
const config: BatchConfig = {
  seed: 7, batchSize: 2, finalPatch: [16, 16, 12], loadedPatch: loadedPatchSize([16, 16, 12], NNUNET_AUGMENTATION, null),
  augmentation: { ...NNUNET_AUGMENTATION, dataOrder: 1 }, sliceAxis: null, numClasses: 3, distanceMaps: 'signed', spacingMm: [1, 1, 2],
};

test('a batch is a pure function of (seed, kind, index): layout [B,k,j,i,C], labels in range, distance maps', () => {
  const a = makeBatch(cases, config, 'train', 5);
  const b = makeBatch(cases, config, 'train', 5);
  assert.deepEqual(a.image, b.image);
  assert.deepEqual(a.labels, b.labels);
  assert.deepEqual(a.shape, [2, 12, 16, 16, 2]);
  assert.equal(a.image.length, 2 * 12 * 16 * 16 * 2);
  for (const l of a.labels) assert.ok(l >= 0 && l < 3);
  assert.equal(a.distanceMaps?.length, 2 * 12 * 16 * 16 * 3);
  assert.notDeepEqual(makeBatch(cases, config, 'train', 6).image, a.image);
  // Sample 1 of each batch is forced: it contains foreground.
  const v = makeBatch(cases, config, 'val', 0);
  const second = v.labels.subarray(12 * 16 * 16);
  assert.ok(second.some((l) => l > 0));
  // Channels interleaved last: channel 1 = −label exactly in validation batches (no augmentation).
  for (let q = 0; q < 12 * 16 * 16 * 2; q++) assert.equal(v.image[2 * q + 1], -(v.labels[q] as number));
});

test('worker threads produce exactly the in-process batches, in sequence order, across epochs', async () => {
  const pool = sharedWorkerPool(2);
  const viaWorkers = new BatchStream(cases, cases, config, 3, 2, 1, pool, 4);
  const inline = new BatchStream(cases, cases, config, 3, 2, 1, null, 4);
  for (let n = 0; n < 12; n++) {
    const w = await viaWorkers.next();
    const s = await inline.next();
    assert.deepEqual(w.slot, s.slot);
    assert.deepEqual(w.batch.labels, s.batch.labels);
    assert.deepEqual(w.batch.image, s.batch.image);
    assert.deepEqual(w.batch.distanceMaps, s.batch.distanceMaps);
  }
  // Epoch 1 starts at slot 5: train 3,4,5, val (1,0), (1,1); then epoch 2.
  assert.deepEqual(viaWorkers.slot(5), { epoch: 1, kind: 'train', step: 0, index: 3 });
  assert.deepEqual(viaWorkers.slot(8), { epoch: 1, kind: 'val', step: 0, index: 1_000_000 });
  await viaWorkers.close();
  await inline.close();
  assert.ok(viaWorkers.makeMillis > 0);
});
