import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runSegloss, tempDir } from '../helpers.js';
import type { Affine } from '../../src/data/volume.js';
import type { Vec3 } from '../../src/util/vec3.js';
import { makeVolume, writeNiftiSync } from '../../src/data/nifti.js';
import { evaluateFolders } from '../../src/eval/folders.js';
import { FIXTURE_CASES, close, decodeRuns, num, type FixtureCase } from './deepmind-fixture.js';

const byName = new Map(FIXTURE_CASES.map((c) => [c.name, c]));

/** Write a fixture case as NIfTI: C-order [d0,d1,d2] is NIfTI (i fastest) [d2,d1,d0]. */
function writeCase(dir: string, id: string, c: FixtureCase, which: 'gt' | 'pred', label = 1): void {
  const n = c.shape[0] * c.shape[1] * c.shape[2];
  const s: Vec3 = [c.spacing_mm[2], c.spacing_mm[1], c.spacing_mm[0]];
  const affine: Affine = [[s[0], 0, 0, 0], [0, s[1], 0, 0], [0, 0, s[2], 0], [0, 0, 0, 1]];
  writeNiftiSync(path.join(dir, `${id}.nii.gz`), makeVolume(decodeRuns(which === 'gt' ? c.gt_runs : c.pred_runs, n, label), [c.shape[2], c.shape[1], c.shape[0]], affine));
}

function parseCsv(text: string): string[][] {
  return text.trim().split('\n').map((l) => l.split(','));
}

const NAMES = ['noisy_blobs_partial_overlap', 'aniso_sphere_smaller_offset', 'thin_plates', 'sphere_shift2_iso'];

function makeFolders() {
  const root = tempDir('segloss-eval-');
  const gt = path.join(root, 'gt');
  const pred = path.join(root, 'pred');
  NAMES.forEach((name, i) => {
    const c = byName.get(name) as FixtureCase;
    writeCase(gt, `case_${i + 1}`, c, 'gt');
    if (i !== 3) writeCase(pred, `case_${i + 1}`, c, 'pred'); // case_4's prediction is missing
  });
  return { root, gt, pred };
}

test('segloss evaluate: per_case.csv, segloss_summary.json and results.csv match DeepMind values; with --score-missing a missing prediction scores as empty', () => {
  const { root, gt, pred } = makeFolders();
  const out = path.join(root, 'out');
  const r = runSegloss(['evaluate', '--pred', pred, '--gt', gt, '--out', out, '--task', 'Toy', '--loss', 'dice', '--workers', '2', '--score-missing']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /1 case\(s\) without a prediction.*case_4/);
  const rows = parseCsv(readFileSync(path.join(out, 'per_case.csv'), 'utf8'));
  assert.deepEqual(rows[0], ['case', 'label', 'metric', 'value']);
  assert.equal(rows.length, 1 + 4 * 3);
  const value = (id: string, metric: string) => {
    const row = rows.find((x) => x[0] === id && x[2] === metric);
    assert.ok(row !== undefined, `${id} ${metric}`);
    assert.equal(row[1], '1');
    return row[3] as string;
  };
  NAMES.slice(0, 3).forEach((name, i) => {
    const c = byName.get(name) as FixtureCase;
    const id = `case_${i + 1}`;
    assert.ok(close(Number(value(id, 'dsc')), num(c.expected.dsc), 1e-6, 1e-12), `${name} dsc`);
    assert.ok(close(Number(value(id, 'nsd')), num(c.expected.nsd_tau1mm), 1e-6, 1e-12), `${name} nsd`);
    assert.ok(close(Number(value(id, 'hd95')), num(c.expected.hd95_mm), 0, 1e-5), `${name} hd95 ${value(id, 'hd95')}`); // spacing stored as float32
  });
  assert.deepEqual(['dsc', 'nsd', 'hd95'].map((m) => value('case_4', m)), ['0', '0', 'inf']);

  const summary = JSON.parse(readFileSync(path.join(out, 'segloss_summary.json'), 'utf8')) as {
    labels: number[];
    cases: number;
    missing_predictions: string[];
    per_label: Record<string, Record<string, { mean: number; median: number; std: number; count: number; inf: number; nan: number }>>;
    foreground_mean: Record<string, number>;
  };
  assert.deepEqual(summary.labels, [1]);
  assert.equal(summary.cases, 4);
  assert.deepEqual(summary.missing_predictions, ['case_4']);
  const dscs = [0, 1, 2, 3].map((i) => Number(value(`case_${i + 1}`, 'dsc')));
  const mean = dscs.reduce((a, b) => a + b, 0) / 4;
  const l1 = summary.per_label['1'] as Record<string, { mean: number; median: number; std: number; count: number; inf: number; nan: number }>;
  assert.ok(Math.abs((l1['dsc']?.mean as number) - mean) < 1e-12);
  assert.equal(l1['dsc']?.count, 4);
  const sorted = [...dscs].sort((a, b) => a - b);
  assert.ok(Math.abs((l1['dsc']?.median as number) - ((sorted[1] as number) + (sorted[2] as number)) / 2) < 1e-12);
  assert.ok(Math.abs((l1['dsc']?.std as number) - Math.sqrt(dscs.reduce((s, v) => s + (v - mean) ** 2, 0) / 4)) < 1e-12);
  assert.equal(l1['hd95']?.count, 3);
  assert.equal(l1['hd95']?.inf, 1);
  const hds = [0, 1, 2].map((i) => Number(value(`case_${i + 1}`, 'hd95')));
  assert.ok(Math.abs((l1['hd95']?.mean as number) - hds.reduce((a, b) => a + b, 0) / 3) < 1e-9);
  assert.ok(Math.abs((summary.foreground_mean['dsc'] as number) - mean) < 1e-12);

  const results = parseCsv(readFileSync(path.join(out, 'results.csv'), 'utf8'));
  assert.deepEqual(results[0], ['task', 'loss', 'case', 'metric', 'value']);
  assert.deepEqual(results[1], ['Toy', 'dice', 'case_1', 'dsc', value('case_1', 'dsc')]);
  assert.equal(results.length, 13);
});

