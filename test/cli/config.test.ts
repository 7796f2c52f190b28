/**
 * One config dialect: every config file kind checked against its published JSON Schema
 * (configs/schema/), errors one line naming file and key; `train --config` in snake_case with
 * camelCase accepted and a deprecation warning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT, runSegloss, tempDir } from '../helpers.js';
import { CONFIG_KINDS, firstProblem, schemaFile, schemaValidator, validateConfig, type ConfigKind } from '../../src/util/config-schema.js';
import { InputError } from '../../src/util/errors.js';
import { camelToSnake, snakeToCamel } from '../../src/cli/settings.js';

const CONFIGS = path.join(REPO_ROOT, 'configs');
const yamlIn = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => path.join(dir, f));

test('every published schema compiles under ajv strict mode (no unknown keyword), and every shipped config conforms', () => {
  for (const kind of CONFIG_KINDS) {
    assert.ok(existsSync(schemaFile(kind)), kind);
    assert.doesNotThrow(() => schemaValidator(kind), kind);
  }
  const shipped: [ConfigKind, string[]][] = [
    ['benchmark', yamlIn(CONFIGS)],
    ['task', yamlIn(path.join(CONFIGS, 'tasks'))],
    ['planning-profile', yamlIn(path.join(CONFIGS, 'profiles'))],
    ['training-profile', yamlIn(path.join(CONFIGS, 'training'))],
  ];
  for (const [kind, files] of shipped) {
    assert.ok(files.length >= 2, kind);
    for (const f of files) assert.equal(firstProblem(kind, parseYaml(readFileSync(f, 'utf8'))), undefined, f);
  }
});

test('schema errors: one line, the file, the dotted key and the problem', () => {
  const smoke = parseYaml(readFileSync(path.join(CONFIGS, 'smoke.yaml'), 'utf8')) as Record<string, unknown>;
  const cases: [ConfigKind, unknown, string][] = [
    ['benchmark', { ...smoke, training: { epochs: 0 } }, 'training.epochs: expected a positive integer, got 0'],
    ['benchmark', { ...smoke, ranking: { alpha: 1.5 } }, 'ranking.alpha: expected a number > 0 and < 1, got 1.5'],
    ['benchmark', { ...smoke, learning_rates: [3e-3, -1] }, 'learning_rates[1]: expected a positive number, got -1'],
    ['benchmark', { ...smoke, evaluation: { tolerance: 1 } }, "evaluation.tolerance: unknown key 'tolerance' (valid: tolerance_mm, tta)"],
    ['benchmark', { ...smoke, selection: 'best' }, 'selection: expected one of nested, paper, got "best"'],
    ['benchmark', { losses: ['dice'] }, "missing key 'tasks'"],
    ['benchmark', { ...smoke, folds: [0, 5] }, 'folds[1]: expected an integer ≥ 0 and ≤ 4, got 5'],
    ['benchmark', { ...smoke, folds: [1, 2, 1] }, 'folds: lists 1 twice'],
    ['benchmark', { ...smoke, seeds: 'one' }, 'seeds: expected an integer ≥ 0 and ≤ 4294967295 or a list, got "one"'],
    ['benchmark', { ...smoke, seeds: Array.from({ length: 101 }, (_, i) => i) }, 'seeds: expected at most 100 items, got 101'],
    ['task', { id: 'x', description: 'd', modality: 'PET', labels: { 0: 'bg' }, data_path: 'X' }, 'modality: expected one of CT, MRI, got "PET"'],
    ['task', { id: 'x', description: 'd', modality: 'CT', labels: { 0: 'bg', liver: 1 }, data_path: 'X' }, "labels.liver: unknown key 'liver' (valid: keys matching ^[0-9]+$)"],
    ['task', { id: 'x', description: 'd', modality: 'CT', labels: { 0: 'bg' }, data_path: 'X', label_map: { 2: 'one' } }, 'label_map.2: expected an integer ≥ 0, got "one"'],
    ['task', { id: 'x', description: 'd', modality: 'CT', labels: { 0: 'bg' }, data_path: 'X', aliases: ['A', ''] }, 'aliases[1]: expected a non-empty string'],
    ['planning-profile', { overrides: [{ match: 'toy-*', base_features: -8 }] }, 'overrides[0].base_features: expected a positive number, got -8'],
    ['planning-profile', { batch_size: 0 }, 'batch_size: expected a positive integer, got 0'],
    ['train', { val_batches: 'two' }, 'val_batches: expected a positive integer, got "two"'],
    ['train', { loss_options: { k: [1, 'a'] } }, 'loss_options.k[1]: expected a number, got "a"'],
  ];
  for (const [kind, value, message] of cases) {
    assert.throws(() => validateConfig(kind, '/cfg/my file.yaml', value), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.message, `/cfg/my file.yaml: ${message}`);
      assert.equal(e.exitCode, 2);
      return true;
    });
  }
  const profile = parseYaml(readFileSync(path.join(CONFIGS, 'training', 'cpu.yaml'), 'utf8')) as Record<string, unknown>;
  assert.equal(firstProblem('training-profile', { ...profile, workers: -1 }), 'workers: expected an integer ≥ 0, got -1');
  assert.equal(firstProblem('training-profile', { ...profile, workers: 'many' }), 'workers: expected "auto" or an integer ≥ 0, got "many"');
});

test('snake_case ↔ camelCase names of settings', () => {
  assert.equal(camelToSnake('valBatches'), 'val_batches');
  assert.equal(camelToSnake('synthDir'), 'synth_dir');
  assert.equal(snakeToCamel('pretrain_only'), 'pretrainOnly');
  assert.equal(snakeToCamel(camelToSnake('pretrainLr')), 'pretrainLr');
});

test('CLI: a benchmark config that breaks the schema is refused before any work, one line, exit 2', () => {
  const dir = tempDir();
  const file = path.join(dir, 'bad.yaml');
  writeFileSync(file, 'tasks: [toy-liver]\nlosses: [dice]\njobs: 0\n');
  const r = runSegloss(['status', '--config', file]);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr, `segloss: ${file}: jobs: expected a positive integer, got 0\n`);
});

test('CLI: train --config in snake_case with loss_options; camelCase keys warn once each; schema errors name the key', () => {
  const dir = tempDir();
  const write = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const common = `task: toy-liver\nloss: dice\nresults: ${JSON.stringify(path.join(dir, 'results'))}\n`;
  // snake_case keys reach the settings: val_batches is checked by the schema
  const bad = write('bad.yaml', `${common}val_batches: 0\n`);
  const r1 = runSegloss(['train', '--config', bad]);
  assert.equal(r1.status, 2, r1.stderr);
  assert.equal(r1.stderr, `segloss: ${bad}: val_batches: expected a positive integer, got 0\n`);
  // camelCase: one deprecation line, then the same check
  const camel = write('camel.yaml', `${common}valBatches: 0\n`);
  const r2 = runSegloss(['train', '--config', camel]);
  assert.equal(r2.status, 2, r2.stderr);
  assert.equal(r2.stderr, `warning: ${camel}: setting valBatches is deprecated; use val_batches\nsegloss: ${camel}: val_batches: expected a positive integer, got 0\n`);
  // loss_options reach the loss (smooth must be ≥ 0), deprecated option names are renamed with a warning
  const opts = write('opts.yaml', `${common}loss_options:\n  batchDice: false\n  smooth: -1\n`);
  const r3 = runSegloss(['train', '--config', opts]);
  assert.equal(r3.status, 2, r3.stderr);
  assert.equal(r3.stderr, `warning: ${opts}: loss_options: loss option batchDice is deprecated; use batch_dice\nsegloss: loss 'dice' option smooth: must be ≥ 0, got -1\n`);
  // the flag wins over the file
  const r4 = runSegloss(['train', '--config', opts, '--loss-opt', 'smooth=-2']);
  assert.match(r4.stderr, /option smooth: must be ≥ 0, got -2/);
  // both spellings of one setting: refused
  const both = write('both.yaml', `${common}val_batches: 1\nvalBatches: 1\n`);
  const r5 = runSegloss(['train', '--config', both]);
  assert.equal(r5.status, 2, r5.stderr);
  assert.match(r5.stderr, /valBatches and val_batches are the same setting; give only val_batches/);
});

test('CLI: a snake_case train config trains (batch_dice from loss_options recorded in the run config)', { timeout: 600_000 }, () => {
  const dir = tempDir();
  const file = path.join(dir, 'train.yaml');
  writeFileSync(file, [
    'task: toy-liver', 'loss: dice', 'lr: 3e-4', 'epochs: 1', 'iterations: 1', 'val_batches: 1',
    `synth_dir: ${JSON.stringify(path.join(dir, 's'))}`, `preprocessed: ${JSON.stringify(path.join(dir, 'p'))}`, `results: ${JSON.stringify(path.join(dir, 'r'))}`,
    'loss_options:', '  batch_dice: false', '  include_background: true', '',
  ].join('\n'));
  const r = runSegloss(['--quiet', 'train', '--config', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /warning|deprecated/);
  const config = readFileSync(path.join(dir, 'r', 'toy-liver', 'dice', 'lr-3e-4', 'fold-0', 'seed-12345', 'config.json'), 'utf8');
  assert.match(config, /"batch_dice": false/);
  assert.match(config, /"include_background": true/);
});

test('CLI: a task YAML in camelCase (dataPath) still resolves, with one deprecation line per key', () => {
  const dir = tempDir();
  const file = path.join(dir, 'organ.yaml');
  writeFileSync(file, 'modality: CT\nlabels:\n  0: background\n  1: organ\ndataPath: /data/Dataset501_Organ\nsynthetic: false\n');
  const r = runSegloss(['task', 'init', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, `warning: ${file}: setting dataPath is deprecated; use data_path\n`);
  assert.match(r.stdout, /^data_path: \/data\/Dataset501_Organ$/m);
  // a task YAML given by path meets the schema too (its id and description may be left out)
  writeFileSync(file, 'modality: CT\nlabels:\n  0: background\ndata_path: a\nsynth_cases: -1\n');
  const r1 = runSegloss(['task', 'init', file]);
  assert.equal(r1.status, 2, r1.stderr);
  assert.equal(r1.stderr, `segloss: ${file}: synth_cases: expected an integer ≥ 0, got -1\n`);
  // both spellings of one key: refused
  writeFileSync(file, 'modality: CT\nlabels:\n  0: background\ndata_path: a\ndataPath: a\n');
  const r2 = runSegloss(['task', 'init', file]);
  assert.equal(r2.status, 2, r2.stderr);
  assert.equal(r2.stderr, `segloss: ${file}: dataPath and data_path are the same setting; give only data_path\n`);
});
