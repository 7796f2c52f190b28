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

test('a narrow terminal shortens the label with an ellipsis, then drops it', () => {
  // The shortest body is 64 characters; 80 columns leave 13 for the label.
  assert.equal(formatEpochLine(LABEL, entry(), 80), 'hippocampus … · epoch 3 · train 0.4123 · val 0.4012 · Dice 0.801 · 12.3 s · best');
  // 75 columns would leave 8: the label goes and the body is cut.
  assert.equal(formatEpochLine(LABEL, entry(), 75), 'epoch 3 · train 0.4123 · val 0.4012 · Dice 0.801 · 12.3 s · best');
  assert.equal(formatEpochLine(LABEL, entry(), 40), 'epoch 3 · train 0.4123 · val 0.4012 · D…');
});

test('N/A Dice (no foreground in the validation batches) prints as a dash', () => {
  const line = formatEpochLine('t', entry({ valDicePerClass: [null, 0.25], valDice: 0.25 }), 200);
  assert.ok(line.includes(' · Dice 0.250 (–/0.250) · '), line);
});
