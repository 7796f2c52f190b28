import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend.js';
import { STUDY_EPOCH_ITERATIONS, canonicalLossOptions, createLoss, getLossDefinition, inverseClassFrequencies, listLosses, LOSS_IDS, lossOptionsFromConfig, parseLossOptions } from '../../src/losses/registry.js';
import { DEPRECATED_CHOICE_VALUES, DEPRECATED_OPTION_NAMES } from '../../src/losses/options.js';
import { runSegloss } from '../helpers.js';
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
  const ids = defs.flatMap((d) => [d.id, ...d.aliases]);
  assert.equal(new Set(ids).size, ids.length, 'every id and alias names one loss');
  assert.deepEqual(getLossDefinition('topk10'), getLossDefinition('topk'));
  assert.equal(defs.filter((d) => d.role === 'study').length, 20);
  assert.equal(defs.filter((d) => d.role === 'variant').length, 7);
  for (const d of defs) {
    assert.ok(d.paperEquation.length > 0 && d.reference.length > 0, d.id);
    for (const o of d.options) assert.ok(o.description.length > 0, `${d.id}.${o.name}`);
  }
});

test('defaults reproduce the released trainers\' hyper-parameters', () => {
  const o = (id: string) => createLoss(id).options;
  assert.deepEqual(o('dice'), { batch_dice: true, include_background: false, smooth: 1e-5, denominator: 'linear', square: false });
  assert.equal(o('dicesample')['batch_dice'], false);
  assert.equal(o('dicesq')['denominator'], 'squared');
  assert.deepEqual(o('focal'), { alpha: 0.5, gamma: 2, smooth: 1e-5 });
  assert.deepEqual([o('tversky')['alpha'], o('tversky')['beta']], [0.3, 0.7]);
  assert.equal(o('asym')['beta'], 1.5);
  assert.equal(o('pgdice')['k'], 2.5);
  assert.equal(o('ss')['r'], 0.1);
  assert.deepEqual([o('ell')['w_dice'], o('ell')['w_ce'], o('ell')['gamma'], o('ell')['exponent_on']], [0.8, 0.2, 0.3, 'mean_dice']);
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
  assert.equal(typeof bd.weightAtStep, 'function');
  // DiceBD's own option reconciliation (its entry's resolveOptions): a floor above the start is the start.
  assert.equal(createLoss('dicebd', { alpha_start: 0.3, alpha_min: 0.5 }).options['alpha_min'], 0.3);
  assert.equal(createLoss('dicebd', { alpha_start: 0.3, alpha_min: 0.2 }).options['alpha_min'], 0.2);
  // a definition is a copy: changing it does not change the catalogue
  getLossDefinition('dice').options[0]!.default = false;
  assert.equal(createLoss('dice').options['batch_dice'], true);
  assert.deepEqual(getLossDefinition('lovasz').schedule, { pretrainLoss: 'ce', finetuneRates: false });
  assert.deepEqual(getLossDefinition('dicehd').schedule, { pretrainLoss: 'dice', finetuneRates: true });
  assert.deepEqual(listLosses().filter((d) => d.schedule !== undefined).map((d) => d.id), ['lovasz', 'dicebd', 'dicehd']);
  assert.equal(createLoss('hd', { distance: 'unsigned' }).distanceMaps, 'unsigned');
  assert.equal(createLoss('pce').distanceMaps, 'penalty');
  assert.equal(createLoss('dice').distanceMaps, undefined);
  assert.equal(getLossDefinition('dice').schedule, undefined);
});

