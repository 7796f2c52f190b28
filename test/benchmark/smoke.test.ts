/**
 * The main job end to end (issue 9): `segloss benchmark` with the embedded smoke config on a fresh
 * working directory, then the two claims that rest on it:
 * - killing the benchmark mid-grid and re-running it gives the same results as an uninterrupted run;
 * - the grid submitted as Slurm job arrays, then `--collect`, gives the same leaderboard.
 * Both use a subset of the grid (toy-liver × {dice, dicebd}: a plain loss and a fine-tuned one);
 * the smoke run is deterministic, so its results for those cells are the uninterrupted reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { BIN, CHROMIUM, REPO_ROOT, checkReportInBrowser, runSegloss, tempDir } from '../helpers.js';

const SMOKE_LOSSES = ['ce', 'dice', 'dicece', 'dicetopk', 'dicebd', 'lovasz'];
const SUBSET = 'task=toy-liver,loss=dice,loss=dicebd';
const work = tempDir('segloss-smoke-');
const smokeResults = path.join(work, 'results', 'smoke');

function leaderboardRows(rankingDir: string): string[][] {
  return readFileSync(path.join(rankingDir, 'leaderboard.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
}

function testResults(resultsRoot: string, loss: string): string {
  return readFileSync(path.join(resultsRoot, 'toy-liver', loss, 'test', 'fold-0', 'evaluation', 'results.csv'), 'utf8');
}

let smoke: { status: number | null; stdout: string; stderr: string } | undefined;
function runSmoke() {
  smoke ??= runSegloss(['benchmark'], { cwd: work, timeoutMs: 14 * 60_000 });
  return smoke;
}

test('segloss benchmark (smoke) ranks every configured loss and writes the report', { timeout: 15 * 60_000 }, async (t) => {
  const r = runSmoke();
  assert.equal(r.status, 0, r.stderr.slice(-3000));
  const ranking = path.join(smokeResults, 'ranking');
  const report = path.join(ranking, 'report.html');
  assert.match(r.stdout, new RegExp(`report: ${report.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
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
  const counts = (JSON.parse(status.stdout) as { counts: Record<string, number> }).counts;
  assert.deepEqual({ ...counts, done: 0 }, { done: 0, running: 0, failed: 0, pending: 0 });
  const check = await checkReportInBrowser(report);
  if (check === undefined) {
    if (process.env['CI'] === 'true') assert.fail(`${CHROMIUM} is missing: CI must install Debian's chromium`);
    t.skip(`${CHROMIUM} not installed`);
    return;
  }
  assert.deepEqual(check.problems, []);
  assert.equal(check.firstLoss, rows[1]?.[1]);
});

test('a benchmark killed mid-grid and re-run gives the same results as an uninterrupted run', { timeout: 10 * 60_000 }, async () => {
  assert.equal(runSmoke().status, 0);
  const dir = tempDir('segloss-kill-');
  const args = [BIN, 'benchmark', '--only', SUBSET, '--results', 'results/subset'];
  // Start, wait until the first training run has written a checkpoint, then kill the whole group.
  const child = spawn(process.execPath, args, { cwd: dir, stdio: 'ignore', detached: true });
  const checkpoint = path.join(dir, 'results', 'subset', 'toy-liver', 'dice', 'lr-3e-3', 'fold-0', 'checkpoint', 'latest');
  const started = Date.now();
  while (!existsSync(checkpoint) && Date.now() - started < 240_000) await new Promise((r) => setTimeout(r, 250));
  assert.ok(existsSync(checkpoint), 'no checkpoint written within 4 minutes');
  process.kill(-(child.pid as number), 'SIGKILL');
  await new Promise((r) => child.on('exit', r));
  const resumed = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
  assert.equal(resumed.status, 0, resumed.stderr);
  const results = path.join(dir, 'results', 'subset');
  for (const loss of ['dice', 'dicebd']) assert.equal(testResults(results, loss), testResults(smokeResults, loss), `${loss} per-case results`);
});

test('the grid as Slurm job arrays, then --collect, gives the same leaderboard as a local run', { timeout: 10 * 60_000 }, async (t) => {
  assert.equal(runSmoke().status, 0);
  if (spawnSync('which', ['sbatch']).status !== 0) {
    if (process.env['CI'] === 'true') assert.fail('sbatch is missing: CI must install Debian slurm-wlm and munge');
    t.skip('Slurm not installed');
    return;
  }
  const conf = spawnSync('bash', [path.join(REPO_ROOT, 'test', 'slurm', 'start-slurm.sh')], { encoding: 'utf8' });
  assert.equal(conf.status, 0, conf.stderr);
  const env = { ...process.env, SLURM_CONF: conf.stdout.trim() };
  const dir = tempDir('segloss-slurm-');
  const common = ['--only', SUBSET, '--results', path.join(dir, 'results', 'subset')];
  const emit = runSegloss(['benchmark', ...common, '--emit', 'slurm'], { cwd: dir, env });
  assert.equal(emit.status, 0, emit.stderr);
  const slurmDir = path.join(dir, 'results', 'subset', 'slurm');
  assert.deepEqual(readdirSync(slurmDir).filter((f) => f.endsWith('.cells')).sort(), ['finetune.cells', 'prepare.cells', 'rank.cells', 'test.cells', 'train.cells']);
  const submit = spawnSync('bash', [path.join(slurmDir, 'submit.sh')], { cwd: dir, env, encoding: 'utf8' });
  assert.equal(submit.status, 0, submit.stderr);
  const lastJob = readFileSync(path.join(slurmDir, 'last-job-id'), 'utf8').trim();
  const started = Date.now();
  for (;;) {
    const q = spawnSync('squeue', ['-h', '-o', '%i'], { env, encoding: 'utf8' });
    if (q.stdout.trim() === '') break;
    assert.ok(Date.now() - started < 8 * 60_000, `Slurm jobs still queued: ${q.stdout}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  assert.ok(lastJob.length > 0);
  const collect = runSegloss(['benchmark', ...common, '--collect'], { cwd: dir, env });
  assert.equal(collect.status, 0, collect.stderr);
  const local = runSegloss(['rank', '--results', ...['dice', 'dicebd'].map((l) => path.join(smokeResults, 'toy-liver', l, 'test', 'fold-0', 'evaluation')), '--out', path.join(dir, 'local-ranking'), '--bootstrap', '200'], { cwd: dir });
  assert.equal(local.status, 0, local.stderr);
  assert.deepEqual(leaderboardRows(path.join(dir, 'results', 'subset', 'ranking')), leaderboardRows(path.join(dir, 'local-ranking')));
  for (const loss of ['dice', 'dicebd']) assert.equal(testResults(path.join(dir, 'results', 'subset'), loss), testResults(smokeResults, loss), `${loss} per-case results`);
});
