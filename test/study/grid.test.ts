import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBenchmarkConfig } from '../../src/study/config.js';
import { planGrid, parseOnly, type GridPaths, type GridOptions } from '../../src/study/grid.js';
import { formatLearningRate } from '../../src/util/layout.js';
import { cellShellLine, cellsToJsonl, shellQuote } from '../../src/study/emit.js';
import { InputError } from '../../src/util/errors.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { makeVolume, writeNiftiSync } from '../../src/data/nifti.js';
import * as path from 'node:path';
import { planBenchmark } from '../../src/study/plan.js';
import { runSegloss, tempDir } from '../helpers.js';

const registries = { validLosses: ['ce', 'dice', 'dicece', 'dicebd', 'lovasz', 'dicehd'], validTasks: ['toy-liver', 'toy-pancreas', 'liver'] };
const paths: GridPaths = { synth: '/s', preprocessed: '/p', results: '/r' };
const options: GridOptions = {
  seed: 7,
  isSynthetic: (t) => t.startsWith('toy-'),
  pretrainLossOf: (l) => ({ dicebd: 'dice', dicehd: 'dice', lovasz: 'ce' })[l],
  usesFinetuneRates: (l) => l === 'dicebd' || l === 'dicehd',
};

function config(extra: Record<string, unknown> = {}) {
  return parseBenchmarkConfig('/c/test.yaml', { tasks: ['toy-liver', 'toy-pancreas'], losses: ['ce', 'dice', 'dicebd', 'lovasz'], learning_rates: [3e-3, 3e-4], ...extra }, registries);
}

test('config: defaults and name from the file name', () => {
  const c = config();
  assert.equal(c.name, 'test');
  assert.deepEqual(c.learningRates, [3e-3, 3e-4]);
  assert.equal(c.fold, 0);
  assert.deepEqual(c.ranking.metrics, ['dsc', 'nsd']);
  assert.equal(c.evaluation.toleranceMm, 1);
});

test('config: unknown keys, losses, tasks and metrics are errors naming them', () => {
  assert.throws(() => config({ epochz: 3 }), (e: unknown) => e instanceof InputError && /unknown key 'epochz'/.test(e.message) && /test\.yaml/.test(e.message));
  assert.throws(() => config({ training: { epoch: 3 } }), /unknown key 'training\.epoch'/);
  assert.throws(() => config({ losses: ['dice', 'dicee'] }), /unknown loss 'dicee'/);
  assert.throws(() => config({ tasks: ['kidney'] }), /unknown task 'kidney'/);
  assert.throws(() => config({ ranking: { metrics: ['jaccard'] } }), /unknown metric 'jaccard'/);
  assert.throws(() => config({ learning_rates: [-1] }), /learning_rates/);
});

test('config: the deprecated deterministic key is accepted with a one-line warning and changes no command', () => {
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
  let withKey;
  try {
    withKey = config({ deterministic: true });
  } finally {
    process.stderr.write = write;
  }
  assert.deepEqual(written, ["warning: /c/test.yaml: 'deterministic' is deprecated and has no effect: every run is seeded with --seed\n"]);
  const commands = (c: ReturnType<typeof config>) => planGrid(c, paths, options).flatMap((cell) => cell.commands.map((args) => args.join(' ')));
  assert.deepEqual(commands(withKey), commands(config()));
  assert.ok(commands(config()).every((line) => !line.includes('--deterministic') && line.includes('--seed 7')));
});

test('learning rates are formatted as in run directory names', () => {
  assert.equal(formatLearningRate(3e-4), '3e-4');
  assert.equal(formatLearningRate(0.001), '1e-3');
  assert.equal(formatLearningRate(3e-3), '3e-3');
  assert.equal(formatLearningRate(1.5e-5), '1.5e-5');
});

