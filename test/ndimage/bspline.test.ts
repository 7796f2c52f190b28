/**
 * The cubic B-spline prefilter and weights (src/ndimage/bspline.ts): coefficients equal scipy's
 * `spline_filter1d(order=3)` for both boundary extensions, the spline through the coefficients
 * passes through the samples, the volume filter equals the line filter bit for bit, and the two
 * float orders of the weights are the same polynomials.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { cubicBSplineWeights, splineFilter, splinePrefilter } from '../../src/ndimage/bspline.js';

const LINE = [0, 1, 0, 2, 5, 3];

test('prefilter equals scipy.ndimage.spline_filter1d(order=3) (mirror) and the exact coefficients (reflect)', () => {
  const want = {
    // scipy 1.17.1: spline_filter1d([0, 1, 0, 2, 5, 3], 3, mode='mirror')
    mirror: [-0.9808612440191389, 1.9617224880382778, -0.8660287081339715, 1.5023923444976082, 6.85645933014354, 1.0717703349282304],
    // numpy.linalg.solve of (c[k−1] + 4c[k] + c[k+1])/6 = f[k] with c[−1] = c[0], c[n] = c[n−1];
    // scipy 1.17.1's mode='reflect' agrees to 7e-8 (its initial value is approximate there)
    reflect: [-0.36025641025641025, 1.8012820512820513, -0.8448717948717948, 1.578205128205128, 6.532051282051283, 2.2935897435897434],
  };
  for (const boundary of ['mirror', 'reflect'] as const) {
    const buf = Float64Array.from(LINE);
    splinePrefilter(buf, LINE.length, 1, boundary);
    for (let t = 0; t < LINE.length; t++) assert.ok(Math.abs((buf[t] as number) - (want[boundary][t] as number)) < 1e-12, `${boundary} ${t}: ${buf[t]}`);
  }
});

test('the spline through the coefficients passes through the samples: (c[k−1] + 4c[k] + c[k+1])/6 = f[k]', () => {
  const rng = new Rng(4);
  const n = 57;
  const f = Array.from({ length: n }, () => rng.normal());
  for (const boundary of ['mirror', 'reflect'] as const) {
    const c = Float64Array.from(f);
    splinePrefilter(c, n, 1, boundary);
    // the extensions: mirror c[−1] = c[1], c[n] = c[n−2]; reflect c[−1] = c[0], c[n] = c[n−1]
    const at = (k: number): number => (k < 0 ? (boundary === 'mirror' ? c[1] : c[0]) : k >= n ? (boundary === 'mirror' ? c[n - 2] : c[n - 1]) : c[k]) as number;
    for (let k = 0; k < n; k++) assert.ok(Math.abs((at(k - 1) + 4 * at(k) + at(k + 1)) / 6 - (f[k] as number)) < 1e-12, `${boundary} ${k}`);
  }
});

test('splineFilter of a volume equals the line prefilter on every line of every axis, bit for bit', () => {
  const rng = new Rng(5);
  const dims: [number, number, number] = [7, 5, 90]; // 35 lines along k: one partial block of columns
  const n = dims[0] * dims[1] * dims[2];
  const data = Float32Array.from({ length: n }, () => rng.normal());
  const want = Float32Array.from(data);
  const strides = [1, dims[0], dims[0] * dims[1]];
  for (let axis = 0; axis < 3; axis++) {
    const len = dims[axis] as number;
    const stride = strides[axis] as number;
    for (let base = 0; base < n; base++) {
      // a line starts where the index along `axis` is 0
      if (Math.floor(base / stride) % len !== 0) continue;
      const line = Float64Array.from({ length: len }, (_, t) => want[base + t * stride] as number);
      splinePrefilter(line, len, 1, 'mirror');
      for (let t = 0; t < len; t++) want[base + t * stride] = line[t] as number;
    }
  }
  splineFilter(data, dims, 'mirror');
  assert.deepEqual(Array.from(data), Array.from(want));
});

test('cubic weights: both float orders are the same polynomials (partition of unity, values at t = 0 and ½)', () => {
  for (const order of ['highest-power-first', 'lowest-power-first'] as const) {
    const w0 = cubicBSplineWeights(0, order);
    assert.deepEqual(w0.map((v) => v * 6), [1, 4, 1, 0]);
    const wh = cubicBSplineWeights(0.5, order);
    assert.deepEqual(wh.map((v) => v * 48), [1, 23, 23, 1]);
    for (let t = 0; t < 1; t += 0.0625) {
      const w = cubicBSplineWeights(t, order);
      assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-15);
      const other = cubicBSplineWeights(t, order === 'highest-power-first' ? 'lowest-power-first' : 'highest-power-first');
      for (let k = 0; k < 4; k++) assert.ok(Math.abs((w[k] as number) - (other[k] as number)) < 1e-15);
    }
  }
});
