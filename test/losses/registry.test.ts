import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend.js';
import { createLoss, getLossDefinition, inverseClassFrequencies, listLosses, LOSS_IDS, lossOptionsFromConfig, parseLossOptions } from '../../src/losses/registry.js';
import { computeDistanceMaps } from '../../src/losses/distance.js';
import { UsageError } from '../../src/util/errors.js';

before(async () => {
  await selectBackend('wasm');
});

test('the catalogue has the issue\'s 34 ids, 20 study losses and 7 ranked variants', () => {
  assert.deepEqual([...LOSS_IDS], [
    'ce', 'wce', 'topk', 'topk30', 'topk50', 'topk70', 'topk90', 'topkt01', 'topkt03', 'topkt05', 'topkt07', 'topkt09', 'focal', 'pce',
    'ss', 'dice', 'dicesq', 'dicesample', 'dicesamplesq', 'iou', 'lovasz', 'tversky', 'gdice', 'focaltversky', 'asym', 'pgdice',
    'bd', 'hd', 'dicece', 'ell', 'dicefocal', 'dicetopk', 'dicebd', 'dicehd',
  ]);
  const defs = listLosses();
  assert.equal(defs.filter((d) => d.role === 'study').length, 20);
  assert.equal(defs.filter((d) => d.role === 'variant').length, 7);
  for (const d of defs) {
    assert.ok(d.paperEquation.length > 0 && d.reference.length > 0, d.id);
    for (const o of d.options) assert.ok(o.description.length > 0, `${d.id}.${o.name}`);
  }
});

test('defaults reproduce the released trainers\' hyper-parameters', () => {
  const o = (id: string) => createLoss(id).options;
  assert.deepEqual(o('dice'), { batchDice: true, includeBackground: false, smooth: 1e-5, denominator: 'linear', square: false });
  assert.equal(o('dicesample')['batchDice'], false);
  assert.equal(o('dicesq')['denominator'], 'squared');
  assert.deepEqual(o('focal'), { alpha: 0.5, gamma: 2, smooth: 1e-5 });
  assert.deepEqual([o('tversky')['alpha'], o('tversky')['beta']], [0.3, 0.7]);
  assert.equal(o('asym')['beta'], 1.5);
  assert.equal(o('pgdice')['k'], 2.5);
  assert.equal(o('ss')['r'], 0.1);
  assert.deepEqual([o('ell')['wDice'], o('ell')['wCe'], o('ell')['gamma'], o('ell')['exponentOn']], [0.8, 0.2, 0.3, 'meanDice']);
  assert.equal(o('focaltversky')['gamma'], 0.75);
  assert.equal(o('lovasz')['input'], 'logits');
  assert.equal(o('hd')['distance'], 'interior');
  assert.equal(o('topk')['k'], 10);
  assert.equal(o('topk70')['k'], 70);
  assert.equal(o('topkt03')['threshold'], 0.3);
  assert.equal(createLoss('topk10').id, 'topk');
});

test('schedules, pre-training and distance-map kinds are part of the definition', () => {
  const bd = createLoss('dicebd');
  assert.equal(bd.distanceMaps, 'signed');
  assert.deepEqual(getLossDefinition('dicebd').schedule, { pretrainLoss: 'dice', finetuneRates: true });
  assert.equal(bd.weightAtEpoch!(0), 1);
  assert.ok(Math.abs(bd.weightAtEpoch!(50) - 0.5) < 1e-12);
  assert.ok(Math.abs(bd.weightAtEpoch!(99) - 0.01) < 1e-12);
  assert.equal(bd.weightAtEpoch!(1000), 0.01);
  assert.equal(createLoss('dicebd', { alphaStart: 0.01 }).weightAtEpoch!(0), 0.01);
  assert.deepEqual(getLossDefinition('lovasz').schedule, { pretrainLoss: 'ce', finetuneRates: false });
  assert.deepEqual(getLossDefinition('dicehd').schedule, { pretrainLoss: 'dice', finetuneRates: true });
  assert.deepEqual(listLosses().filter((d) => d.schedule !== undefined).map((d) => d.id), ['lovasz', 'dicebd', 'dicehd']);
  assert.equal(createLoss('hd', { distance: 'unsigned' }).distanceMaps, 'unsigned');
  assert.equal(createLoss('pce').distanceMaps, 'penalty');
  assert.equal(createLoss('dice').distanceMaps, undefined);
  assert.equal(getLossDefinition('dice').schedule, undefined);
});

