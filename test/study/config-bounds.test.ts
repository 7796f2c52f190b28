/** Benchmark config bounds: non-empty grids, whole counts with upper limits, distinct seeds; one line naming the file and key. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBenchmarkConfig, CONFIG_LIMITS } from '../../src/study/config.js';
import { InputError } from '../../src/util/errors.js';

const registries = { validLosses: ['ce', 'dice'], validTasks: ['toy-liver'] };
const parse = (extra: Record<string, unknown>) => parseBenchmarkConfig('/c/bounds.yaml', { tasks: ['toy-liver'], losses: ['dice'], ...extra }, registries);

function refused(extra: Record<string, unknown>, message: string): void {
  assert.throws(
    () => parse(extra),
    (e: unknown) => e instanceof InputError && e.message === `/c/bounds.yaml: ${message}` && !e.message.includes('\n'),
    JSON.stringify(extra),
  );
}

test('empty grids are refused, naming the key', () => {
  refused({ learning_rates: [] }, "'learning_rates' must not be empty");
  refused({ finetune_learning_rates: [] }, "'finetune_learning_rates' must not be empty");
  refused({ seeds: [] }, "'seeds' must not be empty");
  refused({ folds: [] }, "'folds' must not be empty");
  assert.throws(() => parseBenchmarkConfig('/c/bounds.yaml', { tasks: [], losses: ['dice'] }, registries), /'tasks' must be a non-empty list/);
  assert.throws(() => parseBenchmarkConfig('/c/bounds.yaml', { tasks: ['toy-liver'], losses: [] }, registries), /'losses' must be a non-empty list/);
});

test('counts are whole numbers from 1 to their limit', () => {
  refused({ training: { epochs: 1e12 } }, "'training.epochs' must be a whole number from 1 to 10000, got '1000000000000'");
  refused({ training: { epochs: 0 } }, "'training.epochs' must be a whole number from 1 to 10000, got '0'");
  refused({ training: { epochs: 2.5 } }, "'training.epochs' must be a whole number from 1 to 10000, got '2.5'");
  refused({ training: { iterations: 100_001 } }, "'training.iterations' must be a whole number from 1 to 100000, got '100001'");
  refused({ training: { val_batches: -1 } }, "'training.val_batches' must be a whole number from 1 to 10000, got '-1'");
  refused({ synth: { cases: 1e8 } }, "'synth.cases' must be a whole number from 1 to 10000, got '100000000'");
  refused({ jobs: 100_000 }, "'jobs' must be a whole number from 1 to 256, got '100000'");
  refused({ ranking: { bootstrap: 1e6 } }, "'ranking.bootstrap' must be a whole number from 0 to 100000, got '1000000'");
  refused({ fold: 5 }, "'fold' must be a whole number from 0 to 4, got '5'");
  // The limits themselves are accepted.
  const c = parse({ training: { epochs: CONFIG_LIMITS.epochs, iterations: CONFIG_LIMITS.iterations }, synth: { cases: CONFIG_LIMITS.synthCases }, jobs: CONFIG_LIMITS.jobs, ranking: { bootstrap: 0 } });
  assert.deepEqual([c.training.epochs, c.training.iterations, c.synthCases, c.jobs, c.ranking.bootstrap], [10_000, 100_000, 10_000, 256, 0]);
});

test('seeds and folds: distinct whole numbers in range; fold and folds exclusive; rates distinct', () => {
  refused({ seeds: [1, 2, 1] }, "'seeds' lists 1 twice");
  refused({ seeds: [-1] }, "'seeds' must list whole numbers from 0 to 4294967295, got '-1'");
  refused({ seeds: Array.from({ length: 101 }, (_, i) => i) }, "'seeds' lists 101 values, at most 100");
  refused({ folds: [0, 5] }, "'folds' must list whole numbers from 0 to 4, got '5'");
  refused({ folds: [1, 1] }, "'folds' lists 1 twice");
  refused({ fold: 0, folds: [0] }, "give either 'fold' or 'folds', not both");
  refused({ learning_rates: [3e-4, 3e-4] }, "'learning_rates' lists 0.0003 twice");
  refused({ tasks: ['toy-liver', 'toy-liver'] }, "'tasks' lists a task twice");
  refused({ losses: ['dice', 'dice'] }, "'losses' lists a loss twice");
  refused({ selection: 'test' }, "'selection' must be one of nested, paper, got 'test'");
  refused({ checkpoint: 'last' }, "'checkpoint' must be one of best, final, got 'last'");
  const c = parse({ seeds: [3, 1], folds: [2, 0], selection: 'paper', checkpoint: 'final' });
  assert.deepEqual([c.seeds, c.folds, c.fold, c.selection, c.checkpoint], [[3, 1], [2, 0], 2, 'paper', 'final']);
  const d = parse({});
  assert.deepEqual([d.seeds, d.folds, d.fold, d.selection, d.checkpoint], [undefined, [0], 0, undefined, undefined]);
});
