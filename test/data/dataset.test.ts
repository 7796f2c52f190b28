import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { SHARED, runSegloss, tempDir } from '../helpers.js';
import { loadDataset, loadCase, validateDataset } from '../../src/data/dataset.js';
import { readNifti, writeNiftiSync, makeVolume } from '../../src/data/nifti.js';
import { diagonalAffine } from '../../src/data/geometry.js';
import { getTask, listTasks, ensureTaskData, dataCandidates } from '../../src/data/tasks.js';
import { InputError, UsageError } from '../../src/util/errors.js';

const HIPPO = path.join(SHARED, 'data', 'Task04_Hippocampus');
const root = tempDir('segloss-dataset-');

test('Hippocampus (MSD): all 260 cases load with 1 mm spacing and labels {0, 1, 2}', async () => {
  const ds = loadDataset(HIPPO);
  assert.equal(ds.layout, 'msd');
  assert.deepEqual(ds.modalities, ['MRI']);
  assert.deepEqual(ds.labels.map((l) => l.value), [0, 1, 2]);
  assert.equal(ds.training.length, 260);
  assert.equal(ds.test.length, 0);
  const seen = new Set<number>();
  for (const c of ds.training) {
    const { image, label } = await loadCase(ds, c);
    assert.equal(image.shape.length, 3, c.id);
    assert.deepEqual(image.spacingMm, [1, 1, 1], c.id);
    assert.ok(label !== undefined);
    assert.deepEqual(label.shape, image.shape, c.id);
    assert.ok(label.data instanceof Uint8Array);
    for (const v of label.data) seen.add(v);
  }
  assert.deepEqual([...seen].sort(), [0, 1, 2]);
});

test('segloss check on Hippocampus: exit 0, 260 valid cases, RAS, 1 mm, label ratios', () => {
  const r = runSegloss(['--json', 'check', HIPPO]);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { cases: number; problems: unknown[]; orientations: Record<string, number>; spacingsMm: { min: number[]; max: number[] }; labelVoxels: { value: number; voxels: number; bgToFg: number | null }[] };
  assert.equal(report.cases, 260);
  assert.deepEqual(report.problems, []);
  assert.deepEqual(report.orientations, { RAS: 260 });
  assert.deepEqual(report.spacingsMm.min, [1, 1, 1]);
  assert.deepEqual(report.spacingsMm.max, [1, 1, 1]);
  const total = report.labelVoxels.reduce((s, l) => s + l.voxels, 0);
  const anterior = report.labelVoxels.find((l) => l.value === 1)!;
  assert.equal(anterior.bgToFg, Number(((total - anterior.voxels) / anterior.voxels).toFixed(1)));
  const human = runSegloss(['check', HIPPO]);
  assert.equal(human.status, 0);
  assert.match(human.stdout, /cases\s+260 training, 0 test; 260 valid/);
  assert.match(human.stdout, /orientation\s+RAS \(260\)/);
  assert.match(human.stdout, /no problems/);
});

/** A small nnU-Net v2 dataset with two channels, a region label, macOS `._` files and a test case. */
function makeNnunetV2(dir: string): void {
  mkdirSync(path.join(dir, 'imagesTr'), { recursive: true });
  mkdirSync(path.join(dir, 'labelsTr'), { recursive: true });
  mkdirSync(path.join(dir, 'imagesTs'), { recursive: true });
  const affine = diagonalAffine([0.5, 0.5, 1.5]);
  const shape = [4, 3, 2];
  for (const id of ['case_b', 'case_a']) {
    for (const ch of [0, 1]) writeNiftiSync(path.join(dir, 'imagesTr', `${id}_000${ch}.nii.gz`), makeVolume(new Float32Array(24).map((_, n) => n + 100 * ch), shape, affine));
    writeNiftiSync(path.join(dir, 'labelsTr', `${id}.nii.gz`), makeVolume(new Uint8Array(24).map((_, n) => n % 3), shape, affine));
  }
  for (const ch of [0, 1]) writeNiftiSync(path.join(dir, 'imagesTs', `case_t_000${ch}.nii.gz`), makeVolume(new Float32Array(24), shape, affine));
  writeFileSync(path.join(dir, 'imagesTr', '._case_a_0000.nii.gz'), 'macOS resource fork');
  writeFileSync(path.join(dir, 'labelsTr', '._case_a.nii.gz'), 'macOS resource fork');
  writeFileSync(
    path.join(dir, 'dataset.json'),
    JSON.stringify({ name: 'Tiny', channel_names: { '0': 'T1', '1': 'T2' }, labels: { background: 0, a: 1, b: 2, both: [1, 2] }, numTraining: 2, file_ending: '.nii.gz' }),
  );
}

