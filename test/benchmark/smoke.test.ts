/**
 * The main job end to end (issue 9): `segloss benchmark` with the embedded smoke config on a fresh
 * working directory, killed mid-grid (SIGKILL of the whole process group, as an OOM killer or a
 * lost ssh session would) and re-run, as a user would. The claims that rest on it:
 * - every configured loss is ranked, dicece learns toy-liver, the report opens in a browser, and
 *   every cell ends done (none is left 'failed' or 'running' by the kill);
 * - every training cell the kill interrupted gives the same training log and the same best weights
 *   as the same cell trained without interruption. Every other cell ran uninterrupted and the smoke
 *   run is deterministic, so the leaderboard is the one an uninterrupted run writes;
 * - the grid submitted as Slurm job arrays, then `--collect`, gives the same results and
 *   leaderboard as the local run (a one-loss subset, to keep the suite short).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { BIN, CHROMIUM, REPO_ROOT, checkReportInBrowser, runSegloss, tempDir, timeless } from '../helpers.js';
import { readRunLog } from '../../src/train/trainer.js';

const SMOKE_LOSSES = ['ce', 'dice', 'dicece', 'dicetopk', 'dicebd', 'lovasz'];
const work = tempDir('segloss-smoke-');
const smokeResults = path.join(work, 'results', 'smoke');
/** The first training cell of the grid: the kill waits for it to be half-way. */
const firstRun = path.join(smokeResults, 'toy-liver', 'ce', 'lr-3e-3', 'fold-0');

function leaderboardRows(rankingDir: string): string[][] {
  return readFileSync(path.join(rankingDir, 'leaderboard.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
}

function testResults(resultsRoot: string, task: string, loss: string): string {
  return readFileSync(path.join(resultsRoot, task, loss, 'test', 'fold-0', 'evaluation', 'results.csv'), 'utf8');
}

/** Training run directories whose status.json says 'running' (at a kill: the runs it interrupted). */
function runningRuns(): string[] {
  const runs: string[] = [];
  for (const task of existsSync(smokeResults) ? readdirSync(smokeResults) : []) {
    for (const loss of existsSync(path.join(smokeResults, task)) ? readdirSync(path.join(smokeResults, task)) : []) {
      const runDir = path.join(smokeResults, task, loss, 'lr-3e-3', 'fold-0');
      const status = path.join(runDir, 'status.json');
      if (existsSync(status) && (JSON.parse(readFileSync(status, 'utf8')) as { state: string }).state === 'running') runs.push(runDir);
    }
  }
  return runs;
}

/** `segloss <args>` as a promise, so that several can run side by side. */
function runSeglossAsync(args: string[], cwd: string): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1', SEGLOSS_WASM_THREADS: '1' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

let smoke: Promise<{ status: number | null; stdout: string; stderr: string; killedAtEpoch: number; killedRuns: string[] }> | undefined;
/** Start the smoke benchmark, SIGKILL its process group once the first training run is past epoch 3, then re-run it. */
function runSmoke() {
  smoke ??= (async () => {
    const child = spawn(process.execPath, [BIN, 'benchmark'], { cwd: work, stdio: 'ignore', detached: true, env: { ...process.env, NO_COLOR: '1' } });
    const exited = new Promise((r) => child.on('exit', r));
    const log = path.join(firstRun, 'log.jsonl');
    const epochs = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter((l) => l !== '').length : 0);
    const started = Date.now();
    while (epochs() < 3 && Date.now() - started < 300_000) await new Promise((r) => setTimeout(r, 200));
    const killedAtEpoch = epochs();
    process.kill(-(child.pid as number), 'SIGKILL');
    await exited;
    const killedRuns = runningRuns();
    const r = runSegloss(['benchmark'], { cwd: work, timeoutMs: 14 * 60_000 });
    return { ...r, killedAtEpoch, killedRuns };
  })();
  return smoke;
}

test('segloss benchmark (smoke), killed mid-grid and re-run, ranks every configured loss and writes the report', { timeout: 15 * 60_000 }, async (t) => {
  const r = await runSmoke();
  assert.ok(r.killedAtEpoch >= 3 && r.killedAtEpoch < 8, `killed after ${r.killedAtEpoch} epochs of the first run`);
  assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr.slice(-3000)}`);
  const ranking = path.join(smokeResults, 'ranking');
  const report = path.join(ranking, 'report.html');
  assert.ok(r.stdout.includes(`report: ${report}`), r.stdout.slice(-500));
  const rows = leaderboardRows(ranking);
  assert.deepEqual(rows[0]?.slice(0, 3), ['rank', 'loss', 'rank_score']);
  assert.deepEqual(rows.slice(1).map((row) => row[1]).sort(), [...SMOKE_LOSSES].sort());
  // dicece learns toy-liver: mean test DSC above 0.5.
  const summary = JSON.parse(readFileSync(path.join(smokeResults, 'toy-liver', 'dicece', 'test', 'fold-0', 'evaluation', 'summary.json'), 'utf8')) as {
    foreground_mean: { dsc: number };
  };
  assert.ok(summary.foreground_mean.dsc > 0.5, `toy-liver dicece test DSC ${summary.foreground_mean.dsc}`);
  // Every cell is done, as `segloss status` reports it.
  const status = runSegloss(['--json', 'status'], { cwd: work });
  assert.equal(status.status, 0, status.stderr);
  const report_ = JSON.parse(status.stdout) as { counts: Record<string, number>; cells: { id: string; state: string; reason?: string }[] };
  assert.deepEqual(report_.cells.filter((c) => c.state !== 'done'), []);
  const check = await checkReportInBrowser(report);
  if (check === undefined) {
    if (process.env['CI'] === 'true') assert.fail(`${CHROMIUM} is missing: CI must install Debian's chromium`);
    t.skip(`${CHROMIUM} not installed`);
    return;
  }
  assert.deepEqual(check.problems, []);
  assert.equal(check.firstLoss, rows[1]?.[1]);
});

