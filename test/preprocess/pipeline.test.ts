import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, symlinkSync, utimesSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { SHARED, runSegloss, tempDir } from '../helpers.js';
import type { Vec3 } from '../../src/util/vec3.js';
import { writeNifti, makeVolume, readNifti } from '../../src/data/nifti.js';
import { diagonalAffine } from '../../src/data/geometry.js';
import {
  preprocessDataset,
  loadPlans,
  loadSplits,
  loadPreprocessedCase,
  preprocessForInference,
  restoreToOriginal,
  makeSplits,
  intensityStats,
  cropArray,
  type PreprocessProgress,
} from '../../src/preprocess/index.js';

interface RawCase {
  id: string;
  shape: Vec3;
  spacing: Vec3;
  image: Float32Array;
  label: Uint8Array;
}

/** A CT-like case: −1000 air, a soft-tissue ellipsoid with two labelled structures, a zero slab at i < 3 (cropped away). */
function ctCase(id: string, shape: Vec3, spacing: Vec3, seed: number): RawCase {
  const [ni, nj, nk] = shape;
  const image = new Float32Array(ni * nj * nk);
  const label = new Uint8Array(ni * nj * nk);
  let s = seed;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let k = 0; k < nk; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++) {
        const x = i + ni * (j + nj * k);
        if (i < 3) continue; // zero slab
        const u = ((i - ni / 2) * spacing[0]) / 9;
        const v = ((j - nj / 2) * spacing[1]) / 8;
        const w = ((k - nk / 2) * spacing[2]) / 10;
        const r = u * u + v * v + w * w;
        image[x] = r < 1 ? 60 + 40 * Math.cos(i / 3) + 10 * rnd() : -1000 + 5 * rnd();
        if (r < 0.35) label[x] = 1;
        if (r < 0.08) label[x] = 2;
      }
  return { id, shape, spacing, image, label };
}

async function writeDataset(dir: string, cases: RawCase[], modality: string): Promise<void> {
  mkdirSync(path.join(dir, 'imagesTr'), { recursive: true });
  mkdirSync(path.join(dir, 'labelsTr'), { recursive: true });
  for (const c of cases) {
    const affine = diagonalAffine(c.spacing, [-10, 5, 20]);
    await writeNifti(path.join(dir, 'imagesTr', `${c.id}.nii.gz`), makeVolume(c.image, [...c.shape], affine));
    await writeNifti(path.join(dir, 'labelsTr', `${c.id}.nii.gz`), makeVolume(c.label, [...c.shape], affine));
  }
  const json = {
    name: 'TestCT',
    modality: { '0': modality },
    labels: { '0': 'background', '1': 'organ', '2': 'core' },
    training: cases.map((c) => ({ image: `./imagesTr/${c.id}.nii.gz`, label: `./labelsTr/${c.id}.nii.gz` })),
    test: [],
  };
  writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify(json));
}

const spacingA: Vec3 = [0.8, 0.8, 2.5];
const spacingB: Vec3 = [0.7, 0.7, 3.0];
const ctCases = [0, 1, 2, 3, 4, 5].map((n) => ctCase(`ct_${n}`, n % 2 === 0 ? [30, 28, 10] : [32, 30, 9], n % 2 === 0 ? spacingA : spacingB, n + 1));

