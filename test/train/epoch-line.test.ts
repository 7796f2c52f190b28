/** The per-epoch summary line of `segloss train` fits the terminal, dropping detail in a fixed order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatEpochLine } from '../../src/train/epoch-line.js';
import type { EpochLogEntry } from '../../src/train/types.js';

const entry = (over: Partial<EpochLogEntry> = {}): EpochLogEntry => ({
  epoch: 3,
  trainLoss: 0.41234,
  valLoss: 0.40119,
  valDicePerClass: [0.8123, 0.7904],
  valDice: 0.80135,
  learningRate: 3e-3,
  trainLossMa: 0.42,
  lrReduced: false,
  newBest: true,
  seconds: 12.34,
  dataWaitShare: 0.021,
  batchMillis: 0,
  ...over,
});

const LABEL = 'hippocampus dicece 3e-3 f0/s12345';

test('a wide terminal gets every part', () => {
  assert.equal(
    formatEpochLine(LABEL, entry(), 200),
    'hippocampus dicece 3e-3 f0/s12345 · epoch 3 · train 0.4123 · val 0.4012 · Dice 0.801 (0.812/0.790) · lr 3.0e-3 · 12.3 s · data wait 2% · best',
  );
});

test('at 100 columns the data wait goes first, then the learning rate, then the per-class Dice', () => {
  // Label 33 + separator 3 + body: 141 characters with everything, 126 without the wait, 114 without
  // the lr too, 100 with the mean Dice only.
  assert.equal(formatEpochLine(LABEL, entry(), 141).length, 141);
  assert.equal(formatEpochLine(LABEL, entry(), 140), 'hippocampus dicece 3e-3 f0/s12345 · epoch 3 · train 0.4123 · val 0.4012 · Dice 0.801 (0.812/0.790) · lr 3.0e-3 · 12.3 s · best');
  assert.equal(formatEpochLine(LABEL, entry(), 125), 'hippocampus dicece 3e-3 f0/s12345 · epoch 3 · train 0.4123 · val 0.4012 · Dice 0.801 (0.812/0.790) · 12.3 s · best');
  const line = formatEpochLine(LABEL, entry(), 100);
  assert.equal(line, 'hippocampus dicece 3e-3 f0/s12345 · epoch 3 · train 0.4123 · val 0.4012 · Dice 0.801 · 12.3 s · best');
  assert.equal(line.length, 100);
});

test('a single-label task shows one Dice and no per-class list; no data wait below 0.5 %', () => {
  const line = formatEpochLine('toy-liver dice 1e-2 f0/s2', entry({ valDicePerClass: [0.5], valDice: 0.5, dataWaitShare: 0.004, newBest: false }), 100);
  assert.equal(line, 'toy-liver dice 1e-2 f0/s2 · epoch 3 · train 0.4123 · val 0.4012 · Dice 0.500 · lr 3.0e-3 · 12.3 s');
});

test('a typical run at 100 columns: compact numbers before the label is cut', () => {
  const e = entry({ epoch: 6, trainLoss: -0.73254, valLoss: -0.82261, valDicePerClass: [0.951], valDice: 0.951, seconds: 20.1, dataWaitShare: 0 });
  // 34 + 3 + 67 = 104 with 4 decimals and tenths of seconds; 3 decimals and whole seconds make 100.
  assert.equal(formatEpochLine('toy-liver dicetopk 3e-3 f0/s12345', e, 100), 'toy-liver dicetopk 3e-3 f0/s12345 · epoch 6 · train -0.733 · val -0.823 · Dice 0.951 · 20 s · best');
});

test('a narrow terminal shortens the label with an ellipsis, then drops it', () => {
  // The shortest body is 60 characters; 80 columns leave 17 for the label.
  assert.equal(formatEpochLine(LABEL, entry(), 80), 'hippocampus dice… · epoch 3 · train 0.412 · val 0.401 · Dice 0.801 · 12 s · best');
  // 74 columns would leave 11: the label goes and the body is cut.
  assert.equal(formatEpochLine(LABEL, entry(), 74), 'epoch 3 · train 0.412 · val 0.401 · Dice 0.801 · 12 s · best');
  assert.equal(formatEpochLine(LABEL, entry(), 40), 'epoch 3 · train 0.412 · val 0.401 · Dic…');
});

test('N/A Dice (no foreground in the validation batches) prints as a dash', () => {
  const line = formatEpochLine('t', entry({ valDicePerClass: [null, 0.25], valDice: 0.25 }), 200);
  assert.ok(line.includes(' · Dice 0.250 (–/0.250) · '), line);
});
