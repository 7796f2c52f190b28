/**
 * Locks and early argument checks of `segloss train` and `segloss preprocess`, with real
 * processes on empty data, preprocessed and results roots: two trainings of one run started
 * together — exactly one trains, the other exits 2 naming the holder; a stale lock is taken over;
 * bad arguments are refused before anything is synthesized or preprocessed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN, REPO_ROOT, runSegloss, tempDir } from '../helpers.js';
import { readRunLog } from '../../src/train/trainer.js';
import { runDirectory, preprocessedTaskDirectory, RUN_FILES } from '../../src/util/layout.js';
import { readRunStatus } from '../../src/util/run-status.js';
import { lockDirectory, lockFileFor } from '../../src/util/lock.js';

const TRAIN = ['--quiet', 'train', '--task', 'toy-liver', '--loss', 'dice', '--profile', 'cpu', '--epochs', '2', '--iterations', '2'];

/** Empty SEGLOSS_RESULTS / SEGLOSS_PREPROCESSED / SEGLOSS_SYNTH roots (not created yet). */
function emptyRoots(name: string): { results: string; preprocessed: string; synth: string; env: NodeJS.ProcessEnv } {
  const base = path.join(tempDir(`segloss-${name}-`), 'roots');
  const roots = { results: path.join(base, 'results'), preprocessed: path.join(base, 'pre'), synth: path.join(base, 'synth') };
  return { ...roots, env: { ...process.env, NO_COLOR: '1', SEGLOSS_RESULTS: roots.results, SEGLOSS_PREPROCESSED: roots.preprocessed, SEGLOSS_SYNTH: roots.synth } };
}

interface Finished {
  pid: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], env: NodeJS.ProcessEnv): { pid: number; done: Promise<Finished> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const pid = child.pid as number;
  return { pid, done: new Promise((resolve) => child.on('close', (code) => resolve({ pid, code, stdout, stderr }))) };
}

test('two `segloss train` of one run started together on empty roots: exactly one trains, the other exits 2 naming the directory and the holder; the run is consistent', async () => {
  const roots = emptyRoots('race');
  const a = start(TRAIN, roots.env);
  const b = start(TRAIN, roots.env);
  const results = await Promise.all([a.done, b.done]);
  const winners = results.filter((r) => r.code === 0);
  const losers = results.filter((r) => r.code === 2);
  assert.equal(winners.length, 1, results.map((r) => `${r.code}: ${r.stderr}`).join('\n'));
  assert.equal(losers.length, 1, results.map((r) => `${r.code}: ${r.stderr}`).join('\n'));
  const [winner, loser] = [winners[0]!, losers[0]!];
  const dir = runDirectory(roots.results, 'toy-liver', 'dice', 3e-4, 0, 12345);
  // One line: "<run dir>: being trained by process <winner's pid> since … (lock file …); wait for it or stop it first".
  const lines = loser.stderr.trim().split('\n');
  assert.equal(lines.length, 1, loser.stderr);
  assert.ok(lines[0]!.startsWith(`segloss: ${dir}: being trained by process ${winner.pid} since `), lines[0]);
  assert.match(lines[0]!, new RegExp(`lock file ${lockFileFor(dir).replace(/[.]/g, '\\.')}\\); wait for it or stop it first$`));

  // The run directory is the winner's alone: every file describes the same two epochs.
  const status = readRunStatus(dir)!;
  assert.deepEqual({ state: status.state, epoch: status.epoch, steps: status.steps, budgetSteps: status.budgetSteps, stopReason: status.stopReason }, { state: 'done', epoch: 2, steps: 4, budgetSteps: 4, stopReason: 'budget' });
  const log = readRunLog(dir);
  assert.deepEqual(log.map((e) => e.epoch), [0, 1]);
  assert.deepEqual(readRunLog(path.join(dir, RUN_FILES.latest)), log);
  const latest = JSON.parse(readFileSync(path.join(dir, RUN_FILES.latest, 'state.json'), 'utf8')) as { schedule: { epoch: number; bestEpoch: number }; optimizerStep: number };
  assert.equal(latest.schedule.epoch, 2);
  assert.equal(latest.optimizerStep, 4);
  assert.equal(latest.schedule.bestEpoch, status.bestEpoch);
  const best = JSON.parse(readFileSync(path.join(dir, RUN_FILES.best, 'state.json'), 'utf8')) as { schedule: { epoch: number } };
  assert.equal(best.schedule.epoch, (status.bestEpoch as number) + 1, 'checkpoint/best is the best epoch of this log');
  assert.deepEqual(readRunLog(path.join(dir, RUN_FILES.best)), log.slice(0, best.schedule.epoch));
  assert.equal(status.bestValDice, log[status.bestEpoch as number]!.valDice);
  // Locks are gone; one preprocessed cache, one synthesized dataset.
  assert.equal(existsSync(lockFileFor(dir)), false);
  assert.equal(existsSync(lockFileFor(preprocessedTaskDirectory(roots.preprocessed, 'toy-liver'))), false);
  assert.deepEqual(readdirSync(roots.preprocessed), ['toy-liver']);

  // A stale lock (left by a killed process: its pid is dead) is taken over: more epochs continue the run.
  writeFileSync(lockFileFor(dir), JSON.stringify({ pid: loser.pid, host: os.hostname(), started: '2026-01-01T00:00:00.000Z' }));
  const more = runSegloss([...TRAIN.slice(0, -4), '--epochs', '3', '--iterations', '2'], { env: roots.env });
  assert.equal(more.status, 0, more.stderr);
  assert.deepEqual(readRunLog(dir).map((e) => e.epoch), [0, 1, 2]);
  assert.equal(readRunStatus(dir)!.steps, 6);
  assert.equal(existsSync(lockFileFor(dir)), false);
});

