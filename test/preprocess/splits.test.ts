import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers.js';
import { MersenneTwister, kFold, makeSplits, pythonSorted } from '../../src/preprocess/splits.js';

const ref = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/preprocess/kfold_numpy.json'), 'utf8')) as {
  n41: { train: string[]; val: string[] }[];
  n7: { train: string[]; val: string[] }[];
  shuffle10: number[];
  shuffle281: number[];
};

test('MT19937 with seed 12345 gives numpy\'s first outputs (numpy and sklearn, as nnU-Net do_split uses them)', () => {
  const mt = new MersenneTwister(12345);
  assert.deepEqual([mt.nextUint32(), mt.nextUint32(), mt.nextUint32()], [3992670690, 3823185381, 1358822685]);
});

test('shuffle reproduces numpy RandomState(12345).shuffle', () => {
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  assert.deepEqual(new MersenneTwister(12345).shuffle(range(10)), [0, 7, 3, 9, 6, 4, 1, 8, 5, 2]);
  assert.deepEqual(new MersenneTwister(12345).shuffle(range(281)), ref.shuffle281);
});

test('KFold fold-0 validation of n=20 is [3, 8, 13, 16] (numpy and sklearn, as nnU-Net do_split uses them)', () => {
  const ids = Array.from({ length: 20 }, (_, i) => `c${String(i).padStart(2, '0')}`);
  assert.deepEqual(kFold(ids)[0]?.val, ['c03', 'c08', 'c13', 'c16']);
});

test('MSD liver fold 0 validation equals the spec test vector (string-sorted ids)', () => {
  const ids = Array.from({ length: 131 }, (_, i) => `liver_${i}`);
  const expected = [101, 11, 112, 115, 12, 120, 128, 17, 19, 24, 25, 27, 3, 38, 40, 41, 42, 44, 5, 51, 52, 58, 64, 70, 75, 77, 82];
  const folds = kFold(ids);
  assert.deepEqual(folds[0]?.val, expected.map((n) => `liver_${n}`));
  assert.equal(folds[0]?.train.length, 104);
});

test('KFold equals the numpy/sklearn reference for n=41 and n=7', () => {
  assert.deepEqual(kFold(Array.from({ length: 41 }, (_, i) => `case_${i}`)), ref.n41);
  assert.deepEqual(kFold(Array.from({ length: 7 }, (_, i) => `c${i}`)), ref.n7);
});

test('makeSplits: test = fold-0 val, folds partition the rest; small datasets', () => {
  const ids = Array.from({ length: 41 }, (_, i) => `case_${i}`);
  const s = makeSplits(ids);
  assert.deepEqual(s.test, ref.n41[0]?.val);
  assert.equal(s.folds.length, 5);
  const allVal = s.folds.flatMap((f) => f.val);
  assert.deepEqual(pythonSorted(allVal), ref.n41[0]?.train);
  for (const f of s.folds) assert.equal(f.train.length + f.val.length, ids.length - s.test.length);
  const small = makeSplits(['b', 'a', 'c']);
  assert.deepEqual(small.test, []);
  assert.equal(small.folds.length, 3);
  assert.throws(() => makeSplits(['only']), /at least 2/);
});
