/**
 * Loss values derived by hand on tiny inputs (a 1 x 1 x 7 line, uniform or saturated logits).
 * Notation: s = 1e-5 (smoothing), n_f = 3 foreground voxels of N = 7, p = 0.5 everywhere.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend.js';
import { createLoss, type LossOptionValue } from '../../src/losses/registry.js';
import type { LossContext } from '../../src/losses/types.js';

before(async () => {
  await selectBackend('wasm');
});

const s = 1e-5;
const LN2 = Math.log(2);

function value(id: string, options: Record<string, LossOptionValue>, logits: number[], shape: [number, number, number, number, number], labels: number[], context?: LossContext): number {
  const loss = createLoss(id, options);
  return tf.tidy(() => {
    const z = tf.tensor5d(logits, shape);
    const y = tf.tensor4d(labels, shape.slice(0, 4) as [number, number, number, number], 'int32');
    return loss.fn(z, y, context).dataSync()[0]!;
  });
}

function close(actual: number, expected: number, what: string, rel = 2e-6): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs hand-derived ${expected}`);
}

// Line of 7 voxels, labels [1,1,1,0,0,0,0], C = 2, logits 0 (p = 0.5 everywhere).
const LINE: [number, number, number, number, number] = [1, 1, 1, 7, 2];
const LABELS = [1, 1, 1, 0, 0, 0, 0];
const ZEROS = new Array(14).fill(0);
const uniform = (id: string, options: Record<string, LossOptionValue> = {}, context?: LossContext) => value(id, options, ZEROS, LINE, LABELS, context);

test('distribution losses with p = 0.5: CE = WCE = TopK = ln 2, focal, threshold edge cases, pCE', () => {
  close(uniform('ce'), LN2, 'ce');
  close(uniform('wce', { class_weights: [1, 42.8] }), LN2, 'wce (weights cancel)');
  close(uniform('topk'), LN2, 'topk: K = max(1, floor(7·10/100)) voxels, all equal');
  close(uniform('topk50'), LN2, 'topk50 (ties share the K slots)');
  close(uniform('topkt07'), LN2, 'threshold 0.7: every voxel has max p = 0.5 < 0.7');
  close(uniform('topkt03'), 0, 'threshold 0.3: no voxel qualifies → 0 (released: NaN)');
  // p_t = 0.5(1−s) + 0.5 s + s = 0.5 + s;  ℓ = −0.5 (1 − p_t)² ln p_t
  close(uniform('focal'), -0.5 * (0.5 - s) ** 2 * Math.log(0.5 + s), 'focal');
  // penalty map: fg EDT [3,2,1] → a/max a = [0, .5, 1]; bg EDT [1,2,3,4] → b/max b = [1, 2/3, 1/3, 0];
  // mean D = 1 + 3.5/7 = 1.5
  close(uniform('pce'), 1.5 * LN2, 'pce');
});

test('region losses with p = 0.5: tp = 1.5, fp = 2, fn = 1.5 for class 1', () => {
  close(uniform('dice'), -(3 + s) / (6.5 + s), 'dice');
  close(uniform('dicesample'), -(3 + s) / (6.5 + s), 'dice per sample (B = 1)');
  close(uniform('dicesq'), -(2 * (1.5 + s)) / (3 + 7 * 0.25 + s), 'dice, squared denominator');
  // square flag: tp = Σ(pg)² = 0.75, fp = Σ(p(1−g))² = 1, fn = Σ((1−p)g)² = 0.75
  close(uniform('dice', { square: true }), -(1.5 + s) / (1.5 + 1 + 0.75 + s), 'dice square flag');
  close(uniform('iou'), -(1.5 + s) / (5 + s), 'iou');
  const ti = (1.5 + s) / (1.5 + 0.3 * 2 + 0.7 * 1.5 + s);
  close(uniform('tversky'), -ti, 'tversky');
  close(uniform('focaltversky'), (1 - ti) ** 0.75, 'focal tversky');
  const w = 2.25 / 3.25;
  close(uniform('asym'), -(1.5 + s) / (1.5 + w * 1.5 + (1 - w) * 2 + s), 'asym');
  // e = 0.25 everywhere: A = 0.75/(3+s), B = 1/(4+s)
  close(uniform('ss'), 0.1 * (0.75 / (3 + s)) + 0.9 * (1 / (4 + s)), 'ss');
  // GDice V2 with background: G = [4, 3], w = [1/16, 1/9]; Σpg = [2, 1.5]; Σ(p+g) = [7.5, 6.5]
  const inter = 2 / 16 + 1.5 / 9;
  const denom = 7.5 / 16 + 6.5 / 9;
  close(uniform('gdice'), 1 - (2 * inter) / denom, 'gdice v2');
  const v1 = 1 - (2 * (inter + s)) / (denom + s);
  close(uniform('gdice', { variant: 'v1' }), v1, 'gdice v1', 1e-5);
  close(uniform('pgdice'), v1 / (1 + 2.5 * (1 - v1)), 'pgdice', 1e-5);
  // Lovász on logits 0: errors = 1[y = c]; each present class contributes Σ ΔJ over its voxels = 1.
  close(uniform('lovasz'), 1, 'lovasz (logits)');
  // On softmax: errors 0.5 everywhere; loss_c = 0.5 · J(all wrong) = 0.5.
  close(uniform('lovasz', { input: 'softmax' }), 0.5, 'lovasz (softmax)');
});

test('boundary and compound losses on the line', () => {
  // φ = [−3, −2, 0 (inner boundary), 1, 2, 3, 4] (the array border is not a boundary); Σφ = 5
  const bd = (0.5 * 5) / 7;
  close(uniform('bd'), bd, 'bd');
  // p = 0.5 is not > 0.5, so the prediction map is 0; d_G = [3,2,1,0,0,0,0]; (p−g)² = 0.25
  const hd = (0.25 * (9 + 4 + 1)) / 7;
  close(uniform('hd'), hd, 'hd (interior)');
  // unsigned: d_G = [3,2,1,1,2,3,4], Σ d² = 44
  close(uniform('hd', { distance: 'unsigned' }), (0.25 * 44) / 7, 'hd (unsigned)');
  const dsc = (3 + s) / (6.5 + s);
  close(uniform('dicece'), LN2 - dsc, 'dicece');
  close(uniform('dicetopk'), LN2 - dsc, 'dicetopk');
  close(uniform('dicefocal'), -0.5 * (0.5 - s) ** 2 * Math.log(0.5 + s) - dsc, 'dicefocal');
  close(uniform('ell', { class_weights: [1, 3] }), 0.8 * (-Math.log(dsc)) ** 0.3 + 0.2 * LN2, 'ell');
  close(uniform('ell', { class_weights: [1, 3], exponent_on: 'per_class' }), 0.8 * (-Math.log(dsc)) ** 0.3 + 0.2 * LN2 ** 0.3, 'ell per class');
  // α = max(0.01, 1 − 0.01·⌊step/250⌋), step = optimizer steps of the fine-tuning stage
  close(uniform('dicebd', {}, { step: 0 }), 1 - dsc, 'dicebd step 0 (α = 1)');
  close(uniform('dicebd', {}, { step: 249 }), 1 - dsc, 'dicebd step 249 (α = 1)');
  close(uniform('dicebd', {}, { step: 250 }), 0.99 * (1 - dsc) + 0.01 * bd, 'dicebd step 250 (α = 0.99)');
  close(uniform('dicebd', {}, { step: 12_500 }), 0.5 * (1 - dsc) + 0.5 * bd, 'dicebd step 12 500 (α = 0.5)');
  close(uniform('dicebd', {}, { step: 100_000 }), 0.01 * (1 - dsc) + 0.99 * bd, 'dicebd step 100 000 (α = 0.01)');
  close(uniform('dicehd'), (hd / (1 - dsc + 1e-5)) * (1 - dsc) + hd, 'dicehd');
});

test('perfect prediction, an all-background sample and an absent class (B = 2, C = 3, 4³)', () => {
  const shape: [number, number, number, number, number] = [2, 4, 4, 4, 3];
  const labels = new Array(128).fill(0);
  for (const [d, h, w] of [[1, 1, 1], [1, 1, 2], [1, 2, 1], [1, 2, 2], [2, 1, 1], [2, 1, 2], [2, 2, 1], [2, 2, 2]]) labels[(d! * 4 + h!) * 4 + w!] = 1;
  // sample 0: a 2×2×2 box of class 1; sample 1: all background; class 2 absent from the batch
  const perfect = labels.flatMap((l) => [0, 1, 2].map((c) => (c === l ? 20 : 0)));
  const v = (id: string, o: Record<string, LossOptionValue> = {}) => value(id, o, perfect, shape, labels);
  const q = Math.exp(-20) / (1 + 2 * Math.exp(-20)); // probability of each wrong class
  close(v('ce'), -Math.log(1 - 2 * q), 'ce ≈ 0', 1e-6);
  // class 1: DSC = 1 up to q; class 2 (absent): tp = fn = 0, fp = 128 q → DSC = s/(128 q + s)
  const dscAbsent = s / (128 * q + s);
  const dsc1 = (2 * 8 * (1 - 2 * q) + s) / (2 * 8 * (1 - 2 * q) + 120 * q + 8 * 2 * q + s);
  close(v('dice'), -(dsc1 + dscAbsent) / 2, 'dice: the absent class pulls the mean down', 1e-4);
  close(v('dice', { include_background: true }), -(1 + dsc1 + dscAbsent) / 3, 'dice with background', 1e-4);
  // GDice V2: w = [1/120², 1/8², 1/s] (class 2 absent → clamp to s); Σp = [120(1−2q)+8q, 8(1−2q)+120q, 128q]
  const sumP = [120 * (1 - 2 * q) + 8 * q, 8 * (1 - 2 * q) + 120 * q, 128 * q];
  const wG = [1 / 120 ** 2, 1 / 8 ** 2, 1 / s];
  const interG = wG[0]! * 120 * (1 - 2 * q) + wG[1]! * 8 * (1 - 2 * q);
  const denomG = wG[0]! * (sumP[0]! + 120) + wG[1]! * (sumP[1]! + 8) + wG[2]! * sumP[2]!;
  close(v('gdice'), 1 - (2 * interG) / denomG, 'gdice: the absent class weight 1/s inflates the denominator', 1e-4);
  close(v('focal'), 0, 'focal: p_t = 1', 1e-6);
  close(v('hd'), 0, 'hd: p = g', 1e-6);
  close(v('lovasz', { input: 'softmax' }), 0, 'lovasz (softmax): no error', 1e-6);
  // On raw logits the errors are |1 − 20| = 19 on each class's voxels: class 0 and 1 give 19, class 2 gives 0.
  close(v('lovasz'), (19 + 19 + 0) / 3, 'lovasz (logits)', 1e-5);
  // BD with p = g: Σ φ over the box: every box voxel touches the background → all on the inner boundary → 0
  close(v('bd'), 0, 'bd: the 2×2×2 box is all boundary', 1e-6);
});

test('TopK selection: k-th largest by radix select (negatives, −0, ties) and tie-shared weights', async () => {
  const { kthLargest, topKWeights } = await import('../../src/losses/distribution.js');
  const v = Float32Array.from([3, -1, 0, -0, 2.5, 3, -7, 1e-30, 3]);
  const sorted = Array.from(v).sort((a, b) => b - a);
  for (let k = 1; k <= v.length; k++) assert.equal(kthLargest(v, k), sorted[k - 1], `k = ${k}`);
  // K = 2 of three tied 3s: each tied voxel gets 2/3, the rest 0; the weighted sum is 3 + 3.
  assert.deepEqual(Array.from(topKWeights(v, 2)), [2 / 3, 0, 0, 0, 0, 2 / 3, 0, 0, 2 / 3].map((x) => Math.fround(x)));
  assert.deepEqual(Array.from(topKWeights(v, 4)), [1, 0, 0, 0, 1, 1, 0, 0, 1]);
});

test('CE stays finite and exact for logits far apart across voxels (per-voxel log-softmax shift)', () => {
  // voxel 0: [30, 0] label 0; voxel 1: [−60, −100] label 1; voxel 2: [−100, −100] label 0
  const v = value('ce', {}, [30, 0, -60, -100, -100, -100], [1, 1, 1, 3, 2], [0, 1, 0]);
  close(v, (Math.log1p(Math.exp(-30)) + (40 + Math.log1p(Math.exp(-40))) + LN2) / 3, 'ce');
});