test('nnU-Net v2 layout: channels, name→value labels, region entries and ._ files ignored, 4D case loading', async () => {
  const dir = path.join(root, 'v2');
  makeNnunetV2(dir);
  const ds = loadDataset(dir);
  assert.equal(ds.layout, 'nnunetv2');
  assert.equal(ds.name, 'Tiny');
  assert.deepEqual(ds.modalities, ['T1', 'T2']);
  assert.deepEqual(ds.labels, [{ value: 0, name: 'background' }, { value: 1, name: 'a' }, { value: 2, name: 'b' }]);
  assert.deepEqual(ds.training.map((c) => c.id), ['case_a', 'case_b']);
  assert.deepEqual(ds.training[0]!.images.map((f) => path.basename(f)), ['case_a_0000.nii.gz', 'case_a_0001.nii.gz']);
  assert.equal(path.basename(ds.training[0]!.label!), 'case_a.nii.gz');
  assert.deepEqual(ds.test.map((c) => c.id), ['case_t']);
  assert.deepEqual(await validateDataset(ds), []);
  const { image, label } = await loadCase(ds, ds.training[0]!);
  assert.deepEqual(image.shape, [4, 3, 2, 2]);
  assert.equal(image.data[24], 100); // channel 1 starts with 100
  assert.deepEqual(label!.shape, [4, 3, 2]);
  // A missing channel file is a problem naming that file.
  const missingDir = path.join(root, 'v2-missing');
  makeNnunetV2(missingDir);
  const gone = path.join(missingDir, 'imagesTr', 'case_b_0001.nii.gz');
  (await import('node:fs')).rmSync(gone);
  const problems = await validateDataset(loadDataset(missingDir));
  assert.deepEqual(problems, [{ case: 'case_b', file: gone, message: 'image file is missing' }]);
});

test('MSD layout with 4D multi-channel images, nnU-Net v1 per-channel files, and a test list', async () => {
  const dir = path.join(root, 'msd4d');
  mkdirSync(path.join(dir, 'imagesTr'), { recursive: true });
  mkdirSync(path.join(dir, 'labelsTr'), { recursive: true });
  const affine = diagonalAffine([1, 1, 1]);
  writeNiftiSync(path.join(dir, 'imagesTr', 'brain_001.nii.gz'), makeVolume(new Int16Array(2 * 2 * 2 * 3).map((_, n) => n), [2, 2, 2, 3], affine));
  writeNiftiSync(path.join(dir, 'labelsTr', 'brain_001.nii.gz'), makeVolume(new Uint8Array(8).fill(1), [2, 2, 2], affine));
  // nnU-Net v1 raw: listed as brain_002.nii.gz, stored per channel.
  for (const ch of [0, 1, 2]) writeNiftiSync(path.join(dir, 'imagesTr', `brain_002_000${ch}.nii.gz`), makeVolume(new Int16Array(8).fill(ch), [2, 2, 2], affine));
  writeNiftiSync(path.join(dir, 'labelsTr', 'brain_002.nii.gz'), makeVolume(new Uint8Array(8), [2, 2, 2], affine));
  writeNiftiSync(path.join(dir, 'imagesTs', 'brain_009.nii.gz'), makeVolume(new Int16Array(24), [2, 2, 2, 3], affine));
  writeFileSync(
    path.join(dir, 'dataset.json'),
    JSON.stringify({
      name: 'Brain',
      modality: { '0': 'FLAIR', '1': 'T1w', '2': 'T2w' },
      labels: { '0': 'background', '1': 'tumour' },
      training: [
        { image: './imagesTr/brain_001.nii.gz', label: './labelsTr/brain_001.nii.gz' },
        { image: './imagesTr/brain_002.nii.gz', label: './labelsTr/brain_002.nii.gz' },
      ],
      test: ['./imagesTs/brain_009.nii.gz'],
    }),
  );
  const ds = loadDataset(dir);
  assert.equal(ds.layout, 'msd');
  assert.deepEqual(ds.modalities, ['FLAIR', 'T1w', 'T2w']);
  assert.equal(ds.training[1]!.images.length, 3);
  assert.deepEqual(await validateDataset(ds), []);
  const one = await loadCase(ds, ds.training[0]!);
  assert.deepEqual(one.image.shape, [2, 2, 2, 3]);
  const two = await loadCase(ds, ds.training[1]!);
  assert.deepEqual(two.image.shape, [2, 2, 2, 3]);
  assert.deepEqual(Array.from(two.image.data.slice(16, 24)), new Array(8).fill(2));
  const test = await loadCase(ds, ds.test[0]!);
  assert.equal(test.label, undefined);
});

