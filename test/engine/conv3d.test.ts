/**
 * conv3d / conv3dTranspose equivalence: forward, input gradient and filter gradient of segloss's
 * decomposition (on wasm and on cpu) against tfjs's own tf.conv3d on the cpu backend (whose
 * kernels are correct), max error ≤ 1e-4 relative to the largest reference magnitude.
 * conv3dTranspose has no gradient in tfjs, so its references are the adjoint identity
 * (dx = conv3d(dy, f, strides) on cpu) and explicit loops (df).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Rng } from '../../src/util/rng.js';
import { conv3d, conv3dTranspose, conv3dNative, resolvePadding, setConvImplementation, type ConvPadding, type Triple } from '../../src/engine/conv3d.js';
import { maxRelativeError } from '../helpers.js';

function randn(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

type Shape5 = [number, number, number, number, number];

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

interface Result {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
  shape: number[];
}

/** y = op(x, w); gradients of Σ y·r for a fixed random r. */
function evaluate(op: (x: tf.Tensor5D, w: tf.Tensor5D) => tf.Tensor5D, x: Float32Array, xShape: number[], w: Float32Array, wShape: number[], rSeed: number): Result {
  return tf.tidy(() => {
    const xt = tf.tensor5d(x, xShape as Shape5);
    const wt = tf.tensor5d(w, wShape as Shape5);
    const y = op(xt, wt);
    const r = tf.tensor(randn(new Rng(rSeed), size(y.shape)), y.shape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(op(a as tf.Tensor5D, b as tf.Tensor5D), r)))([xt, wt]);
    return { y: y.dataSync() as Float32Array, dx: dx!.dataSync() as Float32Array, dw: dw!.dataSync() as Float32Array, shape: y.shape };
  });
}

interface Case {
  name: string;
  x: number[];
  kernel: Triple;
  co: number;
  strides: Triple;
  pad: ConvPadding;
}

const CASES: Case[] = [
  { name: '3x3x3 s1 same, batch 2, odd sizes', x: [2, 5, 6, 7, 3], kernel: [3, 3, 3], co: 4, strides: [1, 1, 1], pad: 'same' },
  { name: '3x3x3 s2 pad 1 (PyTorch), even', x: [1, 6, 8, 4, 2], kernel: [3, 3, 3], co: 3, strides: [2, 2, 2], pad: [[1, 1], [1, 1], [1, 1]] },
  { name: '3x3x3 s2 pad 1 (PyTorch), odd, batch 2', x: [2, 5, 7, 3, 2], kernel: [3, 3, 3], co: 3, strides: [2, 2, 2], pad: [[1, 1], [1, 1], [1, 1]] },
  { name: '3x3x3 s2 TF same, odd', x: [2, 5, 7, 6, 2], kernel: [3, 3, 3], co: 3, strides: [2, 2, 2], pad: 'same' },
  { name: '1x3x3 s(1,2,2) anisotropic', x: [2, 3, 8, 6, 2], kernel: [1, 3, 3], co: 4, strides: [1, 2, 2], pad: [[0, 0], [1, 1], [1, 1]] },
  { name: '1x3x3 s1 anisotropic', x: [1, 3, 5, 6, 3], kernel: [1, 3, 3], co: 2, strides: [1, 1, 1], pad: [[0, 0], [1, 1], [1, 1]] },
  { name: '1x1x1 head, batch 2', x: [2, 3, 4, 5, 4], kernel: [1, 1, 1], co: 2, strides: [1, 1, 1], pad: 'valid' },
  { name: '2x2x2 s2 valid', x: [1, 4, 6, 8, 3], kernel: [2, 2, 2], co: 5, strides: [2, 2, 2], pad: 'valid' },
  { name: '3x3x3 s1 same, deep input', x: [2, 40, 4, 3, 2], kernel: [3, 3, 3], co: 3, strides: [1, 1, 1], pad: 'same' },
  { name: '3x3x3 s1 same, dy > 1M floats (row-chunked filter gradient)', x: [1, 8, 64, 64, 2], kernel: [3, 3, 3], co: 40, strides: [1, 1, 1], pad: 'same' },
  { name: '3x3x3 s1 valid, Ci 1', x: [2, 6, 5, 7, 1], kernel: [3, 3, 3], co: 4, strides: [1, 1, 1], pad: 'valid' },
];

async function onBackend<T>(name: string, fn: () => T): Promise<T> {
  await tf.setBackend(name);
  await tf.ready();
  assert.equal(tf.getBackend(), name);
  return fn();
}

for (const c of CASES) {
  test(`conv3d ${c.name}: decomposition on wasm and cpu equals tf.conv3d on cpu (fwd, dx, dW ≤ 1e-4)`, async () => {
    const rng = new Rng(17);
    const wShape = [...c.kernel, c.x[4]!, c.co];
    const x = randn(rng, size(c.x));
    const w = randn(rng, size(wShape));
    const pads = resolvePadding([c.x[1]!, c.x[2]!, c.x[3]!], c.kernel, c.strides, c.pad);
    const ref = await onBackend('cpu', () => evaluate((a, b) => conv3dNative(a, b, c.strides, pads), x, c.x, w, wShape, 5));
    for (const backend of ['wasm', 'cpu']) {
      // the decomposition is the default on wasm only; force it on cpu too
      setConvImplementation('decomposed');
      const got = await onBackend(backend, () => evaluate((a, b) => conv3d(a, b, c.strides, c.pad), x, c.x, w, wShape, 5));
      setConvImplementation('auto');
      assert.deepEqual(got.shape, ref.shape);
      const errs = [maxRelativeError(got.y, ref.y), maxRelativeError(got.dx, ref.dx), maxRelativeError(got.dw, ref.dw)];
      assert.ok(errs.every((e) => e <= 1e-4), `${backend}: relative errors y/dx/dW = ${errs.map((e) => e.toExponential(2)).join('/')}`);
    }
  });
}