test('CT dataset: fingerprint, plan, splits, resampled and normalised cases, inference round trip', async () => {
  const root = tempDir();
  const raw = path.join(root, 'raw');
  const out = path.join(root, 'pp');
  await writeDataset(raw, ctCases, 'CT');
  const events: PreprocessProgress[] = [];
  const plans = await preprocessDataset({ datasetDir: raw, outDir: out, profile: 'cpu', onProgress: (e) => events.push(e) });

  // Median spacing of three (0.8, 0.8, 2.5) and three (0.7, 0.7, 3.0) cases.
  assert.deepEqual(plans.target_spacing_mm.map((x) => Number(x.toFixed(6))), [0.75, 0.75, 2.75]);
  assert.equal(plans.numClasses, 3);
  assert.deepEqual(plans.normalization.schemes, ['CT']);
  assert.deepEqual(plans.cases, ctCases.map((c) => c.id));

  // Intensity statistics from every 10th foreground voxel of every case, computed here from the raw arrays
  // (the foreground lies inside the crop box, so storage order is the same).
  const pooled: number[] = [];
  for (const c of ctCases) {
    let n = 0;
    for (let x = 0; x < c.label.length; x++) if ((c.label[x] as number) > 0 && n++ % 10 === 0) pooled.push(c.image[x] as number);
  }
  const expected = intensityStats(pooled);
  const got = plans.intensity?.[0];
  assert.ok(got);
  for (const k of ['mean', 'sd', 'percentile_00_5', 'percentile_99_5', 'median'] as const) assert.ok(Math.abs(got[k] - expected[k]) < 1e-9, k);

  // Splits: nnU-Net KFold over the sorted ids.
  assert.deepEqual(loadSplits(out), makeSplits(plans.cases));
  assert.deepEqual(loadPlans(out).patch_size, plans.patch_size);

  for (const c of ctCases) {
    const pc = await loadPreprocessedCase(out, c.id);
    // The zero slab i < 3 is cropped; the rest is resampled to the target spacing.
    assert.deepEqual(pc.meta.cropBox, [[3, c.shape[0]], [0, c.shape[1]], [0, c.shape[2]]]);
    const expectShape = pc.meta.shapeAfterCrop.map((n, a) => Math.round((n * c.spacing[a]!) / plans.target_spacing_mm[a]!));
    assert.deepEqual(pc.shape, expectShape);
    assert.equal(pc.meta.separateZAxis, 2);
    const lo = (got.percentile_00_5 - got.mean) / got.sd;
    const hi = (got.percentile_99_5 - got.mean) / got.sd;
    assert.ok(pc.image.every((v) => v >= lo - 1e-5 && v <= hi + 1e-5), 'CT values clipped to the percentiles');
    assert.ok(pc.seg.every((v) => v <= 2));
    // Header: target spacing, uint8 labels on the same grid.
    const header = await readNifti(path.join(out, `${c.id}.nii`));
    header.spacingMm.forEach((s, a) => assert.ok(Math.abs(s - plans.target_spacing_mm[a]!) < 1e-5));
  }
  assert.ok(events.some((e) => e.stage === 'fingerprint') && events.filter((e) => e.stage === 'preprocess' && e.cached === false).length === 6);

  // Inference: preprocess the raw image, feed the one-hot of the cached labels as "probabilities",
  // restore to the original grid: the argmax must match the raw labels closely (Dice > 0.9 per class).
  const c0 = ctCases[1] as RawCase;
  const vol = makeVolume(c0.image, [...c0.shape], diagonalAffine(c0.spacing));
  const inf = preprocessForInference(plans, vol, c0.id);
  const pc0 = await loadPreprocessedCase(out, c0.id);
  assert.deepEqual(inf.shape, pc0.shape);
  let maxDiff = 0;
  for (let x = 0; x < inf.image.length; x++) maxDiff = Math.max(maxDiff, Math.abs((inf.image[x] as number) - (pc0.image[x] as number)));
  assert.ok(maxDiff < 1e-6, 'inference preprocessing equals the cached training case');
  const n = pc0.seg.length;
  const probs = new Float32Array(3 * n);
  for (let x = 0; x < n; x++) probs[(pc0.seg[x] as number) * n + x] = 1;
  const restored = restoreToOriginal(probs, 3, pc0.shape, inf.meta);
  const N = c0.label.length;
  assert.equal(restored.length, 3 * N);
  for (let cls = 1; cls <= 2; cls++) {
    let tp = 0, fp = 0, fn = 0;
    for (let x = 0; x < N; x++) {
      let best = 0;
      for (let k = 1; k < 3; k++) if ((restored[k * N + x] as number) > (restored[best * N + x] as number)) best = k;
      const p = best === cls, t = c0.label[x] === cls;
      if (p && t) tp++; else if (p) fp++; else if (t) fn++;
    }
    assert.ok((2 * tp) / (2 * tp + fp + fn) > 0.9, `class ${cls} round-trip Dice ${(2 * tp) / (2 * tp + fp + fn)}`);
  }
  // Outside the crop box: background probability 1.
  assert.equal(restored[0], 1);
  assert.equal(restored[N], 0);

  // Re-run: everything from the cache; touching one raw file reprocesses exactly that case.
  const again: PreprocessProgress[] = [];
  await preprocessDataset({ datasetDir: raw, outDir: out, profile: 'cpu', onProgress: (e) => again.push(e) });
  assert.ok(again.filter((e) => e.stage === 'preprocess').every((e) => e.cached === true));
  const later = new Date(Date.now() + 5000);
  utimesSync(path.join(raw, 'imagesTr', 'ct_3.nii.gz'), later, later);
  const third: PreprocessProgress[] = [];
  await preprocessDataset({ datasetDir: raw, outDir: out, profile: 'cpu', onProgress: (e) => third.push(e) });
  assert.deepEqual(third.filter((e) => e.stage === 'preprocess' && !e.cached).map((e) => e.caseId), ['ct_3']);
  // A case whose record is missing (interrupted before its JSON) is redone; no temporary files remain.
  rmSync(path.join(out, 'ct_0.json'));
  const fourth: PreprocessProgress[] = [];
  await preprocessDataset({ datasetDir: raw, outDir: out, profile: 'cpu', onProgress: (e) => fourth.push(e) });
  assert.deepEqual(fourth.filter((e) => e.stage === 'preprocess' && !e.cached).map((e) => e.caseId), ['ct_0']);
  assert.deepEqual(readdirSync(out).filter((f) => f.includes('.tmp-')), []);
  // Another plan (a profile with a coarser target spacing) invalidates every case.
  const profileFile = path.join(root, 'coarse.yaml');
  writeFileSync(profileFile, 'target_spacing_factor: 2\nbase_features: 8\nmax_features: 64\nvram_ref: 1300000\n');
  const fifth: PreprocessProgress[] = [];
  const coarse = await preprocessDataset({ datasetDir: raw, outDir: out, profile: profileFile, onProgress: (e) => fifth.push(e) });
  assert.deepEqual(coarse.target_spacing_mm.map((x) => Number(x.toFixed(6))), [1.5, 1.5, 5.5]);
  assert.equal(fifth.filter((e) => e.stage === 'preprocess' && !e.cached).length, 6);
});

