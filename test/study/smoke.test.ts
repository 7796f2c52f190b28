/**
 * The main job's machinery end to end: `segloss benchmark` on a fresh working directory, killed
 * mid-grid (SIGKILL of the whole process group, as an OOM killer or a lost ssh session would) and
 * re-run, as a user would. The grid is test/fixtures/study/mini.yaml — one toy task, a plain
 * loss, Dice and the DiceBD schedule fine-tuned from the grid's Dice run — so that the file takes
 * minutes on any machine of the CI kind; the main job itself (configs/smoke.yaml) and its wall time
 * are `npm run bench:smoke`. The claims that rest on it:
 * - the killed and re-run benchmark ends with every cell done, every loss ranked, and the same
 *   per-case results and leaderboard as the same grid run without interruption beside it;
 * - every training cell the kill interrupted gives the same training log and the same best weights
 *   as the same cell trained without interruption;
 * - the report opens in a browser without errors;
 * - the grid submitted as Slurm job arrays, then `--collect`, gives the same results and
 *   leaderboard as the local run (a one-loss subset).
 * No assertion here depends on how fast the machine is: the kill waits for a number of finished
 * epochs, not for a time, and every timeout only guards against a hang (at least 4× the measured
 * duration; see the README's Development section).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { BIN, REPO_ROOT, checkReportInBrowserOrSkip, runSegloss, tempDir, timeless } from '../helpers.js';
import { readRunLog } from '../../src/train/trainer.js';
import { runDirectory, testEvaluationDirectory, testResultsFile } from '../../src/util/layout.js';
import { DEFAULT_SEED } from '../../src/util/rng.js';

const MINI = path.join(REPO_ROOT, 'test', 'fixtures', 'study', 'mini.yaml');
const MINI_LOSSES = ['ce', 'dice', 'dicebd'];
const TASK = 'toy-liver';
/** mini.yaml's fold and learning rate, and the seed of its runs (no --seed given). */
const FOLD = 0;
const RATE = 3e-3;
/** Epochs per training run in mini.yaml: the kill lands after KILL_AFTER_EPOCHS of the first run. */
const EPOCHS = 4;
const KILL_AFTER_EPOCHS = 2;
const MINUTE = 60_000;

/** The killed-and-re-run grid, and the same grid run once without interruption. */
const killedWork = tempDir('segloss-smoke-killed-');
const freshWork = tempDir('segloss-smoke-fresh-');
const resultsOf = (work: string) => path.join(work, 'results', 'mini');
const killedResults = resultsOf(killedWork);
/** The first training cell of the grid: the kill waits for it to be half-way. */
const firstRun = runDirectory(killedResults, TASK, 'ce', RATE, FOLD, DEFAULT_SEED);

