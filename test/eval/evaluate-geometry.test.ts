/**
 * `segloss evaluate` compares each prediction's geometry with its reference's — spacing, origin
 * and direction within np.allclose's default tolerance — and refuses a misplaced prediction (exit 2,
 * naming both files) instead of scoring it as if aligned.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Affine } from '../../src/data/volume.js';
import { allClose } from '../../src/eval/grid-check.js';
import { AFFINE, evaluate, meanDsc, prediction, writeCase } from './input-fixture.js';

test('aligned and valid: DSC 0.975, uint8 or int32 files', () => {
  for (const c of [writeCase(prediction((n) => new Uint8Array(n))), writeCase(prediction((n) => new Int32Array(n)))]) {
    const r = evaluate(c);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(meanDsc(c), 0.975);
    assert.match(readFileSync(path.join(c.root, 'out', 'results.csv'), 'utf8'), /^T,L,case_1,dsc,0\.975$/m);
  }
});

test('a prediction shifted by 40 mm is exit 2 naming both files and the two origins', () => {
  const shifted: Affine = AFFINE.map((row) => [...row]) as Affine;
  (shifted[0] as number[])[3] = -20 + 40;
  const c = writeCase(prediction((n) => new Uint8Array(n)), shifted);
  const r = evaluate(c);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  assert.ok(r.stderr.includes(c.predFile) && r.stderr.includes(c.gtFile), r.stderr);
  assert.match(r.stderr, /origin \(20, 30, 5\) mm differs from the reference's \(-20, 30, 5\) mm/);
});

test('a prediction with a flipped x axis is exit 2 naming both files and the two orientations', () => {
  const flipped: Affine = [[-1, 0, 0, -20 + 9], [0, 1, 0, 30], [0, 0, 2, 5], [0, 0, 0, 1]];
  const c = writeCase(prediction((n) => new Uint8Array(n)), flipped);
  const r = evaluate(c);
  assert.equal(r.status, 2, r.stderr);
  assert.ok(r.stderr.includes(c.predFile) && r.stderr.includes(c.gtFile), r.stderr);
  assert.match(r.stderr, /axis directions LAS .* differ from the reference's RAS/);
});

test('geometry within float32 header round-off (1e-7 relative) is accepted', () => {
  const nearly: Affine = AFFINE.map((row) => row.map((v) => v * (1 + 1e-7))) as Affine;
  (nearly[3] as number[])[3] = 1;
  const c = writeCase(prediction((n) => new Uint8Array(n)), nearly);
  const r = evaluate(c);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(meanDsc(c), 0.975);
});

test('the tolerance is np.allclose(prediction, reference): |p − r| ≤ 1e-8 + 1e-5·|r| per component', () => {
  assert.ok(allClose([20.0001, 30, 5], [20, 30, 5]), '1e-4 mm at 20 mm is within 2e-4 mm');
  assert.ok(!allClose([20.001, 30, 5], [20, 30, 5]), '1e-3 mm at 20 mm is not');
  assert.ok(allClose([1e-8], [0]) && !allClose([2e-8], [0]), 'near 0 only the absolute 1e-8 remains');
  assert.ok(!allClose([1, 0, 0], [-1, 0, 0]), 'a flipped direction');
});
