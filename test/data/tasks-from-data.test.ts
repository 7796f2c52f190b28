import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runSegloss, tempDir } from '../helpers.js';
import { resolveTask, ensureTaskData, dataCandidates, getTask, taskYaml, findNnunetDataset } from '../../src/data/tasks.js';
import { applyLabelMap, checkTaskLabels, mapLabelValue } from '../../src/data/labels.js';
import { InputError, UsageError } from '../../src/util/errors.js';
import { writeMsdDataset, writeNnunetV2Dataset } from './small-datasets.js';

/** Run `fn` with SEGLOSS_DATA set to `root` (and $nnUNet_raw unset), restoring both afterwards. */
function withDataRoot<T>(root: string, fn: () => T): T {
  const saved = [process.env['SEGLOSS_DATA'], process.env['nnUNet_raw']];
  process.env['SEGLOSS_DATA'] = root;
  delete process.env['nnUNet_raw'];
  try {
    return fn();
  } finally {
    if (saved[0] === undefined) delete process.env['SEGLOSS_DATA'];
    else process.env['SEGLOSS_DATA'] = saved[0];
    if (saved[1] !== undefined) process.env['nnUNet_raw'] = saved[1];
  }
}

test('the study tasks ship the label merges of paper §3.1, their published split and nnU-Net folder names', () => {
  assert.deepEqual(getTask('liver').labelMap, { 1: 1, 2: 1 });
  assert.deepEqual(getTask('pancreas').labelMap, { 1: 1, 2: 1 });
  // MSD Task08's label 1 is vessel and LiTS's is liver: only label 2 (tumour) is kept.
  assert.deepEqual(getTask('livertumor').labelMap, { 1: 0, 2: 1 });
  assert.equal(getTask('multiorgan').labelMap, undefined);
  assert.deepEqual(getTask('multiorgan').labels.map((l) => l.name), ['background', 'spleen', 'left kidney', 'gallbladder', 'esophagus', 'liver', 'stomach', 'pancreas', 'duodenum']);
  for (const [id, file] of [['liver', 'liver_splits_final.json'], ['livertumor', 'liver_tumor_splits_final.json'], ['pancreas', 'pancreas_splits_final.json'], ['multiorgan', 'multiorgan_splits_final.json']] as const) {
    assert.equal(path.relative(path.resolve('configs'), getTask(id).split ?? ''), path.join('published', file), id);
  }
  assert.equal(getTask('hippocampus').split, undefined);
  assert.deepEqual(getTask('liver').aliases, ['Task03_Liver', 'Dataset003_Liver']);
});

test('label maps: values mapped, identity for unlisted values; the check names both label sets', () => {
  assert.deepEqual(Array.from(applyLabelMap(Uint8Array.from([0, 1, 2, 2, 1, 0]), { 1: 1, 2: 1 })), [0, 1, 1, 1, 1, 0]);
  assert.deepEqual(Array.from(applyLabelMap(Uint8Array.from([0, 1, 2, 3]), { 1: 0, 2: 1 })), [0, 0, 1, 3]);
  assert.equal(mapLabelValue(undefined, 7), 7);
  const bg = { value: 0, name: 'background' };
  const liver = getTask('liver');
  // MSD Task03 (0/1/2) under the liver map is the liver task; so is a dataset already merged to 0/1.
  checkTaskLabels('d.json', 'liver', liver.labels, liver.labelMap, [bg, { value: 1, name: 'liver' }, { value: 2, name: 'cancer' }]);
  checkTaskLabels('d.json', 'liver', liver.labels, liver.labelMap, [bg, { value: 1, name: 'liver' }]);
  assert.throws(
    () => checkTaskLabels('d.json', 'liver', liver.labels, liver.labelMap, [bg, { value: 1, name: 'liver' }, { value: 3, name: 'vessel' }]),
    (e: unknown) =>
      e instanceof InputError &&
      e.message === 'd.json: dataset labels {0 background, 1 liver, 3 vessel} give task values {0, 1, 3} (label_map 1→1, 2→1), but task liver has labels {0 background, 1 liver}; fix the label_map of the task YAML or use the data the task describes',
  );
});

