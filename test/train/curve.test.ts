import { test } from 'node:test';
import assert from 'node:assert/strict';
import { niceTicks, renderCurveSvg } from '../../src/train/curve.js';

test('nice ticks cover the range with 1-2-5 steps', () => {
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(-0.53, 0.61), [-0.5, 0, 0.5]); // raw step 0.228 → 0.5
  assert.deepEqual(niceTicks(0, 4, 6), [0, 1, 2, 3, 4]);
});

test('curve: three series, a dotted line per LR reduction, gaps for missing Dice, valid standalone SVG', () => {
  const points = [0, 1, 2, 3].map((e) => ({ epoch: e, trainLoss: 1 - 0.2 * e, valLoss: 1.1 - 0.2 * e, valDice: e === 1 ? null : 0.2 * e, learningRate: e < 2 ? 3e-4 : 6e-5 }));
  const svg = renderCurveSvg('t <&> x', points);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /t &lt;&amp;&gt; x/);
  assert.equal((svg.match(/<path /g) ?? []).length, 3);
  assert.equal((svg.match(/stroke-dasharray="2 3"/g) ?? []).length, 1, 'one LR reduction');
  // The Dice series restarts after the missing epoch: two M commands.
  const dicePath = svg.split('\n').filter((l) => l.startsWith('<path') && l.includes('#2a7'))[0]!;
  assert.equal((dicePath.match(/M/g) ?? []).length, 2);
  assert.match(renderCurveSvg('empty', []), /no finished epoch yet/);
});