test("DiceBD's α follows optimizer steps in study epochs of 250: α(step) = max(0.01, 1 − 0.01·⌊step/250⌋)", () => {
  assert.equal(STUDY_EPOCH_ITERATIONS, 250);
  const alpha = createLoss('dicebd').weightAtStep!;
  const near = (step: number, expected: number) => assert.ok(Math.abs(alpha(step) - expected) < 1e-12, `α(${step}) = ${alpha(step)}, expected ${expected}`);
  near(0, 1);
  near(249, 1); // still the study's first epoch
  near(250, 0.99); // one study epoch done
  near(499, 0.99);
  near(500, 0.98);
  near(12_500, 0.5); // 50 study epochs
  near(24_749, 0.02);
  near(24_750, 0.01); // 99 study epochs: the floor is reached
  near(24_999, 0.01);
  assert.equal(alpha(25_000), 0.01); // 1 − 1.00 = 0 is below the floor
  assert.equal(alpha(1_000_000), 0.01);
  assert.equal(alpha(-5), 1);
  // options: the released fixed weights, and another start, decrease and floor
  assert.equal(createLoss('dicebd', { alpha_start: 0.01 }).weightAtStep!(0), 0.01);
  assert.equal(createLoss('dicebd', { alpha_start: 0.01 }).weightAtStep!(100_000), 0.01);
  const custom = createLoss('dicebd', { alpha_start: 0.5, alpha_step: 0.1, alpha_min: 0.2 }).weightAtStep!;
  assert.deepEqual([0, 250, 500, 750, 5000].map((s) => Math.round(custom(s) * 1e12) / 1e12), [0.5, 0.4, 0.3, 0.2, 0.2]);

  // The weight logged for an epoch is α at its last training step (training passes the step).
  const loggedWeights = (iterationsPerEpoch: number, epochs: number) => Array.from({ length: epochs }, (_, e) => Math.round(alpha((e + 1) * iterationsPerEpoch - 1) * 100) / 100);
  // cpu profile, 50 iterations per epoch: α drops by 0.01 every 5 epochs
  assert.deepEqual(loggedWeights(50, 11), [1, 1, 1, 1, 1, 0.99, 0.99, 0.99, 0.99, 0.99, 0.98]);
  // the study's profile, 250 iterations per epoch: by 0.01 every epoch, as in the paper
  assert.deepEqual(loggedWeights(250, 3), [1, 0.99, 0.98]);
  // 20-iteration epochs: step 250 (epoch 12, iteration 10) is the first with α = 0.99
  const firstStepBelowOne = Array.from({ length: 13 * 20 }, (_, step) => step).find((step) => alpha(step) < 1);
  assert.equal(firstStepBelowOne, 250);
  assert.deepEqual([Math.floor(250 / 20), 250 % 20], [12, 10]);
  assert.deepEqual(loggedWeights(20, 13).slice(10), [1, 1, 0.99]);
});

test("DiceBD's loss value reads context.step (not the epoch)", () => {
  const labelsArr = [0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1];
  const logitsArr = Array.from({ length: 24 }, (_, i) => Math.cos(i * 0.9));
  const at = (id: string, options: Record<string, number>, context?: { step?: number; epoch?: number }) =>
    tf.tidy(() => createLoss(id, options).fn(tf.tensor5d(logitsArr, [1, 2, 2, 3, 2]), tf.tensor4d(labelsArr, [1, 2, 2, 3], 'int32'), context).dataSync()[0]!);
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
  // α = 0.99 after 250 steps equals a fixed start of 0.99 at step 0
  close(at('dicebd', {}, { step: 250 }), at('dicebd', { alpha_start: 0.99 }, { step: 0 }), 'step 250');
  close(at('dicebd', {}, { step: 249 }), at('dicebd', {}, {}), 'step 249 = step 0 = no context');
  // the epoch alone does not move α
  close(at('dicebd', {}, { epoch: 40, step: 0 }), at('dicebd', {}, { step: 0 }), 'epoch ignored');
  assert.ok(Math.abs(at('dicebd', {}, { step: 250 }) - at('dicebd', {}, { step: 0 })) > 1e-4, 'α changes the value');
});

test('unknown ids, unknown options and bad values are usage errors that list the valid ones', () => {
  assert.throws(() => createLoss('dicee'), (e: unknown) => e instanceof UsageError && /unknown loss 'dicee' \(valid: ce, wce, topk, topk10/.test(e.message));
  assert.throws(() => createLoss('topk', { kk: 3 }), (e: unknown) => e instanceof UsageError && /loss 'topk' has no option 'kk' \(valid: k\)/.test(e.message));
  assert.throws(() => createLoss('ce', { smooth: 1 }), /has no option 'smooth' \(valid: none\)/);
  assert.throws(() => createLoss('topk', { k: 130 }), /must be ≤ 100/);
  assert.throws(() => createLoss('lovasz', { input: 'probs' }), /expected one of logits, softmax/);
  assert.throws(() => createLoss('dice', { batch_dice: 'maybe' }), /expected true or false/);
  assert.throws(() => parseLossOptions(['k']), /expected key=value/);
});

test('--loss-opt parsing and coercion (numbers, booleans, lists, strings)', () => {
  const parsed = parseLossOptions(['k=30', 'batch_dice=false', 'class_weights=1,42.8', 'input=softmax']);
  assert.deepEqual(parsed, { k: 30, batch_dice: false, class_weights: [1, 42.8], input: 'softmax' });
  assert.equal(createLoss('topk', parseLossOptions(['k=30'])).options['k'], 30);
  assert.deepEqual(createLoss('wce', { class_weights: '1, 2.5' }).options['class_weights'], [1, 2.5]);
  assert.equal(createLoss('dice', { batch_dice: 'false' }).options['batch_dice'], false);
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
  assert.deepEqual(lossOptionsFromConfig({ k: 30, batch_dice: false, class_weights: [1, 2] }, 'run.yaml'), { k: 30, batch_dice: false, class_weights: [1, 2] });
  assert.deepEqual(lossOptionsFromConfig(undefined, 'run.yaml'), {});
  assert.throws(() => lossOptionsFromConfig([1, 2], 'run.yaml'), /run.yaml: loss options must be a mapping/);
  assert.throws(() => lossOptionsFromConfig({ k: { deep: 1 } }, 'run.yaml'), /run.yaml: loss option k must be/);
  assert.equal(createLoss('topk', lossOptionsFromConfig({ k: 30 }, 'run.yaml')).options['k'], 30);
});

/** What `run` writes on stderr (the warnings), with stderr restored afterwards. */
function stderrOf(run: () => void): string {
  const chunks: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    run();
  } finally {
    process.stderr.write = original;
  }
  return chunks.join('');
}