test('bad input: empty cases are skipped with a warning; too few cases and no modality are errors', async () => {
  const root = tempDir();
  const raw = path.join(root, 'raw');
  const empty: RawCase = { ...(ctCases[0] as RawCase), id: 'ct_empty', image: new Float32Array(ctCases[0]!.image.length), label: new Uint8Array(ctCases[0]!.label.length) };
  await writeDataset(raw, [ctCases[0] as RawCase, ctCases[1] as RawCase, ctCases[2] as RawCase, empty], 'CT');
  const warnings: string[] = [];
  const plans = await preprocessDataset({ datasetDir: raw, outDir: path.join(root, 'pp'), profile: 'cpu', onWarning: (m) => warnings.push(m) });
  assert.deepEqual(plans.skipped_cases.map((s) => s.id), ['ct_empty']);
  assert.ok(!plans.cases.includes('ct_empty'));
  assert.match(warnings.join('\n'), /ct_empty: the non-zero region is empty/);

  const one = path.join(root, 'one');
  await writeDataset(one, [ctCases[0] as RawCase], 'CT');
  await assert.rejects(preprocessDataset({ datasetDir: one, outDir: path.join(root, 'pp1'), profile: 'cpu' }), /at least 2 training cases/);

  const nomod = path.join(root, 'nomod');
  await writeDataset(nomod, [ctCases[0] as RawCase, ctCases[1] as RawCase], 'CT');
  writeFileSync(path.join(nomod, 'dataset.json'), JSON.stringify({ name: 'x', modality: {}, labels: { '0': 'background', '1': 'a', '2': 'b' }, training: [0, 1].map((n) => ({ image: `./imagesTr/ct_${n}.nii.gz`, label: `./labelsTr/ct_${n}.nii.gz` })) }));
  await assert.rejects(preprocessDataset({ datasetDir: nomod, outDir: path.join(root, 'pp2'), profile: 'cpu' }), /modalit/);

  const r = runSegloss(['preprocess', '--data', one, '--out', path.join(root, 'pp3')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /segloss: .*at least 2 training cases/);
});

const HIPPO = path.join(SHARED, 'data', 'Task04_Hippocampus');

test('Hippocampus MRI subset through the CLI: z-score per image, no resampling at 1 mm, labels preserved', { skip: !existsSync(HIPPO) }, async () => {
  const root = tempDir();
  const raw = path.join(root, 'Task04_Hippocampus');
  mkdirSync(path.join(raw, 'imagesTr'), { recursive: true });
  mkdirSync(path.join(raw, 'labelsTr'), { recursive: true });
  const ids = ['hippocampus_001', 'hippocampus_003', 'hippocampus_004', 'hippocampus_006', 'hippocampus_007', 'hippocampus_008'];
  for (const id of ids) {
    symlinkSync(path.join(HIPPO, 'imagesTr', `${id}.nii.gz`), path.join(raw, 'imagesTr', `${id}.nii.gz`));
    symlinkSync(path.join(HIPPO, 'labelsTr', `${id}.nii.gz`), path.join(raw, 'labelsTr', `${id}.nii.gz`));
  }
  writeFileSync(
    path.join(raw, 'dataset.json'),
    JSON.stringify({ name: 'Hippocampus', modality: { '0': 'MRI' }, labels: { '0': 'background', '1': 'Anterior', '2': 'Posterior' }, training: ids.map((id) => ({ image: `./imagesTr/${id}.nii.gz`, label: `./labelsTr/${id}.nii.gz` })) }),
  );
  const out = path.join(root, 'pp');
  const r = runSegloss(['--json', 'preprocess', '--data', raw, '--out', out, '--profile', 'cpu']);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { cases: number; processed: number; normalization: string[] };
  assert.equal(summary.cases, 6);
  assert.deepEqual(summary.normalization, ['zscore']);
  const plans = loadPlans(out);
  assert.equal(plans.intensity, undefined);
  assert.deepEqual(plans.target_spacing_mm, [1, 1, 1]);
  assert.equal(plans.network.stages[0]?.features, 16);
  assert.ok(plans.patch_size.every((x) => x <= 64));
  for (const id of ids.slice(0, 3)) {
    const pc = await loadPreprocessedCase(out, id);
    assert.deepEqual(pc.shape, pc.meta.shapeAfterCrop);
    let sum = 0;
    let ss = 0;
    for (const v of pc.image) sum += v;
    const mean = sum / pc.image.length;
    for (const v of pc.image) ss += (v - mean) ** 2;
    assert.ok(Math.abs(mean) < 1e-4, `mean ${mean}`);
    assert.ok(Math.abs(Math.sqrt(ss / pc.image.length) - 1) < 1e-4);
    const label = await readNifti(path.join(raw, 'labelsTr', `${id}.nii.gz`), { kind: 'label' });
    const cropped = cropArray(Uint8Array.from(label.data), label.shape.slice(0, 3) as Vec3, pc.meta.cropBox);
    assert.deepEqual(Array.from(pc.seg), Array.from(cropped));
  }
  // Second run: everything cached.
  const again = runSegloss(['--json', 'preprocess', '--data', raw, '--out', out, '--profile', 'cpu']);
  assert.equal(again.status, 0, again.stderr);
  assert.equal((JSON.parse(again.stdout) as { reused: number }).reused, 6);
});

test('toy-liver through the CLI (CT path, cpu profile): 32×32×16 patch, base 8, 4 stages, CT statistics', () => {
  const root = tempDir();
  const out = path.join(root, 'pp');
  const r = runSegloss(['--json', 'preprocess', '--task', 'toy-liver', '--synth-dir', path.join(root, 'synth'), '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const plans = loadPlans(out);
  assert.equal(plans.task, 'toy-liver');
  assert.deepEqual(plans.patch_size, [32, 32, 16]);
  assert.deepEqual(plans.network.stages.map((s) => s.features), [8, 16, 32, 64]);
  assert.equal(plans.batch_size, 2);
  assert.deepEqual(plans.normalization.schemes, ['CT']);
  const ct = plans.intensity?.[0];
  assert.ok(ct && ct.sd > 0 && ct.percentile_00_5 < ct.mean && ct.mean < ct.percentile_99_5);
  const splits = loadSplits(out);
  assert.equal(splits.test.length + splits.folds[0]!.train.length + splits.folds[0]!.val.length, plans.cases.length);
  assert.equal(splits.folds.length, 5);
});

test('an interrupted run (SIGTERM) leaves only complete cases and the next run resumes', { skip: !existsSync(HIPPO) }, async () => {
  const { spawn } = await import('node:child_process');
  const { BIN } = await import('../helpers.js');
  const root = tempDir();
  const out = path.join(root, 'pp');
  const child = spawn(process.execPath, [BIN, 'preprocess', '--data', HIPPO, '--out', out, '--profile', 'cpu'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve((exitCode = code))));
  // Wait until pass 2 has written a few cases (however long that takes on this machine), then ask
  // the run to stop.
  while (exitCode === undefined) {
    if (existsSync(out) && readdirSync(out).filter((f) => /^hippocampus_\d+\.json$/.test(f)).length >= 3) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGTERM');
  const code = await exited;
  assert.ok(code === 130 || code === 0, `exit code ${String(code)}`);
  const done = readdirSync(out).filter((f) => /^hippocampus_\d+\.json$/.test(f)).map((f) => f.slice(0, -5));
  assert.deepEqual(readdirSync(out).filter((f) => f.includes('.tmp-')), []);
  for (const id of done.slice(0, 5)) assert.ok((await loadPreprocessedCase(out, id)).image.length > 0);
  // A temporary file of a dead process (a kill -9 mid-write) is cleaned up by the next run.
  writeFileSync(path.join(out, '.hippocampus_001.nii.tmp-999999-1'), 'partial');
  const again = runSegloss(['--json', 'preprocess', '--data', HIPPO, '--out', out, '--profile', 'cpu']);
  assert.equal(again.status, 0, again.stderr);
  const summary = JSON.parse(again.stdout) as { cases: number; reused: number };
  assert.equal(summary.cases, 260);
  assert.ok(summary.reused >= done.length, `reused ${summary.reused} of ${done.length} finished before the interruption`);
  assert.deepEqual(readdirSync(out).filter((f) => f.includes('.tmp-')), []);
});

test('two channels (CT + T2, per-channel files) with a large zero border: 4-D cache, CT and masked z-score', async () => {
  const root = tempDir();
  const raw = path.join(root, 'raw');
  mkdirSync(path.join(raw, 'imagesTr'), { recursive: true });
  mkdirSync(path.join(raw, 'labelsTr'), { recursive: true });
  const shape: Vec3 = [40, 40, 20];
  const ids = ['mm_a', 'mm_b', 'mm_c'];
  for (const [n, id] of ids.entries()) {
    const c = ctCase(id, shape, [1, 1, 1], n + 7);
    const t2 = new Float32Array(c.image.length);
    // Only the ellipsoid is non-zero in T2 and CT (CT air set to 0 too): the crop keeps < 75 % of the volume.
    for (let x = 0; x < t2.length; x++) {
      if ((c.image[x] as number) > -500) t2[x] = 300 + (c.image[x] as number) * 2;
      else c.image[x] = 0;
    }
    const affine = diagonalAffine([1, 1, 1]);
    await writeNifti(path.join(raw, 'imagesTr', `${id}_0000.nii.gz`), makeVolume(c.image, [...shape], affine));
    await writeNifti(path.join(raw, 'imagesTr', `${id}_0001.nii.gz`), makeVolume(t2, [...shape], affine));
    await writeNifti(path.join(raw, 'labelsTr', `${id}.nii.gz`), makeVolume(c.label, [...shape], affine));
  }
  writeFileSync(
    path.join(raw, 'dataset.json'),
    JSON.stringify({ name: 'TwoChannel', modality: { '0': 'CT', '1': 'T2' }, labels: { '0': 'background', '1': 'organ', '2': 'core' }, training: ids.map((id) => ({ image: `./imagesTr/${id}.nii.gz`, label: `./labelsTr/${id}.nii.gz` })) }),
  );
  const out = path.join(root, 'pp');
  const plans = await preprocessDataset({ datasetDir: raw, outDir: out, profile: 'cpu' });
  assert.deepEqual(plans.normalization, { schemes: ['CT', 'zscore'], use_nonzero_mask: [false, true] });
  assert.ok(plans.median_size_reduction < 0.75);
  assert.equal(plans.intensity?.length, 2);
  assert.equal(plans.intensity?.[1], null);
  assert.equal(plans.network.inChannels, 2);
  const pc = await loadPreprocessedCase(out, 'mm_a');
  assert.equal(pc.channels, 2);
  const n = pc.shape[0] * pc.shape[1] * pc.shape[2];
  assert.equal(pc.image.length, 2 * n);
  const header = await readNifti(path.join(out, 'mm_a.nii'));
  assert.deepEqual(header.shape, [...pc.shape, 2]);
  // T2: zero outside the non-zero region, mean 0 / std 1 inside it.
  let sum = 0;
  let count = 0;
  for (let x = 0; x < n; x++) {
    const v = pc.image[n + x] as number;
    if (pc.nonzero[x] === 0) assert.equal(v, 0);
    else {
      sum += v;
      count++;
    }
  }
  assert.ok(count > 0 && count < n, 'the crop box keeps some voxels outside the (filled) mask');
  assert.ok(Math.abs(sum / count) < 1e-4);
});
