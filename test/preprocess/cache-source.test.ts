import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runSegloss, tempDir } from '../helpers.js';
import { loadDataset } from '../../src/data/dataset.js';
import { assertCacheSource, compareSource, datasetSource } from '../../src/preprocess/source.js';
import { loadPlans } from '../../src/preprocess/index.js';
import { InputError } from '../../src/util/errors.js';
import { writeMsdDataset, writeNnunetV2Dataset } from '../data/small-datasets.js';

test('source fingerprint: same folder or same content elsewhere is the same source; other data is not', async () => {
  const root = tempDir();
  await writeMsdDataset(path.join(root, 'a'), ['x_1', 'x_2']);
  await writeMsdDataset(path.join(root, 'copy', 'a'), ['x_1', 'x_2']);
  await writeMsdDataset(path.join(root, 'b'), ['x_1', 'x_2', 'x_3']);
  const a = datasetSource(loadDataset(path.join(root, 'a')));
  assert.equal(a.cases, 2);
  assert.equal(a.dataset, realpathSync(path.join(root, 'a')));
  assert.equal(compareSource(undefined, a), 'new');
  assert.equal(compareSource(a, a), 'same');
  // dataset.json names the folder (name: "a") in both: equal bytes, equal case ids.
  assert.equal(compareSource(a, datasetSource(loadDataset(path.join(root, 'copy', 'a')))), 'same');
  const b = datasetSource(loadDataset(path.join(root, 'b')));
  assert.equal(compareSource(a, b), `was preprocessed from ${a.dataset} (2 cases, dataset.json ${a.dataset_json_sha256.slice(0, 8)}), not from ${b.dataset} (3 cases, dataset.json ${b.dataset_json_sha256.slice(0, 8)})`);
  // An older cache without source.json: plans.json's dataset_dir is the record.
  const bDs = loadDataset(path.join(root, 'b'));
  assertCacheSource(path.join(root, 'nothing'), bDs); // nothing recorded: usable
  const legacy = path.join(root, 'legacy');
  mkdirSync(legacy);
  writeFileSync(path.join(legacy, 'plans.json'), JSON.stringify({ dataset_dir: '/elsewhere/b' }));
  assert.throws(
    () => assertCacheSource(legacy, bDs),
    (e: unknown) => e instanceof InputError && e.message === `${legacy}: was preprocessed from /elsewhere/b, not from ${b.dataset} (3 cases, dataset.json ${b.dataset_json_sha256.slice(0, 8)}); rebuild it with 'segloss preprocess … --force' or use another --out / --preprocessed folder`,
  );
});

