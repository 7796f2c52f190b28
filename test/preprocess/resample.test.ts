import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers.js';
import type { Vec3 } from '../../src/util/vec3.js';
import { resampleImage, resampleLabels, separateZAxis, resampledShape, pyRound } from '../../src/preprocess/resample.js';

interface RefCase {
  name: string;
  shapeIn: Vec3;
  shapeOut: Vec3;
  isSeg: boolean;
  separateZAxis: number | null;
  input: number[];
  output: number[];
}
const cases = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/preprocess/resample_scipy.json'), 'utf8')) as RefCase[];

for (const c of cases.filter((x) => !x.isSeg)) {
  test(`cubic resampling equals scipy zoom(order=3) within 1e-4 relative: ${c.name}`, () => {
    const out = resampleImage(Float64Array.from(c.input), c.shapeIn, c.shapeOut, { order: 3, separateZAxis: c.separateZAxis });
    assert.equal(out.length, c.output.length);
    const scale = Math.max(...c.output.map(Math.abs));
    let worst = 0;
    for (let x = 0; x < out.length; x++) worst = Math.max(worst, Math.abs((out[x] as number) - (c.output[x] as number)) / scale);
    assert.ok(worst < 1e-4, `max relative error ${worst}`);
    assert.ok(worst < 1e-6, `expected float32-level agreement, got ${worst}`);
  });
}

for (const c of cases.filter((x) => x.isSeg)) {
  test(`label resampling equals nnU-Net's one-hot linear rule: ${c.name}`, () => {
    const out = resampleLabels(Int16Array.from(c.input), c.shapeIn, c.shapeOut, { separateZAxis: c.separateZAxis });
    assert.deepEqual(Array.from(out), c.output);
  });
}

test('separate-z decision follows nnU-Net get_do_separate_z', () => {
  assert.equal(separateZAxis([0.8, 0.8, 2.5], [0.8, 0.8, 2.5]), 2); // 2.5/0.8 = 3.125 > 3
  assert.equal(separateZAxis([0.8, 0.8, 2.4], [0.8, 0.8, 2.4]), null); // exactly 3 is not > 3
  assert.equal(separateZAxis([1, 1, 1], [1, 1, 1]), null);
  assert.equal(separateZAxis([0.24, 1.25, 1.25], [0.24, 1.25, 1.25]), null); // two low-res axes
  assert.equal(separateZAxis([1, 1, 1], [1, 1, 4]), 2); // original isotropic, target anisotropic
  assert.equal(separateZAxis([5, 1, 1], [1, 1, 4]), 0); // the original spacing decides first
});

test('resampled shape rounds half to even like numpy', () => {
  assert.equal(pyRound(2.5), 2);
  assert.equal(pyRound(3.5), 4);
  assert.deepEqual(resampledShape([512, 512, 100], [0.7, 0.7, 5], [0.8, 0.8, 2.5]), [448, 448, 200]);
});

test('identical shapes return the input unchanged', () => {
  const data = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(Array.from(resampleImage(data, [2, 2, 2], [2, 2, 2], { order: 3, separateZAxis: null })), Array.from(data));
});