test('evaluateFolders: worker threads and a single thread give identical results; labels default to those present', async () => {
  const { root, gt, pred } = makeFolders();
  const a = await evaluateFolders({ predDir: pred, gtDir: gt, outDir: path.join(root, 'a'), workers: 1 });
  const b = await evaluateFolders({ predDir: pred, gtDir: gt, outDir: path.join(root, 'b'), workers: 2 });
  assert.deepEqual(a.labels, [1]);
  assert.equal(readFileSync(path.join(root, 'a', 'per_case.csv'), 'utf8'), readFileSync(path.join(root, 'b', 'per_case.csv'), 'utf8'));
  assert.equal(a.files.results, undefined);
});

test('multi-label: an absent label is NaN/NaN/inf, results.csv gets a label column', async () => {
  const root = tempDir('segloss-eval-');
  const c = byName.get('sphere_shift2_iso') as FixtureCase;
  writeCase(path.join(root, 'gt'), 'a', c, 'gt', 2);
  writeCase(path.join(root, 'pred'), 'a', c, 'pred', 2);
  const s = await evaluateFolders({ predDir: path.join(root, 'pred'), gtDir: path.join(root, 'gt'), outDir: path.join(root, 'out'), labels: [1, 2], task: 'T', loss: 'L' });
  const [m1, m2] = s.results[0]?.metrics ?? [];
  assert.ok(m1 !== undefined && Number.isNaN(m1.dsc) && Number.isNaN(m1.nsd) && m1.hd95 === Infinity);
  assert.ok(m2 !== undefined && Math.abs(m2.dsc - num(c.expected.dsc)) < 1e-9);
  const perCase = readFileSync(path.join(root, 'out', 'per_case.csv'), 'utf8');
  assert.match(perCase, /^a,1,dsc,nan$/m);
  assert.match(perCase, /^a,1,hd95,inf$/m);
  const results = parseCsv(readFileSync(path.join(root, 'out', 'results.csv'), 'utf8'));
  assert.deepEqual(results[0], ['task', 'loss', 'case', 'metric', 'value', 'label']);
  assert.equal(s.perLabel['1']?.dsc.nan, 1);
});

test('a prediction on another grid is an error naming the case (exit 2)', () => {
  const root = tempDir('segloss-eval-');
  const c = byName.get('thin_plates') as FixtureCase;
  writeCase(path.join(root, 'gt'), 'case_7', c, 'gt');
  writeCase(path.join(root, 'pred'), 'case_7', byName.get('boxes_touching_border') as FixtureCase, 'pred');
  const r = runSegloss(['evaluate', '--pred', path.join(root, 'pred'), '--gt', path.join(root, 'gt'), '--out', path.join(root, 'out')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /case_7.*shape/);
  const bad = runSegloss(['evaluate', '--pred', path.join(root, 'pred'), '--gt', path.join(root, 'gt'), '--out', path.join(root, 'out'), '--task', 'T']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--task and --loss/);
});

test('--cases @file restricts the scored cases (ids one per line, # comments); an unknown case is an error', () => {
  const { root, gt, pred } = makeFolders();
  const list = path.join(root, 'cases.txt');
  writeFileSync(list, '# the held-out cases\ncase_2\ncase_4\n');
  const out = path.join(root, 'out-cases');
  const r = runSegloss(['evaluate', '--pred', pred, '--gt', gt, '--out', out, '--cases', `@${list}`, '--workers', '1']);
  assert.equal(r.status, 0, r.stderr);
  const cases = new Set(parseCsv(readFileSync(path.join(out, 'per_case.csv'), 'utf8')).slice(1).map((row) => row[0]));
  assert.deepEqual([...cases], ['case_2']); // case_4 has no prediction: listed, not scored
  assert.match(r.stderr, /1 reference case\(s\) without a prediction, not scored.*: case_4/);
  assert.match(r.stderr, /not scored.*case_1, case_3/);
  const bad = runSegloss(['evaluate', '--pred', pred, '--gt', gt, '--out', out, '--cases', 'case_9']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /case_9/);
});
