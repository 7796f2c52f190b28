import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers.js';
import type { Vec3 } from '../../src/util/vec3.js';
import { surfelAreaTable, cornerBit } from '../../src/eval/surfel-table.js';
import { computeSurfaceDistances } from '../../src/eval/surface.js';
import { dsc, hd95, nsd, robustHausdorff, pairwiseSum } from '../../src/eval/metrics.js';
import { evaluateCase } from '../../src/eval/case-metrics.js';
import { Rng } from '../../src/util/rng.js';

const reference = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'eval', 'deepmind-surfel-areas.json'), 'utf8')) as {
  tables: { spacing_mm: Vec3; areas_mm2: number[] }[];
};

test('surfel areas computed from marching-cubes geometry equal DeepMind\'s table for all 256 codes', () => {
  assert.equal(reference.tables.length, 3);
  for (const t of reference.tables) {
    const ours = surfelAreaTable(t.spacing_mm);
    for (let code = 0; code < 256; code++) {
      const want = t.areas_mm2[code] as number;
      assert.ok(Math.abs((ours[code] as number) - want) <= 1e-12 * Math.max(1, want), `code ${code} spacing ${t.spacing_mm}: ${ours[code]} vs ${want}`);
    }
  }
});

test('surfel areas: hand-derived values and symmetries', () => {
  const t = surfelAreaTable([1, 1, 1]);
  assert.equal(t[0], 0);
  assert.equal(t[255], 0);
  assert.ok(Math.abs((t[1] as number) - Math.sqrt(3) / 8) < 1e-15); // one corner cut off
  assert.ok(Math.abs((t[cornerBit(1, 1, 1) | cornerBit(1, 1, 0)] as number) - Math.SQRT2 / 2) < 1e-15); // an edge
  assert.ok(Math.abs((t[cornerBit(1, 0, 0) | cornerBit(1, 0, 1) | cornerBit(1, 1, 0) | cornerBit(1, 1, 1)] as number) - 1) < 1e-15); // a face
  // corner + its three neighbours: a regular hexagon of side √2/2, area (3√3/2)·½
  assert.ok(Math.abs((t[cornerBit(0, 0, 0) | cornerBit(1, 0, 0) | cornerBit(0, 1, 0) | cornerBit(0, 0, 1)] as number) - (3 * Math.sqrt(3)) / 4) < 1e-15);
  // anisotropic: a face perpendicular to axis 0 scales with s1·s2
  const a = surfelAreaTable([0.5, 2, 3]);
  assert.ok(Math.abs((a[cornerBit(1, 0, 0) | cornerBit(1, 0, 1) | cornerBit(1, 1, 0) | cornerBit(1, 1, 1)] as number) - 6) < 1e-14);
  for (let c = 0; c < 256; c++) assert.ok(Math.abs((a[c] as number) - (a[255 - c] as number)) < 1e-14, `complement symmetry ${c}`);
});

function volume(shape: Vec3, voxels: Vec3[]): Uint8Array {
  const m = new Uint8Array(shape[0] * shape[1] * shape[2]);
  for (const [x, y, z] of voxels) m[x + shape[0] * (y + shape[1] * z)] = 1;
  return m;
}

test('analytic: two single voxels 3 apart along a 2 mm axis', () => {
  // corners of gt at x ∈ {2,3}, of pred at x ∈ {5,6} (corner units): nearest distances 2 or 3 steps of 2 mm
  const shape: Vec3 = [10, 4, 4];
  const spacing: Vec3 = [2, 1, 1];
  const sd = computeSurfaceDistances(volume(shape, [[2, 1, 1]]), volume(shape, [[5, 1, 1]]), shape, spacing);
  assert.deepEqual([...sd.distancesGtToPredMm], [4, 4, 4, 4, 6, 6, 6, 6]);
  assert.deepEqual([...sd.distancesPredToGtMm], [4, 4, 4, 4, 6, 6, 6, 6]);
  // all 8 corners of an isolated voxel have the same area: ‖(s1 s2, s0 s2, s0 s1)‖/8
  const corner = Math.hypot(1, 2, 2) / 8;
  for (const a of sd.surfelAreasGtMm2) assert.ok(Math.abs(a - corner) < 1e-15);
  assert.equal(hd95(sd), 6); // half the area is at 4 mm: the 95th percentile is the 6 mm half
  assert.equal(robustHausdorff(sd, 50), 4); // cumsum reaches exactly 0.5 at the last 4 mm surfel
  assert.equal(nsd(sd, 4), 0.5);
  assert.equal(nsd(sd, 3.999), 0);
  assert.equal(nsd(sd, 6), 1);
});

