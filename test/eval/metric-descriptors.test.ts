/**
 * The metric descriptors (src/eval/metric-descriptors.ts): each formula on a hand-derived
 * comparison, the edge-case values against the formulas, the ranking's N/A substitutes, the
 * valid ranges and the texts the outputs are built from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_RANK_METRICS,
  isMetricName,
  isValidValue,
  metricDescriptor,
  metricTitle,
  METRIC_DESCRIPTORS,
  METRIC_NAMES,
  naPolicyText,
  notAvailableSubstitute,
  rankingValue,
  substituteDependsOnData,
  validRangeText,
  type MetricDescriptor,
} from '../../src/eval/metric-descriptors.js';
import type { LabelComparison } from '../../src/eval/surface.js';

const f64 = (...v: number[]) => Float64Array.from(v);

/**
 * Two masks of 4 voxels each sharing 3 (DSC = 6/8). Surface distances (mm) and areas (mm²):
 * G→P 0, 0, 1, 2.5 with areas 1, 1, 1, 1; P→G 0, 0.5, 3 with areas 2, 1, 1.
 * NSD@1 mm = (1+1+1 + 2+1) / (4 + 4) = 0.75. HD95: G→P cumulative share 0.25, 0.5, 0.75, 1 → first
 * ≥ 0.95 is 2.5; P→G 0.5, 0.75, 1 → 3; max = 3.
 */
const HAND: LabelComparison = {
  gtVoxels: 4,
  predVoxels: 4,
  intersectionVoxels: 3,
  surface: { distancesGtToPredMm: f64(0, 0, 1, 2.5), surfelAreasGtMm2: f64(1, 1, 1, 1), distancesPredToGtMm: f64(0, 0.5, 3), surfelAreasPredMm2: f64(2, 1, 1) },
};
const BOTH_EMPTY: LabelComparison = {
  gtVoxels: 0,
  predVoxels: 0,
  intersectionVoxels: 0,
  surface: { distancesGtToPredMm: f64(), surfelAreasGtMm2: f64(), distancesPredToGtMm: f64(), surfelAreasPredMm2: f64() },
};
/** An empty prediction: G's surface is infinitely far from P. */
const PRED_EMPTY: LabelComparison = {
  gtVoxels: 2,
  predVoxels: 0,
  intersectionVoxels: 0,
  surface: { distancesGtToPredMm: f64(Infinity, Infinity), surfelAreasGtMm2: f64(1, 1), distancesPredToGtMm: f64(), surfelAreasPredMm2: f64() },
};

test('metric names: dsc, nsd, hd95 in output order; DSC and NSD rank by default (paper §3.4)', () => {
  assert.deepEqual(METRIC_NAMES, ['dsc', 'nsd', 'hd95']);
  assert.deepEqual(DEFAULT_RANK_METRICS, ['dsc', 'nsd']);
  for (const d of METRIC_DESCRIPTORS) assert.match(d.name, /^[a-z][a-z0-9_]*$/, 'a name is a file-name-safe CSV token');
  assert.equal(new Set(METRIC_NAMES).size, METRIC_NAMES.length);
  assert.ok(isMetricName('hd95') && !isMetricName('HD95') && !isMetricName('jaccard'));
  assert.equal(metricDescriptor('nsd').displayName, 'NSD');
  assert.deepEqual(METRIC_DESCRIPTORS.map((d) => metricTitle(d)), ['DSC', 'NSD', 'HD95 (mm)']);
  assert.deepEqual(METRIC_DESCRIPTORS.map((d) => d.higherIsBetter), [true, true, false]);
});

test('each formula on a hand-derived comparison: DSC 0.75, NSD@1 mm 0.75 (NSD@0.5 mm 0.625), HD95 3 mm', () => {
  const at = (name: 'dsc' | 'nsd' | 'hd95', toleranceMm = 1) => metricDescriptor(name).compute(HAND, { toleranceMm });
  assert.equal(at('dsc'), 0.75);
  assert.equal(at('nsd'), 0.75);
  assert.equal(at('nsd', 0.5), 5 / 8); // G: 0, 0 (2 of 4); P: 0, 0.5 (3 of 4)
  assert.equal(at('hd95'), 3);
});

test("each descriptor's both-empty value is what its formula gives for a label absent from both masks", () => {
  for (const d of METRIC_DESCRIPTORS) assert.ok(Object.is(d.compute(BOTH_EMPTY, { toleranceMm: 1 }), d.bothEmptyValue), d.name);
  assert.deepEqual(METRIC_DESCRIPTORS.map((d) => d.bothEmptyValue), [NaN, NaN, Infinity]);
  // An empty prediction: DSC 0, NSD 0, HD95 +inf (DeepMind's edge-case policy, docs/evaluation.md).
  assert.deepEqual(METRIC_DESCRIPTORS.map((d) => d.compute(PRED_EMPTY, { toleranceMm: 1 })), [0, 0, Infinity]);
});

test('valid values: DSC/NSD within [0, 1] or NaN; HD95 >= 0, NaN or +inf', () => {
  const dsc = metricDescriptor('dsc');
  const hd = metricDescriptor('hd95');
  for (const v of [0, 0.5, 1, NaN]) assert.ok(isValidValue(dsc, v), String(v));
  for (const v of [-1e-9, 1.0000001, Infinity, -Infinity]) assert.ok(!isValidValue(dsc, v), String(v));
  for (const v of [0, 123.4, Infinity, NaN]) assert.ok(isValidValue(hd, v), String(v));
  for (const v of [-0.1, -Infinity]) assert.ok(!isValidValue(hd, v), String(v));
  assert.equal(validRangeText(dsc), 'within [0, 1] or nan');
  assert.equal(validRangeText(hd), '>= 0 mm, nan or inf');
});

test('N/A policy (paper footnote 10): DSC/NSD count as 0; HD95 as the largest finite HD95 of the task + 1 mm (1 mm without one)', () => {
  const taskValues = [3, Infinity, NaN, 7.5, 0];
  assert.equal(notAvailableSubstitute(metricDescriptor('dsc'), [0.2, NaN]), 0);
  assert.equal(notAvailableSubstitute(metricDescriptor('nsd'), []), 0);
  assert.equal(notAvailableSubstitute(metricDescriptor('hd95'), taskValues), 8.5);
  assert.equal(notAvailableSubstitute(metricDescriptor('hd95'), [Infinity, NaN]), 1);
  assert.equal(rankingValue(Infinity, 8.5), 8.5);
  assert.equal(rankingValue(NaN, 0), 0);
  assert.equal(rankingValue(0.25, 0), 0.25);
  assert.deepEqual(METRIC_DESCRIPTORS.map(substituteDependsOnData), [false, false, true]);
  // The same policy for a higher-is-better metric moves below its smallest finite value.
  const higher: MetricDescriptor = { ...metricDescriptor('hd95'), higherIsBetter: true, bounds: { min: 0, max: 100 } };
  assert.equal(notAvailableSubstitute(higher, [40, 12, Infinity]), 11);
  assert.equal(notAvailableSubstitute(higher, [NaN]), 99);
});

test('the N/A policy in words (leaderboard rule, Table 2)', () => {
  assert.equal(naPolicyText(METRIC_DESCRIPTORS), "N/A DSC/NSD count as 0; infinite HD95 as the task's largest finite HD95 + 1 mm");
  assert.equal(naPolicyText([metricDescriptor('hd95')]), "infinite HD95 as the task's largest finite HD95 + 1 mm");
});