test('conv3d with inputGradient false gives the same filter gradient', async () => {
  const rng = new Rng(3);
  const xShape = [2, 4, 5, 6, 1];
  const wShape = [3, 3, 3, 1, 4];
  const x = randn(rng, size(xShape));
  const w = randn(rng, size(wShape));
  await onBackend('wasm', () => {
    tf.tidy(() => {
      const xt = tf.tensor5d(x, xShape as Shape5);
      const r = tf.tensor(randn(new Rng(9), 2 * 4 * 5 * 6 * 4), [2, 4, 5, 6, 4]);
      const loss = (wt: tf.Tensor, inputGradient: boolean) => tf.sum(tf.mul(conv3d(xt, wt as tf.Tensor5D, [1, 1, 1], 'same', { inputGradient }), r));
      const a = tf.grad((wt: tf.Tensor) => loss(wt, true))(tf.tensor(w, wShape)).dataSync() as Float32Array;
      const b = tf.grad((wt: tf.Tensor) => loss(wt, false))(tf.tensor(w, wShape)).dataSync() as Float32Array;
      assert.ok(maxRelativeError(b, a) < 1e-6);
    });
  });
});

/** Independent reference for conv3dTranspose with kernel = stride: explicit loops. */
function transposeLoops(x: Float32Array, xs: number[], f: Float32Array, fs: number[], r: Float32Array): { y: Float32Array; df: Float32Array } {
  const [n, d, h, w, ci] = xs as [number, number, number, number, number];
  const [sd, sh, sw, co] = fs as [number, number, number, number, number];
  const [D, H, W] = [d * sd, h * sh, w * sw];
  const y = new Float32Array(n * D * H * W * co);
  const df = new Float64Array(f.length);
  for (let b = 0; b < n; b++)
    for (let z = 0; z < d; z++)
      for (let u = 0; u < h; u++)
        for (let v = 0; v < w; v++)
          for (let a0 = 0; a0 < sd; a0++)
            for (let a1 = 0; a1 < sh; a1++)
              for (let a2 = 0; a2 < sw; a2++)
                for (let o = 0; o < co; o++) {
                  const yi = (((b * D + z * sd + a0) * H + u * sh + a1) * W + v * sw + a2) * co + o;
                  let acc = 0;
                  for (let i = 0; i < ci; i++) {
                    const xv = x[(((b * d + z) * h + u) * w + v) * ci + i]!;
                    const fi = (((a0 * sh + a1) * sw + a2) * co + o) * ci + i;
                    acc += xv * f[fi]!;
                    df[fi] = df[fi]! + xv * r[yi]!;
                  }
                  y[yi] = acc;
                }
  return { y, df: Float32Array.from(df) };
}

for (const [name, xs, s, co] of [
  ['2x2x2, batch 2, odd sizes', [2, 3, 5, 2, 4], [2, 2, 2], 3],
  ['1x2x2 anisotropic', [1, 3, 4, 3, 2], [1, 2, 2], 5],
] as Array<[string, number[], Triple, number]>) {
  test(`conv3dTranspose ${name}: forward equals tf.conv3dTranspose (cpu), gradients equal adjoint and loop references`, async () => {
    const rng = new Rng(23);
    const fs = [...s, co, xs[4]!];
    const x = randn(rng, size(xs));
    const f = randn(rng, size(fs));
    const outShape = [xs[0]!, xs[1]! * s[0], xs[2]! * s[1], xs[3]! * s[2], co];
    const r = randn(new Rng(5), size(outShape));
    const ref = await onBackend('cpu', () =>
      tf.tidy(() => {
        const xt = tf.tensor5d(x, xs as Shape5);
        const ft = tf.tensor5d(f, fs as Shape5);
        const y = tf.conv3dTranspose(xt, ft, outShape as [number, number, number, number, number], s, 'valid');
        // adjoint: <T x, r> = <x, T* r>, T* r = conv3d(r, f, strides, 'valid')
        const dx = tf.conv3d(tf.tensor5d(r, outShape as Shape5), ft, s, 'valid');
        return { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
      }),
    );
    const loops = transposeLoops(x, xs, f, fs, r);
    assert.ok(maxRelativeError(loops.y, ref.y) < 1e-5, 'loop reference agrees with tf.conv3dTranspose');
    for (const backend of ['wasm', 'cpu']) {
      const got = await onBackend(backend, () => evaluate((a, b) => conv3dTranspose(a, b, s), x, xs, f, fs, 5));
      assert.deepEqual(got.shape, outShape);
      const errs = [maxRelativeError(got.y, ref.y), maxRelativeError(got.dx, ref.dx), maxRelativeError(got.dw, loops.df)];
      assert.ok(errs.every((e) => e <= 1e-4), `${backend}: relative errors y/dx/df = ${errs.map((e) => e.toExponential(2)).join('/')}`);
    }
  });
}
