import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Vec3 } from '../../src/util/vec3.js';
import { NNUNET_V1_DEFAULTS, planExperiment, poolLateV2, vramProxy, padShape, topologyFromPlan } from '../../src/preprocess/plan.js';

function uniform(spacing: Vec3, shape: Vec3, cases: number, numClasses: number) {
  return { spacingsMm: Array.from({ length: cases }, () => spacing), shapesAfterCrop: Array.from({ length: cases }, () => shape), numModalities: 1, numClasses };
}

test('liver-like fingerprint plans 128³, batch 2, five 2×2×2 pools, batch Dice (nnU-Net V1 planner, worked example)', () => {
  const p = planExperiment(uniform([0.7676, 0.7676, 1.0], [512, 512, 432], 131, 3), NNUNET_V1_DEFAULTS);
  assert.deepEqual(p.patchSize, [128, 128, 128]);
  assert.equal(p.batchSize, 2);
  assert.deepEqual(p.numPoolPerAxis, [5, 5, 5]);
  assert.deepEqual(p.poolKernelSizes, Array.from({ length: 5 }, () => [2, 2, 2]));
  assert.ok(p.convKernelSizes.every((k) => k.every((x) => x === 3)));
  assert.equal(p.vramProxy, 427_040_768);
  assert.equal(p.numStages, 2);
  assert.equal(p.batchDice, true);
});

test('pancreas-like fingerprint plans 40×224×192 (z,y,x) with late pooling and 1×3×3 kernels (nnU-Net V1 planner, worked example)', () => {
  const p = planExperiment(uniform([0.8, 0.8, 2.5], [512, 512, 93], 281, 3), NNUNET_V1_DEFAULTS);
  assert.deepEqual(p.patchSize, [192, 224, 40]); // (i, j, k) = reversed (z, y, x)
  assert.equal(p.batchSize, 2);
  assert.deepEqual(p.numPoolPerAxis, [5, 5, 3]);
  assert.deepEqual(p.poolKernelSizes, [[2, 2, 1], [2, 2, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2]]);
  assert.deepEqual(p.convKernelSizes[0], [3, 3, 1]);
  assert.deepEqual(p.convKernelSizes.slice(2), Array.from({ length: 4 }, () => [3, 3, 3]));
  assert.equal(p.doDummy2DDataAug, true);
  assert.deepEqual(p.transposeForward, [0, 1, 2]);
});

test('hippocampus-like fingerprint plans 40×56×40 with batch 9, one stage, sample Dice (nnU-Net V1 planner, worked example)', () => {
  const p = planExperiment(uniform([1, 1, 1], [35, 50, 36], 260, 3), NNUNET_V1_DEFAULTS);
  assert.deepEqual(p.patchSize, [40, 56, 40]);
  assert.equal(p.batchSize, 9);
  assert.deepEqual(p.numPoolPerAxis, [3, 3, 3]);
  assert.equal(p.numStages, 1);
  assert.equal(p.batchDice, false);
  const topo = topologyFromPlan(p, NNUNET_V1_DEFAULTS, 1, 3);
  assert.deepEqual(topo.stages.map((s) => s.features), [30, 60, 120, 240]);
  assert.deepEqual(topo.stages[0]?.stride, [1, 1, 1]);
  assert.deepEqual(topo.stages[1]?.stride, [2, 2, 2]);
});

test('median spacing target and transposition of the coarsest axis', () => {
  const p = planExperiment(
    { spacingsMm: [[3, 1, 1], [4, 1, 1], [5, 1.2, 1]], shapesAfterCrop: [[20, 60, 60], [20, 60, 60], [20, 60, 60]], numModalities: 1, numClasses: 2 },
    NNUNET_V1_DEFAULTS,
  );
  assert.deepEqual(p.targetSpacingMm, [4, 1, 1]);
  assert.deepEqual(p.transposeForward, [2, 0, 1]); // (z,y,x) axis 2 = i is the coarsest
  assert.deepEqual(p.transposeBackward, [1, 2, 0]);
});

test('pool/conv props, padding and the VRAM proxy by hand', () => {
  assert.deepEqual(padShape([36, 50, 35], [8, 8, 8]), [40, 56, 40]);
  assert.deepEqual(padShape([48, 40], [8, 8]), [48, 40]);
  const pc = poolLateV2([24, 48, 48], 4, 999, [2.5, 0.8, 0.8]);
  assert.deepEqual(pc.numPoolPerAxis, [2, 3, 3]);
  assert.deepEqual(pc.poolKernelSizes, [[1, 2, 2], [2, 2, 2], [2, 2, 2]]);
  assert.deepEqual(pc.convKernelSizes, [[1, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3]]);
  // P = 8: 5·8·2 + (1 + 2)·8 = 104; pool → 1 voxel, 4 features, 2 blocks: + 2·1·4 = 112.
  assert.equal(vramProxy([2, 2, 2], [[2, 2, 2]], 2, 320, 1, 2), 112);
});