test('analytic: identical masks give DSC 1, NSD 1, HD95 0; neighbouring voxels share a face', () => {
  const shape: Vec3 = [8, 8, 8];
  const slab: Vec3[] = [];
  for (let y = 0; y < 8; y++) for (let z = 0; z < 8; z++) for (let x = 2; x <= 4; x++) slab.push([x, y, z]);
  const [same] = evaluateCase(volume(shape, slab), volume(shape, slab), shape, [1.5, 1, 1], [1], 1);
  assert.deepEqual([same?.dsc, same?.nsd, same?.hd95], [1, 1, 0]);
  // voxel (2,3,3) vs (3,3,3), 1.5 mm apart along axis 0: the 4 corners of the shared face are at
  // distance 0, the other 4 at 1.5 mm, all with the same area
  const [m] = evaluateCase(volume(shape, [[2, 3, 3]]), volume(shape, [[3, 3, 3]]), shape, [1.5, 1, 1], [1], 1);
  assert.deepEqual([m?.dsc, m?.nsd, m?.hd95], [0, 0.5, 1.5]);
  const [m2] = evaluateCase(volume(shape, [[2, 3, 3]]), volume(shape, [[3, 3, 3]]), shape, [1.5, 1, 1], [1], 1.5);
  assert.equal(m2?.nsd, 1); // ≤ τ counts
});

test('edge cases: empty prediction, empty ground truth, both empty (per label of a multi-label case)', () => {
  const shape: Vec3 = [6, 6, 6];
  const gt = new Uint8Array(216);
  const pred = new Uint8Array(216);
  gt[shape[0] * 2 + 2 + 36 * 2] = 1; // label 1 only in gt
  pred[shape[0] * 3 + 3 + 36 * 3] = 2; // label 2 only in pred
  const [l1, l2, l3] = evaluateCase(gt, pred, shape, [1, 1, 1], [1, 2, 3], 1);
  assert.deepEqual([l1?.dsc, l1?.nsd, l1?.hd95], [0, 0, Infinity]);
  assert.deepEqual([l2?.dsc, l2?.nsd, l2?.hd95], [0, 0, Infinity]);
  assert.ok(l3 !== undefined && Number.isNaN(l3.dsc) && Number.isNaN(l3.nsd) && l3.hd95 === Infinity);
  assert.ok(Number.isNaN(dsc(0, 0, 0)));
});

test('multi-label: each label is scored on its own voxels', () => {
  const shape: Vec3 = [10, 6, 6];
  const gt = new Uint8Array(360);
  const pred = new Uint8Array(360);
  const at = (x: number, y: number, z: number) => x + 10 * (y + 6 * z);
  for (let y = 1; y < 5; y++) for (let z = 1; z < 5; z++) {
    for (let x = 1; x < 4; x++) { gt[at(x, y, z)] = 1; pred[at(x, y, z)] = 1; }
    for (let x = 5; x < 9; x++) { gt[at(x, y, z)] = 2; pred[at(x, y, z)] = x < 8 ? 2 : 0; }
  }
  const [a, b] = evaluateCase(gt, pred, shape, [1, 1, 1], [1, 2], 1);
  assert.deepEqual([a?.dsc, a?.nsd, a?.hd95, a?.gtVoxels], [1, 1, 0, 48]);
  assert.equal(b?.dsc, (2 * 48) / (64 + 48));
  assert.equal(b?.hd95, 1);
  assert.equal(b?.nsd, 1);
});

test('pairwiseSum matches numpy\'s blocking (exact for integers, same association as np.sum)', () => {
  const a = Float64Array.from({ length: 1000 }, (_, i) => i + 1);
  assert.equal(pairwiseSum(a), 500500);
  assert.equal(pairwiseSum(new Float64Array(0)), 0);
  // 0.1 summed 10 times: sequential gives 0.9999999999999999, numpy's unrolled blocks give 1
  const tenth = new Float64Array(10).fill(0.1);
  assert.equal(pairwiseSum(tenth), 1);
});
