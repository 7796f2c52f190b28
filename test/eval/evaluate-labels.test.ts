/**
 * `segloss evaluate` accepts in a reference or prediction only 0 and the declared labels (the
 * plan's, --labels, or those of the references): a negative value, a huge one or an undeclared
 * class is exit 2 naming the file and the values, found before any table is sized from them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { evaluateFolders } from '../../src/eval/folders.js';
import { InputError } from '../../src/util/errors.js';
import { AFFINE, evaluate, index, meanDsc, prediction, reference, writeCase } from './input-fixture.js';

test('valid labels with --labels: DSC 0.975 as without', () => {
  const c = writeCase(prediction((n) => new Int32Array(n)));
  const r = evaluate(c, '--labels', '1');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(meanDsc(c), 0.975);
});

test('undeclared prediction labels (-1, 2^31 - 1, 7 and 300) are exit 2 naming the file and the values', () => {
  const cases: [string, (d: Int32Array) => void, RegExp][] = [
    ['-1', (d) => (d[0] = -1), /label value\(s\) -1 in 1 voxel\(s\) are not declared/],
    ['2^31 - 1', (d) => (d[5] = 2 ** 31 - 1), /label value\(s\) 2147483647 in 1 voxel\(s\) are not declared/],
    ['7 and 300', (d) => ((d[0] = 300), (d[1] = 7), (d[2] = 7)), /label value\(s\) 7, 300 in 3 voxel\(s\) are not declared/],
  ];
  for (const [name, spoil, message] of cases) {
    const pred = prediction((n) => new Int32Array(n));
    spoil(pred);
    const c = writeCase(pred);
    for (const extra of [[], ['--labels', '1']]) {
      const r = evaluate(c, ...extra);
      assert.equal(r.status, 2, `${name}: ${r.stderr}`);
      assert.ok(r.stderr.includes(c.predFile), r.stderr);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /prediction label value/);
    }
  }
});

test('many distinct undeclared values are cut to the smallest five', () => {
  const pred = prediction((n) => new Int32Array(n));
  for (let v = 0; v < 12; v++) pred[index(0, 9, 0) + v] = 1000 + v;
  const r = evaluate(writeCase(pred));
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /label value\(s\) 1000, 1001, 1002, 1003, 1004 … \(12 distinct values\) in 12 voxel\(s\)/);
});

test('a reference with a label outside --labels is exit 2 naming the reference', () => {
  const gt = reference();
  gt[index(9, 9, 5)] = 2;
  const c = writeCase(prediction((n) => new Uint8Array(n)), AFFINE, gt);
  const r = evaluate(c, '--labels', '1');
  assert.equal(r.status, 2, r.stderr);
  assert.ok(r.stderr.includes(c.gtFile) && !r.stderr.includes(`${c.predFile}:`), r.stderr);
  assert.match(r.stderr, /reference label value\(s\) 2 in 1 voxel\(s\) are not declared \(declared: 0 = background, 1; from --labels\)/);
  // Without --labels the references declare the labels: label 2 is then a class (absent from the prediction).
  const ok = evaluate(c);
  assert.equal(ok.status, 0, ok.stderr);
});

test('a reference with a label the plan does not declare, or a negative reference label, is an input error naming the reference', async () => {
  const gt = reference();
  gt[index(9, 9, 5)] = 7;
  const c = writeCase(prediction((n) => new Uint8Array(n)), AFFINE, gt);
  const run = (extra: object) => evaluateFolders({ predDir: path.dirname(c.predFile), gtDir: path.dirname(c.gtFile), outDir: path.join(c.root, 'out'), workers: 1, ...extra });
  await assert.rejects(run({ declaredLabels: { values: [1, 2], source: 'the plan (test)' } }), (err: unknown) => {
    assert.ok(err instanceof InputError);
    assert.ok(err.message.includes(c.gtFile) && /reference label value\(s\) 7 .* from the plan \(test\)/.test(err.message), err.message);
    return true;
  });
  await assert.rejects(run({ declaredLabels: { values: [1, 2], source: 'the plan (test)' }, labels: [3] }), /--labels: 3 not declared by the plan \(test\)/);
  const negative = new Int32Array(reference());
  negative[0] = -1;
  const d = writeCase(prediction((n) => new Uint8Array(n)), AFFINE, negative);
  const r = evaluate(d);
  assert.equal(r.status, 2, r.stderr);
  assert.ok(r.stderr.includes(d.gtFile), r.stderr);
  assert.match(r.stderr, /reference label value\(s\) -1 are negative/);
});

test('a huge label that the references declare is scored without a table of its size', () => {
  const gt = new Int32Array(reference());
  gt[index(9, 9, 5)] = 2 ** 31 - 1;
  const pred = prediction((n) => new Int32Array(n));
  pred[index(9, 9, 5)] = 2 ** 31 - 1;
  const c = writeCase(pred, AFFINE, gt);
  const r = evaluate(c);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(readFileSync(path.join(c.root, 'out', 'segloss_summary.json'), 'utf8')) as { labels: number[]; per_label: Record<string, { dsc: { mean: number } }> };
  assert.deepEqual(summary.labels, [1, 2 ** 31 - 1]);
  assert.equal(summary.per_label['1']?.dsc.mean, 0.975);
  assert.equal(summary.per_label[String(2 ** 31 - 1)]?.dsc.mean, 1);
});