test('one dialect: every option name is snake_case; each deprecated camelCase name maps to a current one', () => {
  const names = new Set(listLosses().flatMap((d) => d.options.map((o) => o.name)));
  for (const name of names) assert.match(name, /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/, name);
  for (const [old, current] of DEPRECATED_OPTION_NAMES) {
    assert.ok(names.has(current), `${old} → ${current} is an option`);
    assert.ok(!names.has(old), `${old} is no current name`);
  }
  // MONAI's and nnU-Net's names where they exist
  assert.deepEqual(getLossDefinition('dice').options.map((o) => o.name).slice(0, 3), ['batch_dice', 'include_background', 'smooth']);
  for (const [option, values] of DEPRECATED_CHOICE_VALUES) {
    const spec = listLosses().flatMap((d) => d.options).find((o) => o.name === option)!;
    for (const current of values.values()) assert.ok(spec.choices!.includes(current), `${option}=${current}`);
  }
});

test('deprecated names are accepted by createLoss, --loss-opt and YAML, with one warning naming the new name', () => {
  let loss = createLoss('dice');
  const first = stderrOf(() => {
    loss = createLoss('dice', { batchDice: false, includeBackground: true });
  });
  assert.deepEqual(loss.options, { batch_dice: false, include_background: true, smooth: 1e-5, denominator: 'linear', square: false });
  assert.equal(first, 'warning: loss option batchDice is deprecated; use batch_dice\nwarning: loss option includeBackground is deprecated; use include_background\n');
  // once per process: a second call says nothing
  assert.equal(stderrOf(() => createLoss('dice', { batchDice: false })), '');

  let parsed = {};
  const cli = stderrOf(() => {
    parsed = parseLossOptions(['classWeights=1,42.8', 'k=3']);
  });
  assert.deepEqual(parsed, { class_weights: [1, 42.8], k: 3 });
  assert.equal(cli, 'warning: --loss-opt: loss option classWeights is deprecated; use class_weights\n');

  let yaml = {};
  const file = stderrOf(() => {
    yaml = lossOptionsFromConfig({ alphaStart: 0.5, alphaMin: 0.1 }, 'run.yaml');
  });
  assert.deepEqual(yaml, { alpha_start: 0.5, alpha_min: 0.1 });
  assert.equal(file, 'warning: run.yaml: loss option alphaStart is deprecated; use alpha_start\nwarning: run.yaml: loss option alphaMin is deprecated; use alpha_min\n');
  assert.equal(createLoss('dicebd', yaml).options['alpha_start'], 0.5);

  // a deprecated choice value (ELL's exponent_on) too
  let ell = createLoss('ell');
  const value = stderrOf(() => {
    ell = createLoss('ell', { exponentOn: 'perClass' });
  });
  assert.equal(ell.options['exponent_on'], 'per_class');
  assert.match(value, /^warning: loss option exponentOn is deprecated; use exponent_on\nwarning: loss option exponent_on=perClass is deprecated; use exponent_on=per_class\n$/);

  // both names of one option: a usage error, whatever the values
  assert.throws(() => canonicalLossOptions({ batchDice: true, batch_dice: true }), (e: unknown) => e instanceof UsageError && /loss options batchDice and batch_dice are the same option .*give only batch_dice/.test(e.message));
  assert.throws(() => lossOptionsFromConfig({ wDice: 1, w_dice: 2 }, 'run.yaml'), /run.yaml: loss options wDice and w_dice are the same option/);
  // a deprecated name of an option the loss does not have is still an unknown option, under its new name
  assert.throws(() => stderrOf(() => createLoss('ce', { batchDice: true })), /loss 'ce' has no option 'batch_dice' \(valid: none\)/);
});

test('segloss train --loss-opt with a deprecated name: the warning is on stderr even with --quiet', () => {
  // smooth=-1 stops the command at option validation, before any data work (exit 2).
  const r = runSegloss(['--quiet', 'train', '--task', 'toy-liver', '--loss', 'dice', '--loss-opt', 'batchDice=false', '--loss-opt', 'smooth=-1']);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr, "warning: --loss-opt: loss option batchDice is deprecated; use batch_dice\nsegloss: loss 'dice' option smooth: must be ≥ 0, got -1\n");
});
