import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { runSegloss, tempDir } from '../helpers.js';
import { synthesizeToyCase, TOY_TASKS, TOY_SHAPE, ANATOMY_RATIOS, type ToyTaskId } from '../../src/data/synth/toy.js';
import { ORGANS } from '../../src/data/synth/anatomy.js';
import { readNiftiSync } from '../../src/data/nifti.js';
import { loadDataset } from '../../src/data/dataset.js';

const root = tempDir('segloss-synth-');

function filesOf(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const sub of ['', 'imagesTr', 'labelsTr']) {
    for (const name of readdirSync(path.join(dir, sub))) {
      if (name === 'imagesTr' || name === 'labelsTr') continue;
      out.set(path.join(sub, name), readFileSync(path.join(dir, sub, name)));
    }
  }
  return out;
}

test('segloss synth: same seed gives byte-identical files, another seed different ones; MSD layout with declared labels', () => {
  const a = path.join(root, 'a');
  const b = path.join(root, 'b');
  const c = path.join(root, 'c');
  for (const [dir, seed] of [[a, '7'], [b, '7'], [c, '8']] as const) {
    const r = runSegloss(['--seed', seed, '--quiet', 'synth', '--task', 'toy-multiorgan', '--cases', '2', '--out', dir]);
    assert.equal(r.status, 0, r.stderr);
  }
  const fa = filesOf(a);
  const fb = filesOf(b);
  const fc = filesOf(c);
  assert.equal(fa.size, 5); // dataset.json + 2 images + 2 labels
  for (const [name, bytes] of fa) assert.equal(Buffer.compare(bytes, fb.get(name) as Buffer), 0, `${name} differs between runs`);
  assert.notEqual(Buffer.compare(fa.get('imagesTr/toymultiorgan_000.nii.gz') as Buffer, fc.get('imagesTr/toymultiorgan_000.nii.gz') as Buffer), 0);
  const ds = loadDataset(a);
  assert.equal(ds.layout, 'msd');
  assert.deepEqual(ds.modalities, ['CT']);
  assert.deepEqual(ds.labels.map((l) => l.name), ['background', 'spleen', 'liver', 'stomach']);
  const img = readNiftiSync(ds.training[0]!.images[0]!);
  assert.deepEqual(img.shape, TOY_SHAPE);
  assert.deepEqual(img.spacingMm, [1.2, 1.2, 3.75]);
  const lab = readNiftiSync(ds.training[0]!.label!, { kind: 'label' });
  assert.deepEqual([...new Set(lab.data)].sort(), [0, 1, 2, 3]);
});

test('case n does not depend on how many cases are made', () => {
  const one = synthesizeToyCase('toy-liver', 5, 3);
  const again = synthesizeToyCase('toy-liver', 5, 3);
  assert.deepEqual(one.image, again.image);
  assert.deepEqual(one.label, again.label);
  assert.notDeepEqual(synthesizeToyCase('toy-liver', 5, 4).image, one.image);
});

