/**
 * `segloss evaluate --split` on a task whose plan has a label_map: the raw references hold the
 * dataset's values (MSD liver: 0 background, 1 liver, 2 tumour), which preprocessing merged for
 * training (label_map {1: 1, 2: 1}: the study's liver task, liver + tumour); evaluation must merge
 * them the same way, so a prediction equal to the merged mask scores DSC 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runSegloss, tempDir } from '../helpers.js';
import { makeVolume, writeNiftiSync } from '../../src/data/nifti.js';
import { PREPROCESS_VERSION } from '../../src/preprocess/plans.js';
import { AFFINE, SHAPE, index, reference } from './input-fixture.js';

test('evaluate --split applies the plan\'s label_map to the references: the merged mask scores DSC 1', () => {
  const root = tempDir('segloss-eval-label-map-');
  const dataset = path.join(root, 'Dataset003_Liver');
  // Reference: the 40-voxel box of label 1 with 4 of its voxels tumour (2).
  const gt = reference();
  for (const i of [2, 3, 4, 5]) gt[index(i, 3, 1)] = 2;
  const merged = gt.map((v) => (v === 0 ? 0 : 1));
  writeNiftiSync(path.join(dataset, 'imagesTr', 'liver_1_0000.nii.gz'), makeVolume(new Float32Array(gt.length), SHAPE, AFFINE));
  writeNiftiSync(path.join(dataset, 'labelsTr', 'liver_1.nii.gz'), makeVolume(gt, SHAPE, AFFINE));
  writeFileSync(path.join(dataset, 'dataset.json'), JSON.stringify({ channel_names: { 0: 'CT' }, labels: { background: 0, liver: 1, tumour: 2 }, numTraining: 1, file_ending: '.nii.gz' }));
  const pre = path.join(root, 'pre');
  mkdirSync(pre, { recursive: true });
  // The fields evaluation reads (dataset_dir, labels, label_map) and the ones loadPlans requires.
  writeFileSync(path.join(pre, 'plans.json'), JSON.stringify({
    version: PREPROCESS_VERSION, task: 'liver', dataset_dir: dataset, modalities: ['CT'],
    labels: [{ value: 0, name: 'background' }, { value: 1, name: 'liver' }], numClasses: 2, label_map: { 1: 1, 2: 1 },
    target_spacing_mm: [1, 1, 2], patch_size: [8, 8, 4], batch_size: 1, network: {}, normalization: {}, cases: [],
  }));
  writeFileSync(path.join(pre, 'splits.json'), JSON.stringify({ seed: 1, test: ['liver_1'], folds: [{ train: [], val: [] }] }));
  const pred = path.join(root, 'pred');
  writeNiftiSync(path.join(pred, 'liver_1.nii.gz'), makeVolume(merged, SHAPE, AFFINE));
  const out = path.join(root, 'out');
  const r = runSegloss(['evaluate', '--pred', pred, '--split', 'test', '--preprocessed', pre, '--out', out, '--workers', '1']);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(readFileSync(path.join(out, 'segloss_summary.json'), 'utf8')) as { foreground_mean: { dsc: number }; labels: number[] };
  assert.equal(summary.foreground_mean.dsc, 1);
  assert.deepEqual(summary.labels, [1]);
});
