import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers.js';
import { loadProfile, globMatch } from '../../src/preprocess/profile.js';
import { planExperiment, topologyFromPlan } from '../../src/preprocess/plan.js';
import type { Vec3 } from '../../src/util/vec3.js';

const uniform = (spacing: Vec3, shape: Vec3, cases: number, numClasses: number) => ({
  spacingsMm: Array.from({ length: cases }, () => spacing),
  shapesAfterCrop: Array.from({ length: cases }, () => shape),
  numModalities: 1,
  numClasses,
});

test('paper profile is nnU-Net V1 defaults', () => {
  const p = loadProfile('paper');
  assert.equal(p.baseFeatures, 30);
  assert.equal(p.maxFeatures, 320);
  assert.equal(p.vramRef, 520_000_000);
  assert.equal(p.batchSize, null);
});

test('cpu profile: Hippocampus 40×56×40 base 16; toy tasks 32×32×16 base 8 with 4 stages', () => {
  const hip = loadProfile('cpu', ['hippocampus', 'Hippocampus']);
  assert.deepEqual(hip.appliedOverrides, []);
  const ph = planExperiment(uniform([1, 1, 1], [35, 50, 36], 260, 3), hip);
  assert.deepEqual(ph.patchSize, [40, 56, 40]);
  assert.ok(ph.patchSize.every((x) => x <= 64));
  const th = topologyFromPlan(ph, hip, 1, 3);
  assert.deepEqual(th.stages.map((s) => s.features), [16, 32, 64, 128]);
  const liver = planExperiment(uniform([0.7676, 0.7676, 1], [512, 512, 432], 131, 3), hip);
  assert.deepEqual(liver.patchSize, [64, 64, 64]);

  const toy = loadProfile('cpu', ['toy-liver']);
  assert.deepEqual(toy.appliedOverrides, ['toy-*']);
  const pt = planExperiment(uniform([0.8, 0.8, 2.5], [48, 48, 24], 40, 3), toy);
  assert.deepEqual(pt.patchSize, [32, 32, 16]);
  const tt = topologyFromPlan(pt, toy, 1, 3);
  assert.deepEqual(tt.stages.map((s) => s.features), [8, 16, 32, 64]);
  assert.deepEqual(tt.stages.map((s) => s.stride), [[1, 1, 1], [2, 2, 1], [2, 2, 2], [2, 2, 2]]);
  assert.deepEqual(tt.stages[0]?.kernelSize, [3, 3, 1]);
});

test('a profile file path works and bad keys are one-line input errors', () => {
  const dir = tempDir();
  const file = path.join(dir, 'mine.yaml');
  writeFileSync(file, 'base_features: 4\nmax_features: 32\nbatch_size: 3\n');
  const p = loadProfile(file);
  assert.equal(p.baseFeatures, 4);
  assert.equal(p.batchSize, 3);
  assert.equal(p.vramRef, 520_000_000);
  writeFileSync(file, 'base_feature: 4\n');
  assert.throws(() => loadProfile(file), /unknown key 'base_feature'/);
  assert.throws(() => loadProfile('nosuchprofile'), /unknown profile/);
  assert.ok(globMatch('toy-*', 'toy-pancreas'));
  assert.ok(!globMatch('toy-*', 'Task04_Hippocampus'));
});
