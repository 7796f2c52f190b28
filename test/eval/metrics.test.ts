import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Vec3 } from '../../src/util/vec3.js';
import { computeSurfaceDistances } from '../../src/eval/surface.js';
import { averageSurfaceDistance, dsc, hd95, nsd, robustHausdorff } from '../../src/eval/metrics.js';
import { evaluateCase } from '../../src/eval/case-metrics.js';
import { FIXTURE_CASES, close, decodeRuns, num, type FixtureCase, type Num } from './deepmind-fixture.js';

/** The fixture's arrays are C-order (last axis fastest): pass the reversed shape and spacing. */
function load(c: FixtureCase) {
  const n = c.shape[0] * c.shape[1] * c.shape[2];
  const shape: Vec3 = [c.shape[2], c.shape[1], c.shape[0]];
  const spacing: Vec3 = [c.spacing_mm[2], c.spacing_mm[1], c.spacing_mm[0]];
  return { gt: decodeRuns(c.gt_runs, n), pred: decodeRuns(c.pred_runs, n), shape, spacing };
}

test('the fixture has the 16 DeepMind cases', () => {
  assert.equal(FIXTURE_CASES.length, 16);
});

for (const c of FIXTURE_CASES) {
  test(`DeepMind reference: ${c.name}`, () => {
    const { gt, pred, shape, spacing } = load(c);
    const sd = computeSurfaceDistances(gt, pred, shape, spacing);
    let g = 0, p = 0, both = 0;
    for (let i = 0; i < gt.length; i++) {
      g += gt[i] as number;
      p += pred[i] as number;
      both += (gt[i] as number) & (pred[i] as number);
    }
    const d = c.diagnostics;
    assert.equal(sd.distancesGtToPredMm.length, num(d['n_surfels_gt'] as Num), 'gt surfel count');
    assert.equal(sd.distancesPredToGtMm.length, num(d['n_surfels_pred'] as Num), 'pred surfel count');
    const sum = (a: Float64Array) => a.reduce((s, v) => s + v, 0);
    assert.ok(close(sum(sd.surfelAreasGtMm2), num(d['surface_area_gt_mm2'] as Num), 1e-9), 'gt surface area');
    assert.ok(close(sum(sd.surfelAreasPredMm2), num(d['surface_area_pred_mm2'] as Num), 1e-9), 'pred surface area');
    const got = { dsc: dsc(g, p, both), nsd: nsd(sd, 1), hd95: hd95(sd) };
    assert.ok(close(got.dsc, num(c.expected.dsc), 1e-6), `dsc ${got.dsc} vs ${c.expected.dsc}`);
    assert.ok(close(got.nsd, num(c.expected.nsd_tau1mm), 1e-6), `nsd ${got.nsd} vs ${c.expected.nsd_tau1mm}`);
    assert.ok(close(got.hd95, num(c.expected.hd95_mm), 0, 1e-6), `hd95 ${got.hd95} vs ${c.expected.hd95_mm}`);
    // diagnostics, which localise a bug: NSD at 2 mm, HD100, directed HD95s, ASDs
    assert.ok(close(nsd(sd, 2), num(d['nsd_tau2mm'] as Num), 1e-6), 'nsd@2mm');
    assert.ok(close(robustHausdorff(sd, 100), num(d['hd100_mm'] as Num), 0, 1e-6), 'hd100');
    const [asdGp, asdPg] = averageSurfaceDistance(sd);
    assert.ok(close(asdGp, num(d['asd_gt_to_pred_mm'] as Num), 1e-6), `asd gt→pred ${asdGp}`);
    assert.ok(close(asdPg, num(d['asd_pred_to_gt_mm'] as Num), 1e-6), `asd pred→gt ${asdPg}`);
    // the label-volume path gives the same numbers
    const [m] = evaluateCase(gt, pred, shape, spacing, [1], 1);
    assert.ok(m !== undefined && close(m.dsc, got.dsc, 0, 0) && close(m.nsd, got.nsd, 0, 0) && close(m.hd95, got.hd95, 0, 0));
  });
}
