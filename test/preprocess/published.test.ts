import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runSegloss, tempDir } from '../helpers.js';
import { getTask } from '../../src/data/tasks.js';
import { preprocessDataset, loadPlans, loadSplits, loadPreprocessedCase, kFold } from '../../src/preprocess/index.js';
import { readPublishedSplit, publishedSplits, checkPublishedIds } from '../../src/preprocess/splits.js';
import { InputError } from '../../src/util/errors.js';
import { BOX_VOXELS, SHAPE, writeMsdDataset } from '../data/small-datasets.js';

const LIVER_SPLIT = path.resolve('configs/published/liver_splits_final.json');
const published = readPublishedSplit(LIVER_SPLIT);
const fold0 = published.folds[0]!;
const LIVER_IDS = [...fold0.train, ...fold0.val];

/** A dataset.json listing `ids` (no image files: the id and label checks come before any file is read). */
function listingOnly(dir: string, ids: readonly string[], labels: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'dataset.json'),
    JSON.stringify({ name: 'x', modality: { '0': 'CT' }, labels, training: ids.map((id) => ({ image: `./imagesTr/${id}.nii.gz`, label: `./labelsTr/${id}.nii.gz` })) }),
  );
}

test('the shipped split files: 131/434/363/90 cases, and nnU-Net V1 KFold over the same ids gives exactly them', () => {
  for (const [file, n] of [['liver', 131], ['liver_tumor', 434], ['pancreas', 363], ['multiorgan', 90]] as const) {
    const s = readPublishedSplit(path.resolve(`configs/published/${file}_splits_final.json`));
    const ids = [...s.folds[0]!.train, ...s.folds[0]!.val];
    assert.equal(ids.length, n, file);
    assert.deepEqual(kFold(ids, 5, 12345), s.folds, file);
  }
});

test('liver with labels 0/1/2 named with the study ids: tumour merged into liver, the published split used', async () => {
  const root = tempDir();
  const raw = path.join(root, 'Liver');
  await writeMsdDataset(raw, LIVER_IDS, { labels: { '0': 'background', '1': 'liver', '2': 'cancer' } });
  const out = path.join(root, 'pp');
  const plans = await preprocessDataset({ datasetDir: raw, outDir: out, profile: 'cpu', taskId: 'liver', task: getTask('liver') });
  assert.deepEqual(plans.labels, [{ value: 0, name: 'background' }, { value: 1, name: 'liver' }]);
  assert.equal(plans.numClasses, 2);
  assert.deepEqual(plans.label_map, { 1: 1, 2: 1 });
  const splits = loadSplits(out);
  assert.deepEqual(splits.test, fold0.val);
  assert.equal(splits.test.length, 27);
  assert.deepEqual(splits.folds, kFold(fold0.train, 5, 12345));
  assert.equal(splits.published, LIVER_SPLIT);
  assert.deepEqual(splits, publishedSplits(published));
  // Same spacing everywhere and no zero voxel: no crop, no resampling; the 8 tumour voxels of the
  // 120-voxel box are liver now.
  for (const id of ['train_0', 'train_57']) {
    const c = await loadPreprocessedCase(out, id);
    assert.deepEqual(c.shape, SHAPE);
    assert.equal(c.seg.reduce((n, v) => n + (v === 1 ? 1 : 0), 0), BOX_VOXELS);
    assert.equal(c.seg.reduce((n, v) => n + (v > 1 ? 1 : 0), 0), 0);
  }
  // The registered task through the CLI (SEGLOSS_DATA/Liver): the cache is complete and reused.
  const r = runSegloss(['--json', 'preprocess', '--task', 'liver', '--out', out], { env: { SEGLOSS_DATA: root, nnUNet_raw: '' } });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual([JSON.parse(r.stdout).cases, JSON.parse(r.stdout).reused], [131, 131]);
  assert.equal(loadPlans(out).task, 'liver');
});

test('ids that do not match the published split stop with exit 2 naming how many and the first few', () => {
  const root = tempDir();
  const dir = path.join(root, 'Liver');
  const kept = LIVER_IDS.filter((id) => !['train_5', 'train_17', 'train_42'].includes(id));
  listingOnly(dir, [...kept, 'liver_131'], { '0': 'background', '1': 'liver', '2': 'cancer' });
  const r = runSegloss(['preprocess', '--task', 'liver', '--data', dir, '--out', path.join(root, 'pp')]);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(
    r.stderr.trim().split('\n').pop(),
    `segloss: ${dir}: does not match the published split ${LIVER_SPLIT}: 3 of the split's 131 case ids are missing from the dataset (train_17, train_42, train_5); 1 dataset case(s) are not in the split (liver_131); rename the cases as docs/data.md describes`,
  );
  assert.throws(() => checkPublishedIds(published, dir, LIVER_IDS.map((id) => id.replace('train_', 'liver_'))), (e: unknown) => e instanceof InputError && /131 of the split's 131 case ids are missing from the dataset \(train_0, train_1, train_10, train_100, train_101, …\)/.test(e.message));
});

test('a dataset whose labels do not give the task labels stops with exit 2 naming both label sets', () => {
  const root = tempDir();
  // Liver tumour already merged to 0/1: the map (1 → 0, 2 → 1) would erase the tumour.
  const merged = path.join(root, 'LiverTumor');
  listingOnly(merged, ['train_0', 'train_1'], { '0': 'background', '1': 'tumour' });
  const r = runSegloss(['preprocess', '--task', 'livertumor', '--data', merged, '--out', path.join(root, 'pp')]);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(
    r.stderr.trim().split('\n').pop(),
    `segloss: ${path.join(merged, 'dataset.json')}: dataset labels {0 background, 1 tumour} give task values {0} (label_map 1→0, 2→1), but task livertumor has labels {0 background, 1 tumour}; fix the label_map of the task YAML or use the data the task describes`,
  );
  const extra = path.join(root, 'MultiOrgan');
  listingOnly(extra, ['multiorgan_1', 'multiorgan_2'], { '0': 'background', '1': 'spleen', '2': 'kidney' });
  const m = runSegloss(['preprocess', '--task', 'multiorgan', '--data', extra, '--out', path.join(root, 'pp2')]);
  assert.equal(m.status, 2);
  assert.match(m.stderr, /dataset labels \{0 background, 1 spleen, 2 kidney\} give task values \{0, 1, 2\} \(no label_map\), but task multiorgan has labels \{0 background, 1 spleen, 2 left kidney, 3 gallbladder, 4 esophagus, 5 liver, 6 stomach, 7 pancreas, 8 duodenum\}/);
});

test('a missing image listed in dataset.json: exit 2 naming the file, no raw ENOENT', async () => {
  const root = tempDir();
  const dir = path.join(root, 'ds');
  await writeMsdDataset(dir, ['a', 'b', 'c'], { missing: ['ghost'] });
  const r = runSegloss(['preprocess', '--data', dir, '--out', path.join(root, 'pp')]);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').pop(), `segloss: ${path.join(dir, 'imagesTr', 'ghost.nii.gz')}: file of case 'ghost' listed in dataset.json is missing`);
  assert.doesNotMatch(r.stderr, /ENOENT/);
  // check lists the same file.
  const c = runSegloss(['--json', 'check', dir]);
  assert.equal(c.status, 2);
  assert.deepEqual((JSON.parse(c.stdout) as { problems: { file: string; message: string }[] }).problems.map((p) => [p.file, p.message])[0], [path.join(dir, 'imagesTr', 'ghost.nii.gz'), 'image file is missing']);
  assert.equal(readFileSync(path.join(dir, 'dataset.json'), 'utf8').includes('ghost'), true);
});
