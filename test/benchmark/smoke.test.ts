/**
 * The main job end to end (issue 9): `segloss benchmark` with the embedded smoke config on a fresh
 * working directory, as a user would run it. The claims that rest on it:
 * - every configured loss is ranked, dicece learns toy-liver, the report opens in a browser;
 * - the grid submitted as Slurm job arrays, then `--collect`, gives the same results and
 *   leaderboard as the local run (a one-loss subset, to keep the suite short).
 * Kill-and-resume of a training run is tested in test/train/run.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { CHROMIUM, REPO_ROOT, checkReportInBrowser, runSegloss, tempDir } from '../helpers.js';

const SMOKE_LOSSES = ['ce', 'dice', 'dicece', 'dicetopk', 'dicebd', 'lovasz'];
const work = tempDir('segloss-smoke-');
const smokeResults = path.join(work, 'results', 'smoke');
function leaderboardRows(rankingDir: string): string[][] {
  return readFileSync(path.join(rankingDir, 'leaderboard.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
}

function testResults(resultsRoot: string, task: string, loss: string): string {
  return readFileSync(path.join(resultsRoot, task, loss, 'test', 'fold-0', 'evaluation', 'results.csv'), 'utf8');
}

let smoke: { status: number | null; stdout: string; stderr: string } | undefined;
function runSmoke() {
  smoke ??= runSegloss(['benchmark'], { cwd: work, timeoutMs: 14 * 60_000 });
  return smoke;
}

test('segloss benchmark (smoke) ranks every configured loss and writes the report', { timeout: 15 * 60_000 }, async (t) => {
  const r = runSmoke();
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

test('the grid as Slurm job arrays, then --collect, gives the same results and leaderboard as the local run', { timeout: 10 * 60_000 }, async (t) => {
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
