/**
 * Own data end to end, as an nnU-Net user has it: a `Dataset501_Liver` folder in the nnU-Net v2
 * layout under $SEGLOSS_DATA, named by its id (`501`, `Dataset501`, `Dataset501_Liver`) in
 * train → predict → evaluate, then in a benchmark grid. Checked with values: predictions keep the
 * input geometry, every evaluated DSC equals 2TP / (2TP + FP + FN) counted here from the files, and
 * the benchmark (same seed, same settings) reproduces the hand-run pipeline's DSCs exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runSegloss, tempDir } from '../helpers.js';
import { readNifti } from '../../src/data/nifti.js';
import { readResultsCsv } from '../../src/rank/results.js';

const TRAINING = ['--epochs', '1', '--iterations', '3', '--val-batches', '1', '--lr', '3e-3'];

/** A toy-liver dataset rewritten in the nnU-Net v2 layout: imagesTr/<case>_0000.nii.gz and a v2 dataset.json. */
function writeDataset501(root: string): string {
  const msd = path.join(root, 'msd');
  const synth = runSegloss(['--quiet', 'synth', '--task', 'toy-liver', '--cases', '10', '--seed', '7', '--out', msd]);
  assert.equal(synth.status, 0, synth.stderr);
  const dir = path.join(root, 'raw', 'Dataset501_Liver');
  mkdirSync(path.join(dir, 'imagesTr'), { recursive: true });
  mkdirSync(path.join(dir, 'labelsTr'), { recursive: true });
  const ids = readdirSync(path.join(msd, 'labelsTr')).map((f) => f.replace(/\.nii\.gz$/, ''));
  for (const id of ids) {
    renameSync(path.join(msd, 'imagesTr', `${id}.nii.gz`), path.join(dir, 'imagesTr', `${id}_0000.nii.gz`));
    renameSync(path.join(msd, 'labelsTr', `${id}.nii.gz`), path.join(dir, 'labelsTr', `${id}.nii.gz`));
  }
  writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify({ channel_names: { '0': 'CT' }, labels: { background: 0, liver: 1 }, numTraining: ids.length, file_ending: '.nii.gz' }));
  return dir;
}

/** DSC of label 1 counted voxel by voxel (paper Eq. 11; 1 when both are empty, as segloss's metric). */
function diceOfFiles(predData: ArrayLike<number>, refData: ArrayLike<number>): number {
  let tp = 0, fp = 0, fn = 0;
  for (let n = 0; n < refData.length; n++) {
    const p = predData[n] === 1, r = refData[n] === 1;
    if (p && r) tp++;
    else if (p) fp++;
    else if (r) fn++;
  }
  return tp + fp + fn === 0 ? 1 : (2 * tp) / (2 * tp + fp + fn);
}

const dscByCase = (csvFile: string) => new Map(readResultsCsv([csvFile]).filter((r) => r.metric === 'dsc').map((r) => [r.case, r.value]));

test('an nnU-Net v2 dataset named by its id: train → predict → evaluate → benchmark', { timeout: 15 * 60_000 }, async () => {
  const root = tempDir();
  const dataset = writeDataset501(root);
  const env = { SEGLOSS_DATA: path.join(root, 'raw'), nnUNet_raw: '', SEGLOSS_SYNTH: path.join(root, 'synth') };
  const run = (args: string[]) => {
    const r = runSegloss(['--quiet', ...args], { cwd: root, env });
    assert.equal(r.status, 0, `segloss ${args.join(' ')}\n${r.stderr}`);
    return r;
  };

  // Hand-run pipeline, the task named three ways.
  run(['train', '--task', '501', '--loss', 'dice', ...TRAINING, '--preprocessed', 'pre', '--results', 'results']);
  const runs = readdirSync(path.join(root, 'results'));
  assert.deepEqual(runs, ['Dataset501_Liver'], 'the run is filed under the dataset folder name');
  run(['predict', '--run', 'results/Dataset501_Liver/dice', '--split', 'test', '--out', 'pred']);
  run(['evaluate', '--pred', 'pred', '--split', 'test', '--preprocessed', 'pre/Dataset501_Liver', '--task', 'Dataset501', '--loss', 'dice', '--out', 'eval']);

  const predicted = readdirSync(path.join(root, 'pred')).filter((f) => f.endsWith('.nii.gz')).sort();
  assert.equal(predicted.length, 2, 'the 20 % test split of 10 cases');
  const handDsc = dscByCase(path.join(root, 'eval', 'results.csv'));
  assert.deepEqual([...handDsc.keys()].sort(), predicted.map((f) => f.replace(/\.nii\.gz$/, '')));
  for (const file of predicted) {
    const id = file.replace(/\.nii\.gz$/, '');
    const pred = await readNifti(path.join(root, 'pred', file), { kind: 'label' });
    const image = await readNifti(path.join(dataset, 'imagesTr', `${id}_0000.nii.gz`));
    const ref = await readNifti(path.join(dataset, 'labelsTr', file), { kind: 'label' });
    assert.deepEqual(pred.shape, image.shape, `${file}: prediction in the input's grid`);
    assert.deepEqual(pred.affine, image.affine, `${file}: prediction in the input's world position`);
    assert.ok(Math.abs((handDsc.get(id) as number) - diceOfFiles(pred.data, ref.data)) < 1e-12, `${id}: evaluated DSC = 2TP / (2TP + FP + FN) of the files`);
  }

  // The same experiment as a benchmark grid naming the dataset by its folder name.
  writeFileSync(
    path.join(root, 'grid.yaml'),
    [
      'name: own-data', 'description: Dataset501_Liver, one loss, one rate, one seed', 'tasks: [Dataset501_Liver]', 'losses: [dice]',
      'learning_rates: [3e-3]', 'fold: 0', 'seeds: [12345]', 'profile: cpu', 'training:', '  epochs: 1', '  iterations: 3', '  val_batches: 1',
      'evaluation:', '  tolerance_mm: 1', '  tta: false', 'ranking:', '  metrics: [dsc, nsd]', '  alpha: 0.05', '  bootstrap: 20', 'jobs: 1', '',
    ].join('\n'),
  );
  run(['benchmark', '--config', 'grid.yaml', '--preprocessed', 'grid-pre', '--results', 'grid-results']);
  const gridDsc = dscByCase(path.join(root, 'grid-results', 'Dataset501_Liver', 'dice', 'test', 'fold-0', 'seed-12345', 'evaluation', 'results.csv'));
  assert.deepEqual(gridDsc, handDsc, 'the benchmark cell reproduces the hand-run pipeline bit for bit');
  const leaderboard = JSON.parse(readFileSync(path.join(root, 'grid-results', 'ranking', 'leaderboard.json'), 'utf8')) as { tasks: string[] };
  assert.deepEqual(leaderboard.tasks, ['Dataset501_Liver']);
});