function leaderboardRows(rankingDir: string): string[][] {
  return readFileSync(path.join(rankingDir, 'leaderboard.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
}

function testResults(resultsRoot: string, task: string, loss: string): string {
  return readFileSync(testResultsFile(resultsRoot, task, loss, FOLD, DEFAULT_SEED), 'utf8');
}

/** Training run directories whose status.json says 'running' (at a kill: the runs it interrupted). */
function runningRuns(resultsRoot: string): string[] {
  const runs: string[] = [];
  for (const loss of existsSync(path.join(resultsRoot, TASK)) ? readdirSync(path.join(resultsRoot, TASK)) : []) {
    const runDir = runDirectory(resultsRoot, TASK, loss, RATE, FOLD, DEFAULT_SEED);
    const status = path.join(runDir, 'status.json');
    if (existsSync(status) && (JSON.parse(readFileSync(status, 'utf8')) as { state: string }).state === 'running') runs.push(runDir);
  }
  return runs;
}

/** `segloss <args>` as a promise, so that several can run side by side. */
function runSeglossAsync(args: string[], cwd: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', SEGLOSS_WASM_THREADS: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function finishedEpochs(runDir: string): number {
  const log = path.join(runDir, 'log.jsonl');
  return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter((l) => l !== '').length : 0;
}

interface SmokeOutcome {
  rerun: { status: number | null; stdout: string; stderr: string };
  fresh: { status: number | null; stdout: string; stderr: string };
  killedAtEpoch: number;
  killedRuns: string[];
}

let smoke: Promise<SmokeOutcome> | undefined;
/**
 * Start the grid, SIGKILL its process group once the first training run has finished
 * KILL_AFTER_EPOCHS epochs, then re-run it; meanwhile run the same grid uninterrupted elsewhere.
 */
function runSmoke(): Promise<SmokeOutcome> {
  smoke ??= (async () => {
    const fresh = runSeglossAsync(['benchmark', '--config', MINI], freshWork);
    const child = spawn(process.execPath, [BIN, 'benchmark', '--config', MINI], { cwd: killedWork, stdio: 'ignore', detached: true, env: { ...process.env, NO_COLOR: '1' } });
    const exited = new Promise((r) => child.on('exit', r));
    // No time limit of its own: on a slow machine the epochs just come later (the test's timeout
    // guards against a hang). If the grid exited before, the assertion on killedAtEpoch says so.
    let exitedEarly = false;
    void exited.then(() => (exitedEarly = true));
    while (finishedEpochs(firstRun) < KILL_AFTER_EPOCHS && !exitedEarly) await new Promise((r) => setTimeout(r, 100));
    const killedAtEpoch = finishedEpochs(firstRun);
    if (!exitedEarly) process.kill(-(child.pid as number), 'SIGKILL');
    await exited;
    const killedRuns = runningRuns(killedResults);
    const rerun = await runSeglossAsync(['benchmark', '--config', MINI], killedWork);
    return { rerun, fresh: await fresh, killedAtEpoch, killedRuns };
  })();
  return smoke;
}

test('segloss benchmark killed mid-grid and re-run ends with every cell done and the leaderboard of an uninterrupted run', { timeout: 30 * MINUTE }, async (t) => {
  const r = await runSmoke();
  assert.ok(r.killedAtEpoch >= KILL_AFTER_EPOCHS && r.killedAtEpoch < EPOCHS, `killed after ${r.killedAtEpoch} epochs of the first run`);
  assert.equal(r.rerun.status, 0, `exit ${r.rerun.status}: ${r.rerun.stderr.slice(-3000)}`);
  assert.equal(r.fresh.status, 0, `uninterrupted run: exit ${r.fresh.status}: ${r.fresh.stderr.slice(-3000)}`);
  const ranking = path.join(killedResults, 'ranking');
  const report = path.join(ranking, 'report.html');
  assert.ok(r.rerun.stdout.includes(`report: ${report}`), r.rerun.stdout.slice(-500));
  // The ranking's warnings follow the leaderboard on stderr, as `segloss rank` prints them.
  assert.match(r.rerun.stderr, /^warning: \[synthetic-data\] task toy-liver: synthetic data/m);
  assert.match(r.rerun.stderr, /^warning: \[too-few-cases\] task toy-liver has 3 test case\(s\)/m);
  const rows = leaderboardRows(ranking);
  assert.deepEqual(rows[0]?.slice(0, 3), ['rank', 'loss', 'rank_score']);
  assert.deepEqual(rows.slice(1).map((row) => row[1]).sort(), [...MINI_LOSSES].sort());
  // The same per-case values and the same leaderboard as the uninterrupted grid.
  for (const loss of MINI_LOSSES) assert.equal(testResults(killedResults, TASK, loss), testResults(resultsOf(freshWork), TASK, loss), `${loss}: per-case results`);
  assert.deepEqual(rows, leaderboardRows(path.join(resultsOf(freshWork), 'ranking')));
  // Every cell is done, as `segloss status` reports it.
  const status = runSegloss(['--json', 'status', '--config', MINI], { cwd: killedWork });
  assert.equal(status.status, 0, status.stderr);
  const states = JSON.parse(status.stdout) as { counts: Record<string, number>; cells: { id: string; state: string; reason?: string }[] };
  assert.deepEqual(states.cells.filter((c) => c.state !== 'done'), []);
  // The report of a benchmark says what it rests on: the warnings banner and how every loss was trained.
  const probe = `({
    warnings: Array.from(document.querySelectorAll('#warnings > ul > li')).map((li) => li.textContent),
    provenance: Array.from(document.querySelectorAll('#provenance tr')).slice(1).map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent)),
  })`;
  const check = await checkReportInBrowserOrSkip(t, report, probe);
  if (check === undefined) return;
  assert.deepEqual(check.problems, []);
  assert.equal(check.firstLoss, rows[1]?.[1]);
  const p = check.probe as { warnings: string[]; provenance: string[][] };
  const codes = p.warnings.map((w) => w.split(' ')[0]).sort();
  // Synthetic toy data, one seed, 3 test cases (no pair can reach p < 0.05), runs of 24 steps whose
  // validation Dice still rose, DiceBD's 2 × 24 steps against 24.
  assert.deepEqual(codes, ['single-replicate', 'synthetic-data', 'too-few-cases', 'under-trained', 'unequal-compute'], p.warnings.join('\n'));
  const byLoss = new Map(p.provenance.map((cells) => [cells[1], cells]));
  assert.deepEqual([...byLoss.keys()].sort(), [...MINI_LOSSES].sort());
  const steps = EPOCHS * 6;
  for (const loss of MINI_LOSSES) {
    const cells = byLoss.get(loss) as string[];
    assert.equal(cells[0], TASK);
    // DiceBD counts its Dice pre-training: twice the steps of the others, and twice the budget; the
    // cpu profile plans 200 epochs × 50 iterations per stage, of which the grid trains 24 steps.
    const stages = loss === 'dicebd' ? 2 : 1;
    const n = stages * steps;
    assert.equal(cells[2], `${n} / ${n} (100 %); profile ${stages * 10_000} (0.2 %)`, `${loss}: steps / budget`);
    assert.equal(cells[5], '3e-3', `${loss}: learning rate`);
    assert.equal(cells[7], `1 (seed ${DEFAULT_SEED}; fold ${FOLD})`, `${loss}: replicates`);
  }
});

test('every training cell the kill interrupted ends exactly as an uninterrupted training of it', { timeout: 30 * MINUTE }, async () => {
  const { rerun, killedRuns } = await runSmoke();
  assert.equal(rerun.status, 0);
  assert.ok(killedRuns.includes(firstRun), `interrupted runs: ${killedRuns.join(', ')}`);
  const dir = tempDir('segloss-uninterrupted-');
  // The same command the grid ran for each cell, into another results root, side by side.
  const retrained = killedRuns.map(async (killedRun) => {
    const [task, loss] = path.relative(killedResults, killedRun).split(path.sep);
    const cellLog = readFileSync(path.join(killedResults, '.benchmark', 'logs', `train_${task}_${loss}_3e-3_fold-${FOLD}_seed-${DEFAULT_SEED}.log`), 'utf8');
    // A fine-tuning cell first chooses its base loss's rate; the training is the `train` command.
    const command = cellLog.split('\n').find((l) => l.startsWith('$ segloss ') && l.includes(' train '))?.slice('$ segloss '.length).split(' ') ?? [];
    const args = command.map((a, i) => (command[i - 1] === '--results' ? path.join(dir, 'results') : a));
    return { killedRun, fresh: path.join(dir, 'results', path.relative(killedResults, killedRun)), r: await runSeglossAsync(args, killedWork) };
  });
  for (const { killedRun, fresh, r } of await Promise.all(retrained)) {
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(timeless(readRunLog(fresh)), timeless(readRunLog(killedRun)), killedRun);
    const identity = (runDir: string) => (JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8')) as { identity: unknown }).identity;
    assert.deepEqual(identity(fresh), identity(killedRun));
    const weights = (runDir: string) => readFileSync(path.join(runDir, 'checkpoint', 'best', 'weights.bin'));
    assert.ok(weights(fresh).equals(weights(killedRun)), `best weights differ: ${killedRun}`);
  }
});

test('the grid as Slurm job arrays, then --collect, gives the same results and leaderboard as the local run', { timeout: 30 * MINUTE }, async (t) => {
  assert.equal((await runSmoke()).rerun.status, 0);
  if (spawnSync('which', ['sbatch']).status !== 0) {
    if (process.env['CI'] === 'true') assert.fail('sbatch is missing: CI must install Debian slurm-wlm and munge');
    t.skip('Slurm not installed');
    return;
  }
  const conf = spawnSync('bash', [path.join(REPO_ROOT, 'test', 'slurm', 'start-slurm.sh')], { encoding: 'utf8' });
  assert.equal(conf.status, 0, conf.stderr);
  const env = { ...process.env, SLURM_CONF: conf.stdout.trim() };
  const dir = tempDir('segloss-slurm-');
  const results = path.join(dir, 'results', 'subset');
  const common = ['--config', MINI, '--only', `task=${TASK},loss=dice`, '--results', results];
  const emit = runSegloss(['benchmark', ...common, '--emit', 'slurm'], { cwd: dir, env });
  assert.equal(emit.status, 0, emit.stderr);
  const slurmDir = path.join(results, 'slurm');
  assert.deepEqual(readdirSync(slurmDir).filter((f) => f.endsWith('.cells')).sort(), ['prepare.cells', 'rank.cells', 'test.cells', 'train.cells']);
  const submit = spawnSync('bash', [path.join(slurmDir, 'submit.sh')], { cwd: dir, env, encoding: 'utf8' });
  assert.equal(submit.status, 0, submit.stderr);
  // Wait for the queue to drain; the test's timeout is the hang guard.
  for (;;) {
    const q = spawnSync('squeue', ['-h', '-o', '%i'], { env, encoding: 'utf8' });
    assert.equal(q.status, 0, q.stderr);
    if (q.stdout.trim() === '') break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const collect = runSegloss(['benchmark', ...common, '--collect'], { cwd: dir, env });
  assert.equal(collect.status, 0, collect.stderr);
  assert.equal(testResults(results, TASK, 'dice'), testResults(killedResults, TASK, 'dice'), 'per-case results');
  const local = runSegloss(['rank', '--results', testEvaluationDirectory(killedResults, TASK, 'dice', FOLD, DEFAULT_SEED), '--out', path.join(dir, 'local-ranking'), '--bootstrap', '50'], { cwd: dir });
  assert.equal(local.status, 0, local.stderr);
  assert.deepEqual(leaderboardRows(path.join(results, 'ranking')), leaderboardRows(path.join(dir, 'local-ranking')));
});