test("the README's synth --out data/toy-liver then train --task toy-liver: the cache of the other dataset is refused, --force rebuilds it", () => {
  const work = tempDir();
  const env = { SEGLOSS_PREPROCESSED: path.join(work, 'pre'), SEGLOSS_SYNTH: path.join(work, 'synth'), SEGLOSS_RESULTS: path.join(work, 'results'), SEGLOSS_DATA: '', nnUNet_raw: '' };
  const synth = runSegloss(['synth', '--task', 'toy-liver', '--cases', '4', '--out', 'data/toy-liver', '--seed', '7'], { cwd: work, env });
  assert.equal(synth.status, 0, synth.stderr);
  const pre = runSegloss(['--json', 'preprocess', '--data', 'data/toy-liver'], { cwd: work, env });
  assert.equal(pre.status, 0, pre.stderr);
  const cache = path.join(work, 'pre', 'toy-liver');
  const mine = path.join(realpathSync(work), 'data', 'toy-liver');
  assert.equal(JSON.parse(readFileSync(path.join(cache, 'source.json'), 'utf8')).dataset, mine);

  // train --task toy-liver means the registered toy task (20 synthesized cases), not data/toy-liver.
  const train = runSegloss(['train', '--task', 'toy-liver', '--loss', 'dice', '--profile', 'cpu', '--epochs', '1', '--iterations', '1', '--backend', 'cpu'], { cwd: work, env });
  assert.equal(train.status, 2, train.stderr);
  const synthDir = path.join(work, 'synth', 'toy-liver');
  const line = train.stderr.trim().split('\n').pop() ?? '';
  assert.match(line, new RegExp(`^segloss: ${cache}: was preprocessed from ${mine} \\(4 cases, dataset\\.json [0-9a-f]{8}\\), not from ${synthDir} \\(20 cases, dataset\\.json [0-9a-f]{8}\\); rebuild it with 'segloss preprocess … --force' or use another --out / --preprocessed folder$`));
  assert.equal(loadPlans(cache).cases.length, 4, 'the cache was left alone');

  const refused = runSegloss(['preprocess', '--task', 'toy-liver'], { cwd: work, env });
  assert.equal(refused.status, 2);
  const forced = runSegloss(['--json', 'preprocess', '--task', 'toy-liver', '--force'], { cwd: work, env });
  assert.equal(forced.status, 0, forced.stderr);
  assert.equal(JSON.parse(forced.stdout).cases, 20);
  assert.equal(JSON.parse(readFileSync(path.join(cache, 'source.json'), 'utf8')).dataset, synthDir);
  assert.equal(loadPlans(cache).cases.filter((id) => id.startsWith('toyliver_')).length, 20);
  // Now the folder's own data is the other one.
  const back = runSegloss(['preprocess', '--data', 'data/toy-liver'], { cwd: work, env });
  assert.equal(back.status, 2);
  assert.match(back.stderr, /was preprocessed from .*synth\/toy-liver \(20 cases/);
});

test('an nnU-Net v2 folder and its Dataset501 id preprocess into one cache named after the folder', async () => {
  const root = tempDir();
  const raw = path.join(root, 'raw');
  await writeNnunetV2Dataset(path.join(raw, 'Dataset501_Organ'), ['org_001', 'org_002', 'org_003', 'org_004', 'org_005', 'org_006']);
  const env = { SEGLOSS_DATA: raw, nnUNet_raw: '', SEGLOSS_PREPROCESSED: path.join(root, 'pre') };
  const byId = runSegloss(['--json', 'preprocess', '--task', 'Dataset501_Organ'], { env });
  assert.equal(byId.status, 0, byId.stderr);
  const summary = JSON.parse(byId.stdout) as { task: string; out: string; cases: number; reused: number };
  assert.deepEqual([summary.task, summary.out, summary.cases, summary.reused], ['Dataset501_Organ', path.join(root, 'pre', 'Dataset501_Organ'), 6, 0]);
  const plans = loadPlans(summary.out);
  assert.deepEqual(plans.labels, [{ value: 0, name: 'background' }, { value: 1, name: 'organ' }, { value: 2, name: 'core' }]);
  assert.equal(plans.numClasses, 3);
  assert.deepEqual(plans.modalities, ['CT']);
  for (const ref of ['501', path.join(raw, 'Dataset501_Organ')]) {
    const again = runSegloss(['--json', 'preprocess', '--task', ref], { env });
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual([JSON.parse(again.stdout).out, JSON.parse(again.stdout).reused], [summary.out, 6], ref);
  }
  // train takes the same id: its run directory is named after the folder, its data is this cache.
  const results = path.join(root, 'results');
  const train = runSegloss(['--json', '--seed', '12345', 'train', '--task', '501', '--loss', 'dice', '--profile', 'cpu', '--epochs', '1', '--iterations', '1', '--backend', 'cpu'], { env: { ...env, SEGLOSS_RESULTS: results } });
  assert.equal(train.status, 0, train.stderr);
  const status = JSON.parse(readFileSync(path.join(results, 'Dataset501_Organ', 'dice', 'lr-3e-4', 'fold-0', 'seed-12345', 'status.json'), 'utf8')) as { state: string };
  assert.equal(status.state, 'done');
  assert.equal(JSON.parse(readFileSync(path.join(summary.out, 'source.json'), 'utf8')).dataset, realpathSync(path.join(raw, 'Dataset501_Organ')));
  // A task YAML over the same folder that merges the core into the organ: a two-class cache of its own.
  const yaml = path.join(root, 'organ-merged.yaml');
  writeFileSync(yaml, `modality: CT\nlabels:\n  0: background\n  1: organ\ndata_path: raw/Dataset501_Organ\nsynthetic: false\nlabel_map:\n  2: 1\n`);
  const merged = runSegloss(['--json', 'preprocess', '--task', yaml], { env });
  assert.equal(merged.status, 0, merged.stderr);
  const m = loadPlans(JSON.parse(merged.stdout).out);
  assert.deepEqual([m.task, m.numClasses, m.label_map], ['organ-merged', 2, { 2: 1 }]);
});
