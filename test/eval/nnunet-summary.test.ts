/**
 * summary.json in nnU-Net v2's schema (`compute_metrics_on_folder`) on a hand-made two-case,
 * two-label example whose counts are derived by hand; partial prediction folders (default: score
 * the predicted cases and list the others, `--strict`, `--score-missing`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runSegloss, tempDir } from '../helpers.js';
import type { Affine } from '../../src/data/volume.js';
import { makeVolume, writeNiftiSync } from '../../src/data/nifti.js';
import { parsePythonJson, pythonJsonText, nanMean } from '../../src/eval/nnunet-summary.js';

/** 4 × 3 × 2 = 24 voxels of 1 mm. */
const SHAPE = [4, 3, 2];
const AFFINE: Affine = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];

function labelMap(voxels: Record<number, number[]>): Uint8Array {
  const data = new Uint8Array(24);
  for (const [label, list] of Object.entries(voxels)) for (const i of list) data[i] = Number(label);
  return data;
}

function write(file: string, data: Uint8Array): void {
  writeNiftiSync(file, makeVolume(data, SHAPE, AFFINE));
}

/**
 * case_a: label 1 G = {0,1,2,3}, P = {2,3,4}: TP 2, FP 1, FN 2, TN 19, Dice 4/7, IoU 2/5;
 *         label 2 G = P = {10,11}: TP 2, TN 22, Dice 1, IoU 1.
 * case_b: label 1 G = {5,6}, P = ∅: TP 0, FN 2, TN 22, Dice 0, IoU 0, HD95 inf;
 *         label 2 absent from both: TN 24, Dice and IoU NaN.
 * case_c: a reference without prediction.
 */
function makeExample() {
  const root = tempDir('segloss-nnunet-summary-');
  const gt = path.join(root, 'gt');
  const pred = path.join(root, 'pred');
  write(path.join(gt, 'case_a.nii.gz'), labelMap({ 1: [0, 1, 2, 3], 2: [10, 11] }));
  write(path.join(pred, 'case_a.nii.gz'), labelMap({ 1: [2, 3, 4], 2: [10, 11] }));
  write(path.join(gt, 'case_b.nii.gz'), labelMap({ 1: [5, 6] }));
  write(path.join(pred, 'case_b.nii.gz'), labelMap({}));
  write(path.join(gt, 'case_c.nii.gz'), labelMap({ 1: [7] }));
  return { root, gt, pred };
}