test('grid: cells, dependencies, and fine-tuning from the base-loss runs of the grid', () => {
  const cells = planGrid(config(), paths, options);
  const ids = cells.map((c) => c.id);
  // 2 prepare + 2 tasks × 4 losses × 2 rates train + 2×4 test + rank; dice and ce are in the grid,
  // so DiceBD and Lovász fine-tune from those runs and need no pre-training cells.
  assert.equal(cells.length, 2 + 16 + 8 + 1);
  assert.ok(!ids.some((id) => id.startsWith('pretrain:')));
  const bd = cells.find((c) => c.id === 'train:toy-liver:dicebd:3e-4:fold-0:seed-7');
  assert.deepEqual(bd?.dependsOn, ['prepare:toy-liver', 'train:toy-liver:dice:3e-3:fold-0:seed-7', 'train:toy-liver:dice:3e-4:fold-0:seed-7']);
  // First the base loss's rate is chosen over its replicates, then fine-tuning starts from that run.
  assert.equal(bd?.commands[0]?.join(' '), '--seed 7 --quiet study choose-lr --results /r --task toy-liver --loss dice --rates 3e-3,3e-4 --seeds 7 --folds 0');
  assert.ok(bd?.commands[1]?.join(' ').endsWith('--pretrained /r/toy-liver/dice'));
  const testCell = cells.find((c) => c.id === 'test:toy-pancreas:lovasz:fold-0:seed-7');
  assert.deepEqual(testCell?.dependsOn, ['train:toy-pancreas:lovasz:3e-3:fold-0:seed-7', 'train:toy-pancreas:lovasz:3e-4:fold-0:seed-7']);
  assert.equal(testCell?.continueOnFailure, true);
  // Every cell comes after its dependencies.
  for (const [i, c] of cells.entries()) for (const d of c.dependsOn) assert.ok(ids.indexOf(d) < i, `${d} before ${c.id}`);
  // The toy task is synthesized, then preprocessed from the synthesized folder.
  const prepare = cells[0];
  assert.deepEqual(prepare?.commands.map((c) => c[c.indexOf('--quiet') + 1]), ['synth', 'preprocess']);
  assert.ok(prepare?.commands[1]?.join(' ').includes('--data /s/toy-liver'));
});

test('grid: the seed (the global --seed) goes to every command and names the test directories', () => {
  const cells = planGrid(config({ fold: 2 }), paths, options);
  const testCell = cells.find((c) => c.id === 'test:toy-pancreas:lovasz:fold-2:seed-7');
  const [choose, predict, evaluate, provenance] = (testCell?.commands ?? []).map((args) => args.join(' '));
  assert.equal(choose, '--seed 7 --quiet study choose-lr --results /r --task toy-pancreas --loss lovasz --rates 3e-3,3e-4 --seeds 7 --folds 2');
  assert.equal(provenance, '--seed 7 --quiet study provenance --results /r --task toy-pancreas --loss lovasz --fold 2 --out /r/toy-pancreas/lovasz/test/fold-2/seed-7/evaluation');
  assert.equal(predict, '--seed 7 --quiet predict --run /r/toy-pancreas/lovasz --fold 2 --split test --out /r/toy-pancreas/lovasz/test/fold-2/seed-7/predictions');
  assert.ok(evaluate?.startsWith('--seed 7 --quiet evaluate --pred /r/toy-pancreas/lovasz/test/fold-2/seed-7/predictions '), evaluate);
  assert.ok(evaluate?.endsWith(' --out /r/toy-pancreas/lovasz/test/fold-2/seed-7/evaluation'), evaluate);
  const rank = cells.find((c) => c.kind === 'rank')?.commands[0] ?? [];
  const inputs = rank.slice(rank.indexOf('--results') + 1, rank.indexOf('--out'));
  assert.equal(inputs.length, 8);
  assert.ok(inputs.every((f) => /^\/r\/toy-(liver|pancreas)\/[a-z]+\/test\/fold-2\/seed-7\/evaluation\/results\.csv$/.test(f)), inputs.join(' '));
  for (const cell of cells.filter((c) => c.kind === 'train')) assert.deepEqual(cell.commands[0]?.slice(0, 2), ['--seed', '7']);
});

test('grid: without its base loss in the grid, a special schedule gets one shared pre-training cell per task', () => {
  const cells = planGrid(config({ losses: ['dicebd', 'dicehd'] }), paths, options);
  assert.deepEqual(cells.filter((c) => c.kind === 'pretrain').map((c) => c.id), ['pretrain:toy-liver:dice:fold-0:seed-7', 'pretrain:toy-pancreas:dice:fold-0:seed-7']);
  const hd = cells.find((c) => c.id === 'train:toy-liver:dicehd:3e-3:fold-0:seed-7');
  assert.deepEqual(hd?.dependsOn, ['prepare:toy-liver', 'pretrain:toy-liver:dice:fold-0:seed-7']);
  assert.ok(!hd?.commands[0]?.includes('--pretrained'));
});