test('every training cell the kill interrupted ends exactly as an uninterrupted training of it', { timeout: 15 * 60_000 }, async () => {
  const { status, killedRuns } = await runSmoke();
  assert.equal(status, 0);
  assert.ok(killedRuns.includes(firstRun), `interrupted runs: ${killedRuns.join(', ')}`);
  const dir = tempDir('segloss-uninterrupted-');
  // The same command the grid ran for each cell, into another results root, side by side.
  const retrained = killedRuns.map(async (killedRun) => {
    const [task, loss] = path.relative(smokeResults, killedRun).split(path.sep);
    const cellLog = readFileSync(path.join(smokeResults, '.benchmark', 'logs', `train_${task}_${loss}_3e-3.log`), 'utf8');
    const command = cellLog.split('\n').find((l) => l.startsWith('$ segloss '))?.slice('$ segloss '.length).split(' ') ?? [];
    const args = command.map((a, i) => (command[i - 1] === '--results' ? path.join(dir, 'results') : a));
    return { killedRun, fresh: path.join(dir, 'results', path.relative(smokeResults, killedRun)), r: await runSeglossAsync(args, work) };
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

test('the grid as Slurm job arrays, then --collect, gives the same results and leaderboard as the local run', { timeout: 10 * 60_000 }, async (t) => {
  assert.equal((await runSmoke()).status, 0);
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
  const common = ['--only', 'task=toy-liver,loss=dice', '--results', results];
  const emit = runSegloss(['benchmark', ...common, '--emit', 'slurm'], { cwd: dir, env });
  assert.equal(emit.status, 0, emit.stderr);
  const slurmDir = path.join(results, 'slurm');
  assert.deepEqual(readdirSync(slurmDir).filter((f) => f.endsWith('.cells')).sort(), ['prepare.cells', 'rank.cells', 'test.cells', 'train.cells']);
  const submit = spawnSync('bash', [path.join(slurmDir, 'submit.sh')], { cwd: dir, env, encoding: 'utf8' });
  assert.equal(submit.status, 0, submit.stderr);
  const started = Date.now();
  for (;;) {
    const q = spawnSync('squeue', ['-h', '-o', '%i'], { env, encoding: 'utf8' });
    assert.equal(q.status, 0, q.stderr);
    if (q.stdout.trim() === '') break;
    assert.ok(Date.now() - started < 8 * 60_000, `Slurm jobs still queued: ${q.stdout}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const collect = runSegloss(['benchmark', ...common, '--collect'], { cwd: dir, env });
  assert.equal(collect.status, 0, collect.stderr);
  assert.equal(testResults(results, 'toy-liver', 'dice'), testResults(smokeResults, 'toy-liver', 'dice'), 'per-case results');
  const local = runSegloss(['rank', '--results', path.join(smokeResults, 'toy-liver', 'dice', 'test', 'fold-0', 'evaluation'), '--out', path.join(dir, 'local-ranking'), '--bootstrap', '200'], { cwd: dir });
  assert.equal(local.status, 0, local.stderr);
  assert.deepEqual(leaderboardRows(path.join(results, 'ranking')), leaderboardRows(path.join(dir, 'local-ranking')));
});