test('unknown ids, unknown options and bad values are usage errors that list the valid ones', () => {
  assert.throws(() => createLoss('dicee'), (e: unknown) => e instanceof UsageError && /unknown loss 'dicee' \(valid: ce, wce, topk, topk10/.test(e.message));
  assert.throws(() => createLoss('topk', { kk: 3 }), (e: unknown) => e instanceof UsageError && /loss 'topk' has no option 'kk' \(valid: k\)/.test(e.message));
  assert.throws(() => createLoss('ce', { smooth: 1 }), /has no option 'smooth' \(valid: none\)/);
  assert.throws(() => createLoss('topk', { k: 130 }), /must be ≤ 100/);
  assert.throws(() => createLoss('lovasz', { input: 'probs' }), /expected one of logits, softmax/);
  assert.throws(() => createLoss('dice', { batchDice: 'maybe' }), /expected true or false/);
  assert.throws(() => parseLossOptions(['k']), /expected key=value/);
});

test('--loss-opt parsing and coercion (numbers, booleans, lists, strings)', () => {
  const parsed = parseLossOptions(['k=30', 'batchDice=false', 'classWeights=1,42.8', 'input=softmax']);
  assert.deepEqual(parsed, { k: 30, batchDice: false, classWeights: [1, 42.8], input: 'softmax' });
  assert.equal(createLoss('topk', parseLossOptions(['k=30'])).options['k'], 30);
  assert.deepEqual(createLoss('wce', { classWeights: '1, 2.5' }).options['classWeights'], [1, 2.5]);
  assert.equal(createLoss('dice', { batchDice: 'false' }).options['batchDice'], false);
});

test('inverse class frequencies: w_c = N / n_c, 0 for a class without voxels', () => {
  assert.deepEqual(inverseClassFrequencies([90, 10]), [100 / 90, 10]);
  assert.deepEqual(inverseClassFrequencies([5, 0, 5]), [2, 0, 2]);
});

test('precomputed context.distanceMaps give the same value as maps computed inside; a wrong shape is an error', () => {
  const labelsArr = [0, 1, 1, 0, 0, 2, 2, 2, 0, 0, 0, 1];
  const shape: [number, number, number, number] = [1, 2, 2, 3];
  const logitsArr = Array.from({ length: 36 }, (_, i) => Math.sin(i * 1.7));
  for (const [id, kind] of [['bd', 'signed'], ['hd', 'interior'], ['pce', 'penalty'], ['dicebd', 'signed']] as const) {
    const loss = createLoss(id);
    const [inside, given] = tf.tidy(() => {
      const z = tf.tensor5d(logitsArr, [1, 2, 2, 3, 3]);
      const y = tf.tensor4d(labelsArr, shape, 'int32');
      const channels = kind === 'penalty' ? 1 : 3;
      const maps = tf.tensor5d(computeDistanceMaps(labelsArr, shape, 3, kind), [1, 2, 2, 3, channels]);
      return [loss.fn(z, y).dataSync()[0]!, loss.fn(z, y, { distanceMaps: maps, epoch: 0 }).dataSync()[0]!];
    });
    assert.ok(Math.abs(inside - given) < 1e-7, `${id}: ${inside} vs ${given}`);
  }
  assert.throws(
    () => tf.tidy(() => createLoss('bd').fn(tf.zeros([1, 2, 2, 3, 3]) as tf.Tensor5D, tf.zeros([1, 2, 2, 3], 'int32') as tf.Tensor4D, { distanceMaps: tf.zeros([1, 2, 2, 3, 2]) as tf.Tensor5D })),
    /context.distanceMaps has shape \[1, 2, 2, 3, 2\], the 'signed' map needs \[1, 2, 2, 3, 3\]/,
  );
  assert.throws(() => createLoss('dice').fn(tf.zeros([1, 2, 2, 3]) as unknown as tf.Tensor5D, tf.zeros([1, 2, 2, 3], 'int32') as tf.Tensor4D), /logits must be \[B, D, H, W, C\]/);
});

test('loss options from a YAML mapping are checked, then validated by createLoss', () => {
  assert.deepEqual(lossOptionsFromConfig({ k: 30, batchDice: false, classWeights: [1, 2] }, 'run.yaml'), { k: 30, batchDice: false, classWeights: [1, 2] });
  assert.deepEqual(lossOptionsFromConfig(undefined, 'run.yaml'), {});
  assert.throws(() => lossOptionsFromConfig([1, 2], 'run.yaml'), /run.yaml: loss options must be a mapping/);
  assert.throws(() => lossOptionsFromConfig({ k: { deep: 1 } }, 'run.yaml'), /run.yaml: loss option k must be/);
  assert.equal(createLoss('topk', lossOptionsFromConfig({ k: 30 }, 'run.yaml')).options['k'], 30);
});
