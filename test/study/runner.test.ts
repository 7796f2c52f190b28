/**
 * Which failures a re-run keeps (src/study/runner.ts): a training that failed as a result of
 * the study (status.json 'failed', e.g. a NaN loss) stays failed, as the paper's Table 3 reports it;
 * a cell whose process failed for another reason (killed, crashed) is run again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Cell, GridPaths } from '../../src/study/grid.js';
import { runGrid } from '../../src/study/runner.js';
import { writeCellRecord, type ArtifactLayout } from '../../src/study/state.js';
import { writeRunStatus } from '../../src/util/run-status.js';
import { runDirectory } from '../../src/util/layout.js';
import { tempDir } from '../helpers.js';

const dir = tempDir('segloss-runner-');
const paths: GridPaths = { synth: path.join(dir, 'synth'), preprocessed: path.join(dir, 'pre'), results: path.join(dir, 'results') };
const synthOut = path.join(dir, 'synth', 'toy-liver');
const divergedRun = runDirectory(paths.results, 'toy-liver', 'tversky', 3e-4, 0, 12345);

/** A cheap real command (two toy cases) stands for the cell's work; its dataset.json is the output. */
const crashed: Cell = {
  id: 'prepare:toy-liver',
  kind: 'prepare',
  task: 'toy-liver',
  dependsOn: [],
  commands: [['--quiet', 'synth', '--task', 'toy-liver', '--cases', '2', '--out', synthOut]],
  continueOnFailure: false,
};
/** A training whose run says it diverged; its command would fail if it were run. */
const diverged: Cell = {
  id: 'train:toy-liver:tversky:3e-4',
  kind: 'train',
  task: 'toy-liver',
  loss: 'tversky',
  learningRate: 3e-4,
  dependsOn: [],
  commands: [['train', '--task', 'no-such-task']],
  continueOnFailure: false,
};
const layout: ArtifactLayout = {
  runDirs: (cell) => (cell.kind === 'train' ? [divergedRun] : []),
  outputFile: (cell) => (cell.kind === 'prepare' ? path.join(synthOut, 'dataset.json') : undefined),
};

test('a re-run retries a cell whose process failed and keeps a diverged training failed', async () => {
  mkdirSync(divergedRun, { recursive: true });
  writeRunStatus(divergedRun, { state: 'failed', reason: 'diverged: training loss is NaN in epoch 0', epoch: 0 });
  // What the earlier run recorded: its prepare process was killed; the training diverged.
  writeCellRecord(paths, { id: crashed.id, state: 'failed', reason: 'killed', seconds: 1, finishedAt: new Date(0).toISOString() });
  writeCellRecord(paths, { id: diverged.id, state: 'failed', reason: 'diverged', seconds: 1, finishedAt: new Date(0).toISOString() });
  const r = await runGrid([crashed, diverged], { jobs: 1, paths, layout, inputsOf: () => [], retryFailed: false });
  assert.equal(r.states.get(crashed.id)?.state, 'done');
  assert.ok(existsSync(path.join(synthOut, 'dataset.json')));
  assert.deepEqual(r.states.get(diverged.id), {
    id: diverged.id,
    state: 'failed',
    reason: 'diverged: training loss is NaN in epoch 0',
    seconds: 1,
    trainingFailed: true,
  });
  // The diverged training's command never ran: no log of it exists.
  assert.ok(!existsSync(path.join(paths.results, '.benchmark', 'logs', 'train_toy-liver_tversky_3e-4.log')));
});

test('while a cell runs, the runner reports it with its start time at every progress interval', async () => {
  const work = tempDir('segloss-runner-progress-');
  const out = path.join(work, 'synth', 'toy-liver');
  const cell: Cell = { ...crashed, commands: [['--quiet', 'synth', '--task', 'toy-liver', '--cases', '2', '--out', out]] };
  const seen: string[] = [];
  const r = await runGrid([cell], {
    jobs: 1,
    paths: { synth: path.join(work, 'synth'), preprocessed: path.join(work, 'pre'), results: path.join(work, 'results') },
    layout: { runDirs: () => [], outputFile: () => path.join(out, 'dataset.json') },
    inputsOf: () => [],
    retryFailed: false,
    // A child process takes longer than 20 ms to start alone, so at least one report comes.
    progressIntervalMs: 20,
    onProgress: (running) => seen.push(...running.map((x) => `${x.cell.id} ${typeof x.startedAt}`)),
  });
  assert.equal(r.states.get(cell.id)?.state, 'done');
  assert.ok(seen.length > 0);
  assert.ok(seen.every((s) => s === 'prepare:toy-liver number'), seen.join(', '));
});