/** BG:FG over 20 cases per label, as Table 1 defines it (all voxels of all cases). */
function ratios(task: ToyTaskId): { ratios: Map<number, number>; cases: ReturnType<typeof synthesizeToyCase>[] } {
  const counts = new Map<number, number>();
  let total = 0;
  const cases = [];
  for (let n = 0; n < 20; n++) {
    const c = synthesizeToyCase(task, 2021, n);
    cases.push(c);
    total += c.label.length;
    for (const v of c.label) if (v > 0) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return { ratios: new Map([...counts].map(([v, n]) => [v, (total - n) / n])), cases };
}

const within = (actual: number, target: number, rel: number) => Math.abs(actual - target) <= rel * target;

test('foreground ratios follow Table 1: liver 42:1, tumour 576:1 inside the liver, pancreas 503:1, multi-organ liver 30:1, stomach 100:1, spleen 180:1', () => {
  const liver = ratios('toy-liver').ratios.get(1) as number;
  assert.ok(within(liver, 42, 0.15), `liver ${liver}`);
  const pancreas = ratios('toy-pancreas').ratios.get(1) as number;
  assert.ok(within(pancreas, 503, 0.15), `pancreas ${pancreas}`);
  const tumour = ratios('toy-livertumor');
  assert.ok(within(tumour.ratios.get(1) as number, 576, 0.15), `tumour ${tumour.ratios.get(1)}`);
  const liverIndex = ORGANS.indexOf('liver') + 1;
  for (const c of tumour.cases) {
    let inTumour = 0;
    for (let n = 0; n < c.label.length; n++) {
      if (c.label[n] === 1) {
        inTumour += 1;
        assert.equal(c.anatomy[n], liverIndex, `${c.id}: tumour voxel ${n} outside the liver`);
      }
    }
    assert.ok(inTumour > 0, `${c.id} has no tumour`);
  }
  const multi = ratios('toy-multiorgan').ratios;
  assert.deepEqual([...multi.keys()].sort(), [1, 2, 3]);
  assert.ok(within(multi.get(1) as number, 180, 0.15), `spleen ${multi.get(1)}`);
  assert.ok(within(multi.get(2) as number, 30, 0.15), `liver ${multi.get(2)}`);
  assert.ok(within(multi.get(3) as number, 100, 0.15), `stomach ${multi.get(3)}`);
});

test('a labelled stomach is filled with oral contrast (no gas pocket); an unlabelled one keeps its gas', () => {
  // Gas in a label would set the CT normalisation's lower clip near −600 HU (nnU-Net V1 clips at the
  // 0.5th percentile of the labelled voxels) and compress every soft-tissue contrast.
  const stomachIndex = ORGANS.indexOf('stomach') + 1;
  const gasVoxels = (task: 'toy-multiorgan' | 'toy-liver') => {
    let gas = 0;
    for (let n = 0; n < 5; n++) {
      const c = synthesizeToyCase(task, 2021, n);
      for (let x = 0; x < c.image.length; x++) if (c.anatomy[x] === stomachIndex && (c.image[x] as number) < -500) gas++;
    }
    return gas;
  };
  assert.equal(gasVoxels('toy-multiorgan'), 0);
  assert.ok(gasVoxels('toy-liver') > 20, 'the unlabelled stomach of toy-liver has its gas pocket');
});

test('intensities are CT-like; the spleen is about 85 HU brighter than the liver, the tumour about 95 HU', () => {
  const c = synthesizeToyCase('toy-liver', 2021, 0);
  let min = Infinity;
  let max = -Infinity;
  const liver: number[] = [];
  const spleen: number[] = [];
  const spleenIndex = ORGANS.indexOf('spleen') + 1;
  for (let n = 0; n < c.image.length; n++) {
    const v = c.image[n] as number;
    min = Math.min(min, v);
    max = Math.max(max, v);
    if (c.label[n] === 1) liver.push(v);
    if (c.anatomy[n] === spleenIndex) spleen.push(v);
  }
  assert.equal(min, -1024); // air, clipped like a scanner
  assert.ok(max > 300 && max < 3072, `bone present, max ${max}`);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(liver) > 40 && mean(liver) < 160, `liver mean ${mean(liver)}`);
  // Nominal spleen 180 vs liver 95 HU, each ±10 HU per case (toy.ts ORGAN_HU), blurred towards
  // their surroundings at the edges (the small spleen loses more): the difference lies within 30…120 HU.
  const diff = mean(spleen) - mean(liver);
  assert.ok(diff > 30 && diff < 120, `spleen ${mean(spleen)} vs liver ${mean(liver)}`);
  // The lesion is 80–110 HU above its liver; 26 voxels lose contrast to the blur, but keep over 40.
  const t = synthesizeToyCase('toy-livertumor', 2021, 0);
  const inTumour: number[] = [];
  const inLiver: number[] = [];
  const liverIndex = ORGANS.indexOf('liver') + 1;
  for (let n = 0; n < t.image.length; n++) {
    if (t.label[n] === 1) inTumour.push(t.image[n] as number);
    else if (t.anatomy[n] === liverIndex) inLiver.push(t.image[n] as number);
  }
  const lift = mean(inTumour) - mean(inLiver);
  assert.ok(lift > 40 && lift < 110, `tumour ${mean(inTumour)} vs liver ${mean(inLiver)}`);
});

test('every toy task: each case carves the intended foreground fraction of its label (seed 2021, hand-derived bounds)', () => {
  // Each label gets count = round(N / (ratio + 1) · exp(0.15·z)) voxels with z ~ N(0, 1) per case
  // (toy.ts countFor): for |z| ≤ 3.5 the fraction count / N lies in [e^−0.525, e^0.525] / (ratio + 1)
  // = [0.59, 1.69] / (ratio + 1). N = 32·32·16 = 16384, so e.g. the liver (42:1) has 225 to 644
  // voxels and the tumour (576:1) 17 to 48.
  const voxels = TOY_SHAPE[0] * TOY_SHAPE[1] * TOY_SHAPE[2];
  assert.equal(voxels, 16384);
  for (const task of Object.values(TOY_TASKS)) {
    const intended = { ...ANATOMY_RATIOS, ...task.ratios };
    for (let n = 0; n < 6; n++) {
      const c = synthesizeToyCase(task.id, 2021, n);
      for (const l of task.labels) {
        let count = 0;
        for (const v of c.label) if (v === l.value) count += 1;
        const ratio = intended[l.source];
        const lo = (Math.exp(-0.525) / (ratio + 1)) * voxels;
        const hi = (Math.exp(0.525) / (ratio + 1)) * voxels;
        assert.ok(count >= Math.floor(lo) && count <= Math.ceil(hi), `${c.id} ${l.name}: ${count} voxels, expected ${lo.toFixed(1)}…${hi.toFixed(1)}`);
      }
    }
  }
});