test('grid: fine-tuned losses search the fine-tuning rates (paper footnote 7)', () => {
  const cells = planGrid(config({ losses: ['ce', 'dicebd', 'lovasz'], finetune_learning_rates: [3e-5, 1e-6], pretrain_lr: 1e-3 }), paths, options);
  assert.deepEqual(cells.filter((c) => c.kind === 'train' && c.task === 'toy-liver' && c.loss === 'dicebd').map((c) => c.learningRate), [3e-5, 1e-6]);
  assert.deepEqual(cells.filter((c) => c.kind === 'train' && c.task === 'toy-liver' && c.loss === 'lovasz').map((c) => c.learningRate), [3e-3, 3e-4]);
  const pretrain = cells.find((c) => c.id === 'pretrain:toy-liver:dice:fold-0:seed-7');
  const line = pretrain?.commands[0]?.join(' ') ?? '';
  assert.ok(line.includes('--loss dice ') && line.includes('--pretrain-only') && line.includes('--pretrain-lr 1e-3'), line);
});

test('grid: --only keeps the selected cells and what they need', () => {
  const keep = parseOnly('task=toy-pancreas,loss=dicebd,lr=3e-4')?.keep;
  const cells = planGrid(config(), paths, options, keep);
  assert.deepEqual(cells.map((c) => c.id), [
    'prepare:toy-pancreas',
    'train:toy-pancreas:dice:3e-3:fold-0:seed-7',
    'train:toy-pancreas:dice:3e-4:fold-0:seed-7',
    'train:toy-pancreas:dicebd:3e-4:fold-0:seed-7',
    'test:toy-pancreas:dicebd:fold-0:seed-7',
    'rank',
  ]);
  const rank = cells.at(-1);
  assert.deepEqual(rank?.dependsOn, ['test:toy-pancreas:dicebd:fold-0:seed-7']);
  // The test chooses among the kept rate only.
  assert.match(cells.at(-2)?.commands[0]?.join(' ') ?? '', / --rates 3e-4 /);
  assert.throws(() => parseOnly('model=unet'), /--only/);
});

test('emit: shell quoting and JSONL cells', () => {
  assert.equal(shellQuote('/a/b-c_d.yaml'), '/a/b-c_d.yaml');
  assert.equal(shellQuote("it's here"), `'it'\\''s here'`);
  const cells = planGrid(config(), paths, options);
  const lines = cellsToJsonl(cells).trim().split('\n').map((l) => JSON.parse(l) as { id: string; commands: string[][]; depends_on: string[] });
  assert.equal(lines.length, cells.length);
  assert.deepEqual(lines[0]?.commands[0]?.slice(0, 1), ['segloss']);
  const testCell = cells.find((c) => c.kind === 'test');
  assert.ok(testCell !== undefined && cellShellLine(testCell, 'node', 'segloss.js').includes(' ; '));
  const trainCell = cells.find((c) => c.kind === 'prepare');
  assert.ok(trainCell !== undefined && cellShellLine(trainCell, 'node', 'segloss.js').includes(' && '));
});

test('plan: loss_options under deprecated camelCase names reach the cells under their snake_case names', () => {
  const dir = tempDir('segloss-plan-');
  const file = path.join(dir, 'camel.yaml');
  writeFileSync(file, 'tasks: [toy-liver]\nlosses: [dice, dicebd]\nloss_options:\n  dice: { batchDice: false }\n  dicebd: { alpha_start: 0.5 }\n');
  const plan = planBenchmark({ config: file, seed: 1, results: path.join(dir, 'results'), preprocessed: path.join(dir, 'pre') });
  assert.deepEqual(plan.config.lossOptions, { dice: { batch_dice: false }, dicebd: { alpha_start: 0.5 } });
  const flags = (loss: string) => plan.cells.find((c) => c.kind === 'train' && c.loss === loss)!.commands.at(-1)!.join(' ');
  assert.match(flags('dice'), /--loss-opt batch_dice=false/);
  assert.match(flags('dicebd'), /--loss-opt alpha_start=0.5/);
});