test('a run or a cache locked by another live process: train and preprocess exit 2 at once, naming it, before any data work', () => {
  const roots = emptyRoots('held');
  const dir = runDirectory(roots.results, 'toy-liver', 'dice', 3e-4, 0, 12345);
  const lock = lockDirectory(dir); // this test process is the live holder
  try {
    const r = runSegloss(TRAIN, { env: roots.env });
    assert.equal(r.status, 2, r.stderr);
    assert.ok(r.stderr.startsWith(`segloss: ${dir}: being trained by process ${process.pid} since `), r.stderr);
    assert.equal(existsSync(roots.synth), false, 'nothing synthesized');
    assert.equal(existsSync(roots.preprocessed), false, 'nothing preprocessed');
  } finally {
    lock.release();
  }
  // An LR search locks every rate first: one held rate stops it before any training.
  const held = lockDirectory(runDirectory(roots.results, 'toy-liver', 'dice', 3e-5, 0, 12345));
  try {
    const r = runSegloss([...TRAIN, '--lr', '3e-3,3e-5'], { env: roots.env });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`lr-3e-5/fold-0/seed-12345: being trained by process ${process.pid} `));
    assert.equal(existsSync(roots.synth), false);
    assert.equal(existsSync(lockFileFor(dir.replace('lr-3e-4', 'lr-3e-3'))), false, 'the rate locked first is released');
  } finally {
    held.release();
  }

  const out = path.join(roots.preprocessed, 'toy-liver');
  const cache = lockDirectory(out);
  try {
    const r = runSegloss(['--quiet', 'preprocess', '--task', 'toy-liver', '--out', out], { env: roots.env });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^segloss: ${out}: being preprocessed by process ${process.pid} since `));
    assert.equal(existsSync(path.join(out, 'plans.json')), false);
  } finally {
    cache.release();
  }
});

test('arguments are checked before any work: a fold the split does not have, bad modes and numbers exit 2 and create nothing', () => {
  const roots = emptyRoots('args');
  const cases: [string[], RegExp][] = [
    [['--fold', '9'], /^segloss: --fold: expected 0 … 4, got 9$/m],
    [['--fold', '-1'], /--fold/],
    [['--selection', 'paper', '--fold', '1'], /selection 'paper' .* only fold 0 exists, got 1/],
    [['--selection', 'outer'], /--selection: expected nested or paper, got 'outer'/],
    [['--checkpoint', 'last'], /--checkpoint: expected best or final, got 'last'/],
    [['--workers', '-2'], /--workers: expected an integer ≥ 0, got -2/],
    [['--lr', '0'], /--lr/],
    [['--resume', '--restart'], /--resume and --restart/],
  ];
  for (const [extra, message] of cases) {
    const r = runSegloss([...TRAIN, ...extra], { env: roots.env });
    assert.equal(r.status, 2, `${extra.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const unknown = runSegloss(['--quiet', 'train', '--task', 'toy-nothing', '--loss', 'dice'], { env: roots.env });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown task 'toy-nothing'/);
  for (const root of [roots.synth, roots.preprocessed, roots.results]) assert.equal(existsSync(root), false, `${root} was created`);
});