type LabelMetrics = Record<'Dice' | 'IoU' | 'FP' | 'TP' | 'FN' | 'TN' | 'n_pred' | 'n_ref' | 'DSC' | 'NSD' | 'HD95', number>;
interface Summary {
  foreground_mean: LabelMetrics;
  mean: Record<string, LabelMetrics>;
  metric_per_case: { metrics: Record<string, LabelMetrics>; prediction_file: string | null; reference_file: string }[];
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12;

test('summary.json has nnU-Net v2 keys and hand-derived Dice, IoU and TP/FP/FN/TN; the case without prediction is listed, not scored', () => {
  const { root, gt, pred } = makeExample();
  const out = path.join(root, 'out');
  const r = runSegloss(['evaluate', '--pred', pred, '--gt', gt, '--out', out, '--labels', '1,2', '--workers', '1']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /1 reference case\(s\) without a prediction, not scored.*: case_c/);
  const text = readFileSync(path.join(out, 'summary.json'), 'utf8');
  // Python's json.dump(indent=4, sort_keys=True), as nnU-Net's save_json writes it.
  assert.match(text, /^\{\n {4}"foreground_mean": \{\n {8}"DSC": [0-9.]+,\n {8}"Dice": /);
  assert.match(text, /"Dice": NaN/);
  assert.match(text, /"HD95": Infinity/);
  const s = parsePythonJson(text) as Summary;
  assert.deepEqual(Object.keys(s), ['foreground_mean', 'mean', 'metric_per_case']);
  assert.equal(s.metric_per_case.length, 2);
  const [a, b] = s.metric_per_case as [Summary['metric_per_case'][number], Summary['metric_per_case'][number]];
  assert.deepEqual(Object.keys(a), ['metrics', 'prediction_file', 'reference_file']);
  assert.equal(a.reference_file, path.resolve(gt, 'case_a.nii.gz'));
  assert.equal(a.prediction_file, path.resolve(pred, 'case_a.nii.gz'));
  assert.deepEqual(Object.keys(a.metrics), ['1', '2']);
  assert.deepEqual(Object.keys(a.metrics['1'] as LabelMetrics), ['DSC', 'Dice', 'FN', 'FP', 'HD95', 'IoU', 'NSD', 'TN', 'TP', 'n_pred', 'n_ref']);

  const a1 = a.metrics['1'] as LabelMetrics;
  assert.deepEqual([a1.TP, a1.FP, a1.FN, a1.TN, a1.n_pred, a1.n_ref], [2, 1, 2, 19, 3, 4]);
  assert.ok(close(a1.Dice, 4 / 7) && close(a1.IoU, 2 / 5) && close(a1.DSC, 4 / 7));
  const a2 = a.metrics['2'] as LabelMetrics;
  assert.deepEqual([a2.TP, a2.FP, a2.FN, a2.TN, a2.Dice, a2.IoU, a2.NSD, a2.HD95], [2, 0, 0, 22, 1, 1, 1, 0]);
  const b1 = b.metrics['1'] as LabelMetrics;
  assert.deepEqual([b1.TP, b1.FP, b1.FN, b1.TN, b1.Dice, b1.IoU, b1.NSD, b1.HD95], [0, 0, 2, 22, 0, 0, 0, Infinity]);
  const b2 = b.metrics['2'] as LabelMetrics;
  assert.deepEqual([b2.TP, b2.FP, b2.FN, b2.TN, b2.n_pred, b2.n_ref], [0, 0, 0, 24, 0, 0]);
  assert.ok(Number.isNaN(b2.Dice) && Number.isNaN(b2.IoU) && Number.isNaN(b2.NSD));

  // mean: np.nanmean over the two cases.
  const m1 = s.mean['1'] as LabelMetrics;
  assert.ok(close(m1.Dice, 2 / 7) && close(m1.IoU, 0.2));
  assert.deepEqual([m1.TP, m1.FP, m1.FN, m1.TN, m1.n_pred, m1.n_ref, m1.HD95], [1, 0.5, 2, 20.5, 1.5, 3, Infinity]);
  const m2 = s.mean['2'] as LabelMetrics;
  // HD95 of a label absent from both masks is inf (DeepMind's rule), and np.nanmean keeps inf.
  assert.deepEqual([m2.Dice, m2.IoU, m2.NSD, m2.TP, m2.TN, m2.HD95, b2.HD95], [1, 1, 1, 1, 23, Infinity, Infinity]);
  // foreground_mean: np.mean over the labels' means.
  assert.ok(close(s.foreground_mean.Dice, 9 / 14) && close(s.foreground_mean.IoU, 0.6));
  assert.equal(s.foreground_mean.TN, 21.75);
  assert.equal(s.foreground_mean.HD95, Infinity);

  // segloss's own summary keeps its statistics and lists the case without prediction.
  const own = JSON.parse(readFileSync(path.join(out, 'segloss_summary.json'), 'utf8')) as { cases: number; missing_predictions: string[]; missing_policy: string; per_label: Record<string, { dsc: { mean: number } }> };
  assert.equal(own.cases, 2);
  assert.deepEqual(own.missing_predictions, ['case_c']);
  assert.equal(own.missing_policy, 'skip');
  assert.ok(close(own.per_label['1']?.dsc.mean as number, 2 / 7));
});

test('--strict fails naming the cases without prediction; --score-missing scores them as empty', () => {
  const { root, gt, pred } = makeExample();
  const strict = runSegloss(['evaluate', '--pred', pred, '--gt', gt, '--out', path.join(root, 'strict'), '--workers', '1', '--strict']);
  assert.equal(strict.status, 2);
  assert.match(strict.stderr, /1 reference case\(s\) without a prediction \(--strict\): case_c/);

  const out = path.join(root, 'empty');
  const scored = runSegloss(['evaluate', '--pred', pred, '--gt', gt, '--out', out, '--labels', '1,2', '--workers', '1', '--score-missing', '--task', 'T', '--loss', 'L']);
  assert.equal(scored.status, 0, scored.stderr);
  const s = parsePythonJson(readFileSync(path.join(out, 'summary.json'), 'utf8')) as Summary;
  assert.equal(s.metric_per_case.length, 3);
  const c = s.metric_per_case[2] as Summary['metric_per_case'][number];
  assert.equal(c.prediction_file, null);
  assert.deepEqual([c.metrics['1']?.TP, c.metrics['1']?.FN, c.metrics['1']?.Dice], [0, 1, 0]);
  // Dice mean over three cases: (4/7 + 0 + 0) / 3.
  assert.ok(close((s.mean['1'] as LabelMetrics).Dice, 4 / 21));
  const results = readFileSync(path.join(out, 'results.csv'), 'utf8');
  assert.match(results, /^T,L,case_c,dsc,0,1$/m);

  const both = runSegloss(['evaluate', '--pred', pred, '--gt', gt, '--out', out, '--strict', '--score-missing']);
  assert.equal(both.status, 2);
  // A folder with no prediction at all is an input error unless missing cases are scored.
  const none = runSegloss(['evaluate', '--pred', path.join(root, 'nothing'), '--gt', gt, '--out', path.join(root, 'none')]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /nothing: prediction folder does not exist/);
});

test('pythonJsonText writes sorted keys and NaN/Infinity tokens; parsePythonJson reads them back', () => {
  const value = { b: [1, NaN, -Infinity], a: { y: 'NaN', x: Infinity }, c: [] };
  const text = pythonJsonText(value);
  assert.equal(text, '{\n    "a": {\n        "x": Infinity,\n        "y": "NaN"\n    },\n    "b": [\n        1,\n        NaN,\n        -Infinity\n    ],\n    "c": []\n}\n');
  assert.deepEqual(parsePythonJson(text), { a: { x: Infinity, y: 'NaN' }, b: [1, NaN, -Infinity], c: [] });
  assert.equal(nanMean([NaN, 1, 2]), 1.5);
  assert.ok(Number.isNaN(nanMean([NaN])));
});