test('resolveTask: registered id, dataset folder (nnU-Net v2), nnU-Net ids under $SEGLOSS_DATA, task YAML, unknown', async () => {
  const root = tempDir();
  await writeNnunetV2Dataset(path.join(root, 'Dataset501_Organ'), ['org_001', 'org_002']);
  await writeMsdDataset(path.join(root, 'Task04_Hippocampus'), ['hip_1', 'hip_2'], { labels: { '0': 'background', '1': 'Anterior', '2': 'Posterior' } });

  assert.equal(resolveTask('toy-liver').origin, 'registry');
  const fromDir = resolveTask(path.join(root, 'Dataset501_Organ'));
  assert.equal(fromDir.id, 'Dataset501_Organ');
  assert.equal(fromDir.origin, 'dataset');
  assert.equal(fromDir.modality, 'CT');
  assert.equal(fromDir.dataDir, path.join(root, 'Dataset501_Organ'));
  assert.deepEqual(fromDir.labels, [{ value: 0, name: 'background' }, { value: 1, name: 'organ' }, { value: 2, name: 'core' }]);
  assert.equal(await ensureTaskData(path.join(root, 'Dataset501_Organ')), path.join(root, 'Dataset501_Organ'));

  withDataRoot(root, () => {
    for (const ref of ['Dataset501_Organ', '501', 'Dataset501']) assert.equal(resolveTask(ref).dataDir, path.join(root, 'Dataset501_Organ'), ref);
    assert.equal(resolveTask('Task04_Hippocampus').dataDir, path.join(root, 'Task04_Hippocampus'));
    assert.equal(resolveTask('Task4').dataDir, path.join(root, 'Task04_Hippocampus'));
    // MRI unless a channel says CT (the MSD dataset here says CT).
    assert.equal(resolveTask('4').modality, 'CT');
    assert.throws(() => resolveTask('502'), (e: unknown) => e instanceof InputError && /dataset 502: no folder Dataset502_\* or Task502_\* with a dataset\.json in /.test(e.message));
    assert.throws(() => resolveTask('Dataset501_Other'), (e: unknown) => e instanceof InputError && /no folder Dataset501_Other/.test(e.message));
  });
  // Two folders with the same number in one root: ambiguous, as in nnU-Net.
  await writeNnunetV2Dataset(path.join(root, 'Dataset004_Other'), ['o_1', 'o_2']);
  assert.throws(() => findNnunetDataset('4', [root]), (e: unknown) => e instanceof InputError && /ambiguous: Dataset004_Other, Task04_Hippocampus/.test(e.message));

  // A task YAML given by path: data_path relative to the YAML, label_map and split read from it.
  const yamlDir = path.join(root, 'tasks');
  mkdirSync(yamlDir);
  writeFileSync(path.join(yamlDir, 'splits.json'), JSON.stringify({ folds: [{ train: ['org_001'], val: ['org_002'] }] }));
  writeFileSync(
    path.join(yamlDir, 'organ.yaml'),
    'modality: CT\nlabels:\n  0: background\n  1: organ\ndata_path: ../Dataset501_Organ\nsynthetic: false\nlabel_map:\n  2: 1\nsplit: splits.json\n',
  );
  const fromYaml = resolveTask(path.join(yamlDir, 'organ.yaml'));
  assert.equal(fromYaml.id, 'organ');
  assert.equal(fromYaml.origin, 'yaml');
  assert.deepEqual(fromYaml.labelMap, { 2: 1 });
  assert.equal(fromYaml.split, path.join(yamlDir, 'splits.json'));
  assert.equal(dataCandidates(fromYaml)[0], path.join(root, 'Dataset501_Organ'));
  assert.equal(await ensureTaskData(path.join(yamlDir, 'organ.yaml')), path.join(root, 'Dataset501_Organ'));

  assert.throws(() => resolveTask('no-such-task'), (e: unknown) => e instanceof UsageError && /unknown task 'no-such-task' \(registered: hippocampus, liver, .*nnU-Net id such as Dataset501_Name, 501, Task04_Hippocampus/.test(e.message));
  assert.throws(() => resolveTask(path.join(root, 'nothing', 'here')), (e: unknown) => e instanceof InputError && /does not exist/.test(e.message));
  assert.throws(() => resolveTask(yamlDir), (e: unknown) => e instanceof InputError && /folder has no dataset\.json/.test(e.message));
});

test('registered tasks find their data under nnU-Net folder names', async () => {
  const root = tempDir();
  await writeMsdDataset(path.join(root, 'Dataset004_Hippocampus'), ['hip_1', 'hip_2'], { labels: { '0': 'background', '1': 'Anterior', '2': 'Posterior' } });
  await writeMsdDataset(path.join(root, 'Task03_Liver'), ['liver_0', 'liver_1']);
  assert.equal(await ensureTaskData('hippocampus', { data: root }), path.join(root, 'Dataset004_Hippocampus'));
  assert.equal(await ensureTaskData('liver', { data: root }), path.join(root, 'Task03_Liver'));
  assert.deepEqual(dataCandidates(getTask('liver'), root).slice(0, 3), ['Liver', 'Task03_Liver', 'Dataset003_Liver'].map((n) => path.join(root, n)));
});

test('segloss task init prints the task YAML built from dataset.json, and that YAML resolves to the same task', async () => {
  const root = tempDir();
  const dir = path.join(root, 'Dataset501_Organ');
  await writeNnunetV2Dataset(dir, ['org_001', 'org_002', 'org_003']);
  const r = runSegloss(['task', 'init', dir]);
  assert.equal(r.status, 0, r.stderr);
  const y = parseYaml(r.stdout) as Record<string, unknown>;
  assert.deepEqual(y, {
    id: 'Dataset501_Organ',
    description: 'Dataset501_Organ (nnU-Net v2 layout, 3 training cases; channels CT)',
    modality: 'CT',
    labels: { 0: 'background', 1: 'organ', 2: 'core' },
    data_path: dir,
    synthetic: false,
  });
  const file = path.join(root, 'organ.yaml');
  writeFileSync(file, r.stdout);
  const spec = resolveTask(file);
  assert.deepEqual(spec.labels, resolveTask(dir).labels);
  assert.equal(await ensureTaskData(file), dir);
  assert.equal(taskYaml(resolveTask(dir)), r.stdout);
  // By id under a data root too.
  const byId = runSegloss(['task', 'init', '501'], { env: { SEGLOSS_DATA: root, nnUNet_raw: '' } });
  assert.equal(byId.status, 0, byId.stderr);
  assert.equal(byId.stdout, r.stdout);
  const bad = runSegloss(['task', 'init', '777'], { env: { SEGLOSS_DATA: root, nnUNet_raw: '' } });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /dataset 777: no folder Dataset777_\* or Task777_\*/);
});
