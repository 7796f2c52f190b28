import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endEpoch, initialScheduleState, PAPER_SCHEDULE, type ScheduleConfig, type ScheduleState } from '../../src/train/schedule.js';

const config: ScheduleConfig = { ...PAPER_SCHEDULE, initialLearningRate: 3e-4 };

function runScript(losses: number[], cfg = config, dice?: (e: number) => number | undefined) {
  let s: ScheduleState = initialScheduleState(cfg);
  const lrs: number[] = [];
  const reductions: number[] = [];
  const bests: number[] = [];
  let stoppedAt: number | undefined;
  for (let e = 0; e < losses.length; e++) {
    const d = endEpoch(cfg, s, { trainLoss: losses[e] as number, valLoss: 0, valDice: dice ? dice(e) : 0.5 });
    s = d.state;
    lrs.push(s.learningRate);
    if (d.lrReduced) reductions.push(e);
    if (d.newBest) bests.push(e);
    if (d.stop) {
      stoppedAt = e;
      break;
    }
  }
  return { s, lrs, reductions, bests, stoppedAt };
}

test('moving average of the train loss: MA0 = L0, MA = 0.93 MA + 0.07 L', () => {
  const { s } = runScript([1, 0]);
  assert.ok(Math.abs((s.trainLossMa as number) - 0.93) < 1e-12);
  const r = runScript([2, 1, 3]);
  assert.ok(Math.abs((r.s.trainLossMa as number) - (0.93 * (0.93 * 2 + 0.07) + 0.07 * 3)) < 1e-12);
});

test('a constant loss reduces the LR on the 31st non-improving epoch, then every 31 epochs', () => {
  const { reductions, lrs } = runScript(new Array(100).fill(1));
  // epoch 0 sets best; epochs 1..31 are 31 bad epochs → reduce at epoch 31; again at 62, 93.
  assert.deepEqual(reductions, [31, 62, 93]);
  assert.ok(Math.abs((lrs[31] as number) - 6e-5) < 1e-15);
  assert.ok(Math.abs((lrs[30] as number) - 3e-4) < 1e-15);
  assert.ok(Math.abs((lrs[99] as number) - 3e-4 * 0.2 ** 3) < 1e-15);
});

test('improvements smaller than the absolute threshold 1e-3 do not count for the plateau', () => {
  // Falls by 5e-4 per epoch: the MA improves by less than 1e-3 per epoch, but accumulates.
  const slow = runScript(Array.from({ length: 80 }, (_, e) => 1 - 5e-4 * e));
  const fast = runScript(Array.from({ length: 80 }, (_, e) => 1 - 0.01 * e));
  assert.ok(slow.reductions.length === 0 || (slow.reductions[0] as number) > 31);
  assert.deepEqual(fast.reductions, []);
});

test('early stopping: only when lr <= 1e-6, else patience is extended by 25 epochs', () => {
  // lr 3e-4 needs 4 reductions to reach 4.8e-7 (≤ 1e-6): at epochs 31, 62, 93, 124.
  const { reductions, stoppedAt, s } = runScript(new Array(400).fill(1));
  assert.deepEqual(reductions.slice(0, 4), [31, 62, 93, 124]);
  // Patience: bestEpoch 0; at e = 51 (e − 0 > 50) lr > 1e-6 → bestEpoch = 26; e = 77 → 52; e = 103 → 78;
  // at e = 129, 129 − 78 > 50 and lr is 4.8e-7 since epoch 124 → stop.
  assert.equal(stoppedAt, 129);
  assert.match(s.stopReason ?? '', /early stop/);
  assert.ok(s.learningRate <= 1e-6);
});

test('a starting LR already at or below 1e-6 stops after 51 stagnant epochs', () => {
  const cfg = { ...config, initialLearningRate: 1e-6 };
  const { stoppedAt } = runScript(new Array(100).fill(1), cfg);
  assert.equal(stoppedAt, 51);
});

test('the epoch cap stops training with its reason', () => {
  const cfg = { ...config, maxEpochs: 5 };
  const { stoppedAt, s } = runScript(Array.from({ length: 10 }, (_, e) => 1 / (e + 1)), cfg);
  assert.equal(stoppedAt, 4);
  assert.equal(s.epoch, 5);
  assert.match(s.stopReason ?? '', /maximum of 5 epochs/);
});

test('best checkpoint follows the 0.9 moving average of the validation Dice', () => {
  const dice = [0.2, 0.1, 0.1, 0.9, 0.0, 0.0, 0.0];
  const { bests, s } = runScript(new Array(dice.length).fill(1), config, (e) => dice[e]);
  // V: 0.2, 0.19, 0.181, 0.2529 (best), 0.2276, …
  assert.deepEqual(bests, [0, 3]);
  assert.equal(s.bestEpoch, 3);
  assert.equal(s.bestValDice, 0.9);
});

test('without a Dice (no foreground anywhere) the negative validation loss is the criterion', () => {
  let s = initialScheduleState(config);
  const d0 = endEpoch(config, s, { trainLoss: 1, valLoss: 2, valDice: undefined });
  s = d0.state;
  assert.equal(s.valCriterionMa, -2);
  const d1 = endEpoch(config, s, { trainLoss: 1, valLoss: 1, valDice: undefined });
  assert.ok(d1.newBest);
  assert.ok(Math.abs((d1.state.valCriterionMa as number) + 1.9) < 1e-12);
});

test('state is plain JSON: a round trip through JSON continues identically', () => {
  const losses = Array.from({ length: 90 }, (_, e) => Math.sin(e) * 0.01 + 1);
  const whole = runScript(losses);
  let s = initialScheduleState(config);
  for (let e = 0; e < 45; e++) s = endEpoch(config, s, { trainLoss: losses[e] as number, valLoss: 0, valDice: 0.5 }).state;
  s = JSON.parse(JSON.stringify(s)) as ScheduleState;
  for (let e = 45; e < 90; e++) s = endEpoch(config, s, { trainLoss: losses[e] as number, valLoss: 0, valDice: 0.5 }).state;
  assert.deepEqual(s, whole.s);
});