test('tasks: a path to an nnU-Net v2 dataset folder plans its cells, folders named by the resolved id', () => {
  const dir = tempDir('segloss-plan-dataset-');
  const dataset = path.join(dir, 'data', 'Dataset042_Kidney');
  const affine = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] as const;
  for (const id of ['kid_1', 'kid_2']) {
    writeNiftiSync(path.join(dataset, 'imagesTr', `${id}_0000.nii.gz`), makeVolume(new Float32Array(8), [2, 2, 2], affine.map((r) => [...r]) as never));
    writeNiftiSync(path.join(dataset, 'labelsTr', `${id}.nii.gz`), makeVolume(new Uint8Array(8), [2, 2, 2], affine.map((r) => [...r]) as never));
  }
  writeFileSync(path.join(dataset, 'dataset.json'), JSON.stringify({ channel_names: { 0: 'CT' }, labels: { background: 0, kidney: 1 }, numTraining: 2, file_ending: '.nii.gz' }));
  const file = path.join(dir, 'kidney.yaml');
  // Relative to the working directory, as the other paths of a benchmark config.
  writeFileSync(file, 'tasks: [data/Dataset042_Kidney]\nlosses: [dice]\nlearning_rates: [3e-4]\n');
  const out = path.join(dir, 'cells.jsonl');
  const results = path.join(dir, 'results');
  const r = runSegloss(['--seed', '3', 'benchmark', '--config', file, '--emit', 'jsonl', '--out', out, '--results', results], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  const cells = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; kind: string; task: string | null; commands: string[][] });
  assert.deepEqual(cells.map((c) => c.id), ['prepare:Dataset042_Kidney', 'train:Dataset042_Kidney:dice:3e-4:fold-0:seed-3', 'test:Dataset042_Kidney:dice:fold-0:seed-3', 'rank']);
  const args = (kind: string, name: string) => cells.find((c) => c.kind === kind)!.commands.find((a) => a.includes(name))!;
  const after = (a: string[], flag: string) => a[a.indexOf(flag) + 1];
  // The commands that read the data get the dataset folder (absolute); the folders use the id.
  assert.equal(after(args('prepare', 'preprocess'), '--task'), dataset);
  assert.equal(after(args('train', 'train'), '--task'), dataset);
  assert.equal(after(args('test', 'evaluate'), '--task'), 'Dataset042_Kidney');
  assert.equal(cells.at(-1)!.commands[0]!.some((a) => a === '--published' || a === '--synthetic-tasks'), false);
  assert.equal(after(args('test', 'evaluate'), '--out'), path.join(results, 'Dataset042_Kidney', 'dice', 'test', 'fold-0', 'seed-3', 'evaluation'));
});

test('grid: the rank cell names synthetic tasks (a demonstration) and compares with the published means only when every task is the study\'s', () => {
  const rankArgs = (c: ReturnType<typeof config>) => (planGrid(c, paths, options).at(-1)?.commands[0] ?? []).join(' ');
  const toy = rankArgs(config());
  assert.match(toy, / --synthetic-tasks toy-liver,toy-pancreas$/);
  assert.doesNotMatch(toy, /--published/);
  const study = rankArgs(config({ tasks: ['liver'] }));
  assert.match(study, / --published auto$/);
  assert.doesNotMatch(study, /--synthetic-tasks/);
  assert.doesNotMatch(rankArgs(config({ tasks: ['liver', 'toy-liver'] })), /--published/);
});

test('grid: a synthetic task gets its own data folder keyed by seed and case count, and every training cell trains on it', () => {
  const cells = planGrid(config({ synth: { cases: 40 } }), paths, options);
  // The global seed 7 and 40 cases: never the folder `segloss train --task toy-liver` synthesizes its
  // default 20 cases (seed 2021) into, <synth>/toy-liver (ensureTaskData), so neither overwrites the other.
  const prepare = cells.find((c) => c.id === 'prepare:toy-liver');
  const synth = prepare?.commands.find((args) => args.includes('synth'));
  assert.equal(synth?.[synth.indexOf('--out') + 1], '/s/toy-liver-s7-n40');
  const preprocess = prepare?.commands.find((args) => args.includes('preprocess'));
  assert.equal(preprocess?.[preprocess.indexOf('--data') + 1], '/s/toy-liver-s7-n40');
  const trainings = cells.filter((c) => c.task === 'toy-liver' && (c.kind === 'train' || c.kind === 'pretrain'));
  assert.ok(trainings.length > 0);
  for (const cell of trainings) {
    const train = cell.commands.find((args) => args.includes('train'));
    assert.equal(train?.[train.indexOf('--data') + 1], '/s/toy-liver-s7-n40', cell.id);
  }
});
