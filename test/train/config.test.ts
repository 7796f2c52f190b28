import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { tempDir, REPO_ROOT } from '../helpers.js';
import { loadTrainingProfile } from '../../src/train/config.js';
import { InputError, UsageError } from '../../src/util/errors.js';
import { resolveLearningRates } from '../../src/train/trainer.js';

test('paper profile holds nnUNetTrainer numbers; cpu scales the epoch-counted constants by 1/5', () => {
  const paper = loadTrainingProfile('paper');
  assert.deepEqual([paper.epochs, paper.iterations, paper.valBatches, paper.learningRate], [1000, 250, 50, 3e-4]);
  assert.deepEqual(paper.optimizer, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 3e-5 });
  assert.deepEqual(paper.schedule, { lossMaFactor: 0.93, lrFactor: 0.2, lrPatience: 30, lrThreshold: 1e-3, earlyStopPatience: 50, earlyStopEps: 5e-4, earlyStopLrThreshold: 1e-6, valMaFactor: 0.9 });
  assert.equal(paper.augmentation.dataOrder, 3);
  assert.deepEqual(paper.augmentation.elastic, { p: 0.2, alpha: [0, 900], sigma: [9, 13] });
  assert.equal(paper.planningProfile, 'paper');
  const cpu = loadTrainingProfile('cpu');
  assert.deepEqual([cpu.epochs, cpu.iterations, cpu.schedule.lrPatience, cpu.schedule.earlyStopPatience], [200, 50, 6, 10]);
  assert.ok(Math.abs(cpu.schedule.lossMaFactor - 0.93 ** 5) < 0.01);
  assert.ok(Math.abs(cpu.schedule.valMaFactor - 0.9 ** 5) < 0.01);
  assert.equal(cpu.augmentation.dataOrder, 1);
});

test('profile files: unknown keys and bad values name the file and key; planning_profile is resolved', () => {
  const dir = tempDir();
  const base = readFileSync(path.join(REPO_ROOT, 'configs/training/cpu.yaml'), 'utf8');
  const bad = path.join(dir, 'bad.yaml');
  writeFileSync(bad, base + 'epochz: 3\n');
  assert.throws(() => loadTrainingProfile(bad), (e: unknown) => e instanceof InputError && /bad\.yaml: epochz: unknown key/.test((e as Error).message));
  const bad2 = path.join(dir, 'bad2.yaml');
  writeFileSync(bad2, base.replace('iterations: 50', 'iterations: 0'));
  assert.throws(() => loadTrainingProfile(bad2), /iterations: expected a positive integer/);
  const own = path.join(dir, 'own.yaml');
  writeFileSync(own, base + 'planning_profile: cpu\n');
  assert.equal(loadTrainingProfile(own).planningProfile, 'cpu');
  assert.throws(() => loadTrainingProfile('nosuch'), UsageError);
});

test('--lr: lists, duplicates, and the search sets of the study (footnote 7 for fine-tuned losses)', () => {
  assert.deepEqual(resolveLearningRates('3e-3, 3e-4,3e-4', 'dice', 'cpu'), [3e-3, 3e-4]);
  assert.deepEqual(resolveLearningRates('search', 'dicetopk', 'cpu'), [3e-3, 3e-4, 3e-5]);
  assert.deepEqual(resolveLearningRates('search', 'dicebd', 'cpu'), [3e-4, 3e-5, 3e-6, 1e-5, 1e-6]);
  assert.equal(resolveLearningRates(undefined, 'dice', 'cpu'), undefined);
  assert.throws(() => resolveLearningRates('0', 'dice', 'cpu'), UsageError);
});
