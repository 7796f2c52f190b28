import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { REPO_ROOT } from '../helpers.js';
import { AmsgradAdam } from '../../src/train/optimizer.js';

interface AdamCase {
  id: string;
  lr: number;
  weightDecay: number;
  lrChanges: Record<string, number>;
  initial: number[];
  grads: number[][];
  params: number[][];
  final: { exp_avg: number[]; exp_avg_sq: number[]; max_exp_avg_sq: number[]; step: number };
}
const reference = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/train/adam-reference.json'), 'utf8')) as { cases: AdamCase[] };

function close(actual: ArrayLike<number>, expected: number[], what: string): void {
  for (let n = 0; n < expected.length; n++) {
    const a = actual[n] as number;
    const e = expected[n] as number;
    assert.ok(Math.abs(a - e) <= 2e-6 + 1e-5 * Math.abs(e), `${what}[${n}]: ${a} vs torch ${e}`);
  }
}

for (const c of reference.cases) {
  test(`AMSGrad Adam with L2 decay matches torch.optim.Adam(amsgrad=True): ${c.id}`, async () => {
    await tf.setBackend('cpu');
    const theta = tf.variable(tf.tensor1d(c.initial));
    const opt = new AmsgradAdam([theta], { learningRate: c.lr, weightDecay: c.weightDecay });
    c.grads.forEach((g, t) => {
      const change = c.lrChanges[String(t)];
      if (change !== undefined) opt.learningRate = change;
      const grad = tf.tensor1d(g);
      opt.applyGradients([grad]);
      grad.dispose();
      close(theta.dataSync(), c.params[t] as number[], `${c.id} step ${t + 1}`);
    });
    const st = opt.state();
    assert.equal(st.step, c.final.step);
    close(st.tensors['m/0']!.dataSync(), c.final.exp_avg, 'exp_avg');
    close(st.tensors['v/0']!.dataSync(), c.final.exp_avg_sq, 'exp_avg_sq');
    close(st.tensors['vmax/0']!.dataSync(), c.final.max_exp_avg_sq, 'max_exp_avg_sq');
    Object.values(st.tensors).forEach((x) => x.dispose());
    opt.dispose();
    theta.dispose();
  });
}

test('optimizer state round trip: a restored optimizer continues exactly like the original', async () => {
  await tf.setBackend('cpu');
  const c = reference.cases[1] as AdamCase;
  const a = tf.variable(tf.tensor1d(c.initial));
  const optA = new AmsgradAdam([a], { learningRate: c.lr, weightDecay: c.weightDecay });
  for (const g of c.grads.slice(0, 4)) tf.tidy(() => optA.applyGradients([tf.tensor1d(g)]));
  const saved = optA.state();
  const b = tf.variable(a.clone());
  const optB = new AmsgradAdam([b], { learningRate: c.lr, weightDecay: c.weightDecay });
  optB.setState(saved);
  const before = tf.memory().numTensors;
  for (const g of c.grads.slice(4)) {
    tf.tidy(() => optA.applyGradients([tf.tensor1d(g)]));
    tf.tidy(() => optB.applyGradients([tf.tensor1d(g)]));
  }
  assert.equal(tf.memory().numTensors, before, 'no tensor leak per step');
  assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
  close(a.dataSync(), c.params[c.params.length - 1] as number[], 'final');
  Object.values(saved.tensors).forEach((x) => x.dispose());
  optA.dispose();
  optB.dispose();
});
