/**
 * Central finite differences against tf.grad for every loss (and the options that change the
 * maths) on random inputs, on the wasm backend; and no tensor leaks over 100 evaluations.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend.js';
import { createLoss, LOSS_IDS, type LossOptionValue } from '../../src/losses/registry.js';
import type { LossContext } from '../../src/losses/types.js';
import { Rng } from '../../src/util/rng.js';

before(async () => {
  await selectBackend('wasm');
});

const SHAPE: [number, number, number, number, number] = [2, 3, 4, 5, 3];
const V = 3 * 4 * 5;

/** Labels: a box of class 1 and a small box of class 2 in each sample, background elsewhere. */
function makeLabels(): number[] {
  const labels: number[] = [];
  for (let b = 0; b < 2; b++) {
    for (let d = 0; d < 3; d++) {
      for (let h = 0; h < 4; h++) {
        for (let w = 0; w < 5; w++) {
          let l = 0;
          if (d >= 1 && h >= 1 && h <= 2 && w >= 1 + b && w <= 3) l = 1;
          if (d === 2 && h === 3 && w >= 3) l = 2;
          labels.push(l);
        }
      }
    }
  }
  return labels;
}

function makeLogits(seed: number, labels: number[]): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(2 * V * 3);
  for (let i = 0; i < 2 * V; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = rng.normal() + (labels[i] === c ? 1.0 : 0);
  return out;
}

const CASES: { id: string; options?: Record<string, LossOptionValue>; context?: LossContext }[] = [
  // With C = 3, max_c p ≥ 1/3, so thresholds 0.1 and 0.3 on max p select nothing (loss 0, zero
  // gradient, checked in analytic.test.ts); test them on the true-class probability instead.
  ...LOSS_IDS.filter((id) => id !== 'dicehd' && id !== 'dicebd').map((id) => (id === 'topkt01' || id === 'topkt03' ? { id, options: { threshold_on: 'true' } } : { id })),
  { id: 'dicebd', context: { step: 50 * 250 } }, // α = 0.5: both terms carry gradient
  { id: 'lovasz', options: { input: 'softmax' } },
  { id: 'gdice', options: { variant: 'v1' } },
  { id: 'hd', options: { distance: 'unsigned' } },
  { id: 'ell', options: { exponent_on: 'per_class', class_weights: [1, 5, 20] } },
  { id: 'focaltversky', options: { per_class: true } },
  { id: 'topkt05', options: { threshold_on: 'true' } },
  { id: 'dice', options: { square: true, include_background: true } },
  { id: 'ss', options: { batch_dice: false } },
];

function lossAt(fn: (x: tf.Tensor5D) => tf.Scalar, values: Float32Array): number {
  return tf.tidy(() => fn(tf.tensor5d(values, SHAPE)).dataSync()[0]!);
}

/** Compare the analytic gradient with central differences on the 10 largest and 6 random entries. */
function checkGradient(name: string, fn: (x: tf.Tensor5D) => tf.Scalar, reference: (x: tf.Tensor5D) => tf.Scalar, x0: Float32Array, rng: Rng): void {
  const grad = tf.tidy(() => tf.grad((x: tf.Tensor) => fn(x as tf.Tensor5D))(tf.tensor5d(x0, SHAPE)).dataSync());
  const order = Array.from(grad.keys()).sort((a, b) => Math.abs(grad[b]!) - Math.abs(grad[a]!));
  const picks = [...order.slice(0, 10), ...Array.from({ length: 6 }, () => rng.int(grad.length))];
  const scale = Math.abs(grad[order[0]!]!);
  assert.ok(scale > 0, `${name}: zero gradient`);
  const eps = 2e-3;
  for (const i of picks) {
    const plus = Float32Array.from(x0);
    const minus = Float32Array.from(x0);
    plus[i] = plus[i]! + eps;
    minus[i] = minus[i]! - eps;
    const fd = (lossAt(reference, plus) - lossAt(reference, minus)) / (2 * eps);
    const err = Math.abs(fd - grad[i]!);
    assert.ok(err <= 0.02 * scale + 1e-4, `${name}: d/dx[${i}] analytic ${grad[i]} vs finite difference ${fd} (max |g| ${scale})`);
  }
}

test('finite differences agree with tf.grad for every loss and option variant', () => {
  const labelsArr = makeLabels();
  const labels = tf.tensor4d(labelsArr, [2, 3, 4, 5], 'int32');
  const rng = new Rng(7);
  let n = 0;
  for (const c of CASES) {
    const loss = createLoss(c.id, c.options);
    const fn = (x: tf.Tensor5D) => loss.fn(x, labels, c.context);
    checkGradient(`${c.id} ${JSON.stringify(c.options ?? {})}`, fn, fn, makeLogits(100 + n, labelsArr), rng);
    n++;
  }
  // DiceHD: the weight a = HD/((1 − DSC) + 1e−5) is detached, so its gradient is that of
  // a0·(1 − DSC(x)) + HD(x) with a0 fixed at the evaluation point (as the released code's autograd).
  const x0 = makeLogits(999, labelsArr);
  const dice = createLoss('dice');
  const hd = createLoss('hd');
  const one = (f: (x: tf.Tensor5D) => tf.Scalar, v: Float32Array) => lossAt(f, v);
  const hd0 = one((x) => hd.fn(x, labels), x0);
  const dsc0 = -one((x) => dice.fn(x, labels), x0);
  const a0 = hd0 / (1 - dsc0 + 1e-5);
  const dicehd = createLoss('dicehd');
  const frozen = (x: tf.Tensor5D) => tf.tidy(() => tf.add(tf.mul(a0, tf.add(1, dice.fn(x, labels))), hd.fn(x, labels)) as tf.Scalar);
  checkGradient('dicehd', (x) => dicehd.fn(x, labels), frozen, x0, rng);
  close(one((x) => dicehd.fn(x, labels), x0), 2 * hd0, 'dicehd value ≈ 2·HD');
  labels.dispose();
});

function close(a: number, b: number, what: string): void {
  assert.ok(Math.abs(a - b) <= 1e-4 * Math.abs(b) + 1e-6, `${what}: ${a} vs ${b}`);
}

test('no tensor leaks: 100 evaluations (value and gradient) of every loss leave tf.memory() unchanged', () => {
  const labelsArr = makeLabels();
  const labels = tf.tensor4d(labelsArr, [2, 3, 4, 5], 'int32');
  const logits = tf.tensor5d(makeLogits(5, labelsArr), SHAPE);
  for (const c of [...CASES, { id: 'dicehd' }]) {
    const loss = createLoss(c.id, c.options);
    const vg = tf.valueAndGrad((x: tf.Tensor) => loss.fn(x as tf.Tensor5D, labels, c.context));
    // warm-up (kernels may allocate persistent buffers once)
    tf.dispose(Object.values(vg(logits)));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) {
      const { value, grad } = vg(logits);
      value.dispose();
      grad.dispose();
    }
    assert.equal(tf.memory().numTensors, before, `${c.id} leaked ${tf.memory().numTensors - before} tensors`);
  }
  labels.dispose();
  logits.dispose();
});
