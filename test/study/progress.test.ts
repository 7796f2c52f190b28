/** Live progress lines of a running grid, read from run files, and output that fits 100 columns. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Cell } from '../../src/study/grid.js';
import { ProgressReporter, describeProgress, progressLine, runProgress } from '../../src/study/progress.js';
import { compactLeaderboard, fitLine, fitTable, leadingColumns } from '../../src/study/narrow.js';
import { groupSbatchArguments } from '../../src/study/emit.js';
import { runSegloss, tempDir } from '../helpers.js';
import { readFileSync } from 'node:fs';

const trainCell: Cell = { id: 'train:toy-liver:dice:3e-3:fold-0:seed-1', kind: 'train', task: 'toy-liver', loss: 'dice', learningRate: 3e-3, seed: 1, fold: 0, dependsOn: [], commands: [], continueOnFailure: false };
const testCell: Cell = { id: 'test:toy-liver:dice:fold-0:seed-1', kind: 'test', task: 'toy-liver', loss: 'dice', seed: 1, fold: 0, dependsOn: [], commands: [], continueOnFailure: true };

test('progress of a run: epochs from log.jsonl, planned epochs from config.json, ETA = mean epoch time × epochs left', () => {
  const run = tempDir('segloss-progress-');
  assert.deepEqual(runProgress(path.join(run, 'not-started')), { epoch: 0 });
  mkdirSync(run, { recursive: true });
  writeFileSync(path.join(run, 'config.json'), JSON.stringify({ epochs: 8 }));
  // Three epochs of 10, 20 and 30 s (mean 20 s), a fourth being written: 5 epochs left → 100 s.
  writeFileSync(path.join(run, 'log.jsonl'), '{"epoch":0,"seconds":10}\n{"epoch":1,"seconds":20}\n{"epoch":2,"seconds":30}\n{"epoch":3,"sec');
  const p = runProgress(run);
  assert.deepEqual(p, { epoch: 3, epochs: 8, etaSeconds: 100 });
  assert.equal(describeProgress({ cell: trainCell, elapsedSeconds: 65, ...p }), 'toy-liver dice 3e-3 f0/s1 epoch 3/8 ETA 2 min');
  assert.equal(describeProgress({ cell: trainCell, elapsedSeconds: 5, epoch: 0 }), 'toy-liver dice 3e-3 f0/s1 starting');
  assert.equal(describeProgress({ cell: testCell, elapsedSeconds: 59 }), 'toy-liver test dice f0/s1');
  assert.equal(describeProgress({ cell: testCell, elapsedSeconds: 130 }), 'toy-liver test dice f0/s1 2 min');
  assert.equal(describeProgress({ cell: trainCell, elapsedSeconds: 1, epoch: 7, epochs: 8, etaSeconds: 7200 }), 'toy-liver dice 3e-3 f0/s1 epoch 7/8 ETA 2.0 h');
});

test('progress lines: at most 100 columns; a log gets a line per change, a terminal one line rewritten', () => {
  const many = Array.from({ length: 6 }, () => ({ cell: trainCell, elapsedSeconds: 1, epoch: 3, epochs: 8, etaSeconds: 100 }));
  const line = progressLine(many);
  assert.equal(line.length, 100);
  assert.ok(line.startsWith('running 6: toy-liver dice 3e-3 f0/s1 epoch 3/8 ETA 2 min | ') && line.endsWith('…'), line);
  const written: string[] = [];
  const log = new ProgressReporter((t) => written.push(t), false);
  const one = [{ cell: trainCell, elapsedSeconds: 1, epoch: 1, epochs: 8 }];
  log.update(one);
  log.update(one);
  log.update([{ ...one[0]!, epoch: 2 }]);
  log.clear();
  assert.deepEqual(written, ['running 1: toy-liver dice 3e-3 f0/s1 epoch 1/8\n', 'running 1: toy-liver dice 3e-3 f0/s1 epoch 2/8\n']);
  const tty: string[] = [];
  const terminal = new ProgressReporter((t) => tty.push(t), true);
  terminal.update(one);
  terminal.clear();
  terminal.clear();
  assert.deepEqual(tty, ['\r\x1b[Krunning 1: toy-liver dice 3e-3 f0/s1 epoch 1/8', '\r\x1b[K']);
});

test('tables fit 100 columns: the widest columns are cut, wide tables keep their leading columns', () => {
  assert.equal(fitLine('abcdef', 4), 'abc…');
  assert.equal(fitLine('abc', 4), 'abc');
  const table = fitTable(['cell', 'state', 'reason'], [['train:toy-liver:dice:3e-3:fold-0:seed-1', 'failed', 'x'.repeat(200)]]);
  const lines = table.split('\n');
  assert.ok(lines.every((l) => l.length <= 100), table);
  assert.equal(lines[2], `train:toy-liver:dice:3e-3:fold-0:seed-1  failed  ${'x'.repeat(100 - 39 - 2 - 6 - 2 - 1)}…`);
  const header = ['rank', 'loss', 'rank_score', ...Array.from({ length: 20 }, (_, i) => `mean_dsc_task${i}`)];
  const wide = leadingColumns(header, [[1, 'dice', 0.5, ...Array.from({ length: 20 }, () => '0.812')]]);
  // rank(4) + loss(4) + rank_score(10) + 2 gaps = 22; each mean column adds 2 + 14: four make 86, a fifth 102 > 100.
  assert.deepEqual([wide.header.length, wide.omitted], [7, 16]);
});

test('--sbatch takes every argument up to the next segloss option', () => {
  const known = (a: string) => ['--jobs', '--out', '--emit'].includes(a.split('=')[0] as string);
  assert.deepEqual(groupSbatchArguments(['--emit', 'slurm', '--sbatch', '--gres=gpu:1', '--time=72:00:00'], known), ['--emit', 'slurm', '--sbatch=--gres=gpu:1', '--sbatch=--time=72:00:00']);
  assert.deepEqual(groupSbatchArguments(['--sbatch', '-p', 'gpu', '--mem=8G', '--out', 'x'], known), ['--sbatch=-p gpu', '--sbatch=--mem=8G', '--out', 'x']);
  assert.deepEqual(groupSbatchArguments(['--sbatch', '--jobs', '2'], known), ['--sbatch', '--jobs', '2']);
});

test('`segloss benchmark --config paper --emit slurm --sbatch --gres=gpu:1 --time=72:00:00` works as written', () => {
  const dir = tempDir('segloss-sbatch-');
  const r = runSegloss(['benchmark', '--config', 'paper', '--emit', 'slurm', '--sbatch', '--gres=gpu:1', '--time=72:00:00', '--results', path.join(dir, 'results')], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  const script = readFileSync(path.join(dir, 'results', 'slurm', 'cell.sbatch'), 'utf8').split('\n');
  assert.deepEqual(script.filter((l) => l.startsWith('#SBATCH --gres') || l.startsWith('#SBATCH --time')), ['#SBATCH --gres=gpu:1', '#SBATCH --time=72:00:00']);
  assert.ok(r.stdout.split('\n').every((l) => l.length <= 100), r.stdout);
});

test('the final leaderboard: rank, loss, score and the per-task means first, rounded, in 100 columns', () => {
  const tasks = ['toy-liver', 'toy-livertumor', 'toy-pancreas', 'toy-multiorgan'];
  const header = ['rank', 'loss', 'rank_score', ...tasks.flatMap((t) => [`dsc_${t}`, `nsd_${t}`]), ...tasks.map((t) => `mean_dsc_${t}`), ...tasks.map((t) => `mean_nsd_${t}`)];
  const row = (rank: number, loss: string) => [rank, loss, '1.25', ...tasks.flatMap(() => ['1', '0.5']), ...tasks.map(() => '0.81234567'), ...tasks.map(() => '0.7')].join(',');
  const text = compactLeaderboard([header.join(','), row(1, 'dicece'), row(2, 'ce')].join('\n') + '\n', '/r/ranking/leaderboard.csv');
  const lines = text.split('\n');
  assert.ok(lines.every((l) => l.length <= 100), text);
  // rank 4 + loss 6 + rank_score 10 + mean_dsc_toy-liver 18 + mean_dsc_toy-livertumor 23 + mean_dsc_toy-pancreas 21
  // + 5 gaps of 2 = 92; mean_dsc_toy-multiorgan (22) would make 116: 6 of 19 columns shown.
  assert.equal(lines[0], 'rank  loss    rank_score  mean_dsc_toy-liver  mean_dsc_toy-livertumor  mean_dsc_toy-pancreas');
  assert.equal(lines[2], '1     dicece  1.25        0.812               0.812                    0.812');
  assert.equal(lines.at(-1), '(13 more columns in /r/ranking/leaderboard.csv)');
});