test('task registry: nine tasks, unknown ids list the valid ones, missing real data says where to get it', async () => {
  const ids = listTasks().map((t) => t.id);
  assert.deepEqual(ids, ['hippocampus', 'liver', 'livertumor', 'multiorgan', 'pancreas', 'toy-liver', 'toy-livertumor', 'toy-multiorgan', 'toy-pancreas']);
  const multi = getTask('multiorgan');
  assert.equal(multi.modality, 'CT');
  assert.equal(multi.labels.length, 9);
  assert.equal(getTask('hippocampus').modality, 'MRI');
  assert.throws(() => getTask('lung'), (e: unknown) => e instanceof UsageError && /unknown task 'lung' \(valid: hippocampus, liver,/.test(e.message));
  const saved = { data: process.env['SEGLOSS_DATA'], raw: process.env['nnUNet_raw'] };
  try {
    process.env['SEGLOSS_DATA'] = path.join(root, 'nowhere');
    delete process.env['nnUNet_raw'];
    await assert.rejects(ensureTaskData('pancreas'), (e: unknown) => e instanceof InputError && /task pancreas: data not found in .*nowhere\/Pancreas, .*nowhere\/Task07_Pancreas, .*nowhere\/Dataset007_Pancreas\. Combine NIH Pancreas-CT/.test(e.message) && !e.message.includes('\n'));
    // Hippocampus falls back to ../shared/data next to the package.
    assert.equal(await ensureTaskData('hippocampus'), HIPPO);
    assert.deepEqual(dataCandidates(getTask('hippocampus'), '/d'), ['/d/Task04_Hippocampus', '/d/Dataset004_Hippocampus', path.join(root, 'nowhere', 'Task04_Hippocampus'), path.join(root, 'nowhere', 'Dataset004_Hippocampus'), HIPPO]);
  } finally {
    if (saved.data === undefined) delete process.env['SEGLOSS_DATA'];
    else process.env['SEGLOSS_DATA'] = saved.data;
    if (saved.raw !== undefined) process.env['nnUNet_raw'] = saved.raw;
  }
});

test('ensureTaskData synthesizes a toy task once, then reuses it', async () => {
  const synthDir = path.join(root, 'synth');
  const dir = await ensureTaskData('toy-pancreas', { synthDir, cases: 2, seed: 3 });
  assert.equal(dir, path.join(synthDir, 'toy-pancreas-s3-n2'));
  const ds = loadDataset(dir);
  assert.equal(ds.training.length, 2);
  const stamp = statSync(path.join(dir, 'dataset.json')).mtimeMs;
  assert.equal(await ensureTaskData('toy-pancreas', { synthDir, cases: 2, seed: 3 }), dir);
  assert.equal(statSync(path.join(dir, 'dataset.json')).mtimeMs, stamp);
  const v = await readNifti(ds.training[0]!.label!, { kind: 'label' });
  assert.ok(v.data.some((x) => x === 1));
  assert.ok(!existsSync(path.join(synthDir, 'toy-pancreas')));
});
