import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, checkReportInBrowserOrSkip, runSegloss, tempDir } from '../helpers.js';

const HAND = path.join(REPO_ROOT, 'test', 'fixtures', 'rank', 'hand-ranking.csv');

const out = tempDir('segloss-rank-');
let cliStatus: number | null = null;
let cliStdout = '';
let cliStderr = '';
function runOnce(): void {
  if (cliStatus !== null) return;
  const r = runSegloss(['--seed', '3', 'rank', '--results', HAND, '--out', out, '--bootstrap', '100']);
  cliStatus = r.status;
  cliStdout = r.stdout;
  cliStderr = r.stderr;
}

test('segloss rank writes every output listed in the issue', () => {
  runOnce();
  assert.equal(cliStatus, 0, cliStderr);
  assert.match(cliStdout, /^1\s+A\s+0\.750/m);
  const files = readdirSync(out).sort();
  const expected = [
    'bootstrap_ranks.svg', 'effects.csv', 'leaderboard.csv', 'leaderboard.json', 'leaderboard.md',
    'pvalues_t1_dsc.csv', 'pvalues_t1_hd95.csv', 'pvalues_t1_nsd.csv', 'pvalues_t2_dsc.csv', 'pvalues_t2_hd95.csv', 'pvalues_t2_nsd.csv',
    'rank_scores.svg', 'report.html', 'significance.csv',
    'significance_t1_dsc.svg', 'significance_t1_hd95.svg', 'significance_t1_nsd.svg', 'significance_t2_dsc.svg', 'significance_t2_hd95.svg', 'significance_t2_nsd.svg',
    'stability.svg', 'table2.md',
    'violin_t1_dsc.svg', 'violin_t1_hd95.svg', 'violin_t1_nsd.svg', 'violin_t2_dsc.svg', 'violin_t2_hd95.svg', 'violin_t2_nsd.svg',
  ];
  assert.deepEqual(files, expected);
  const lb = readFileSync(path.join(out, 'leaderboard.csv'), 'utf8').split('\n');
  assert.equal(lb[0], 'rank,loss,rank_score,score_t1_dsc,score_t1_nsd,score_t2_dsc,score_t2_nsd,mean_dsc_t1,mean_dsc_t2,mean_nsd_t1,mean_nsd_t2');
  assert.match(lb[1] as string, /^1,A,0\.75,2,1,0,0,0\.92/);
  const sig = readFileSync(path.join(out, 'significance.csv'), 'utf8').split('\n');
  assert.equal(sig[0], 'task,metric,loss,score');
  assert.ok(sig.includes('t2,dsc,C,2'));
  const p = readFileSync(path.join(out, 'pvalues_t1_dsc.csv'), 'utf8').split('\n');
  assert.deepEqual(p.slice(0, 2), ['loss,A,B,C', 'A,nan,0.03125,0.03125']);
  const json = JSON.parse(readFileSync(path.join(out, 'leaderboard.json'), 'utf8')) as { leaderboard: { loss: string; rank: number }[]; bootstrap: { resamples: number; seed: number } };
  assert.equal(json.leaderboard[0]?.loss, 'A');
  assert.deepEqual([json.bootstrap.resamples, json.bootstrap.seed], [100, 3]);
  for (const f of files.filter((x) => x.endsWith('.svg'))) assert.match(readFileSync(path.join(out, f), 'utf8'), /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  const html = readFileSync(path.join(out, 'report.html'), 'utf8');
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'report.html must be self-contained');
});

test('segloss rank --json prints the leaderboard; bad input exits 2 naming the row', () => {
  const dir = tempDir('segloss-rank-json-');
  const r = runSegloss(['--json', 'rank', '--results', HAND, '--out', dir, '--bootstrap', '0', '--metrics', 'dsc']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { leaderboard: { loss: string; rank: number }[]; files: string[]; report: string };
  assert.deepEqual(j.leaderboard.map((e) => [e.loss, e.rank]), [['A', 1], ['C', 1], ['B', 3]]);
  assert.ok(existsSync(j.report));
  assert.ok(!j.files.some((f) => f.includes('bootstrap')));
  const bad = runSegloss(['rank', '--results', path.join(REPO_ROOT, 'test', 'fixtures', 'rank', 'README.md'), '--out', dir]);
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /README\.md: line 1: missing column/);
  const badMetric = runSegloss(['rank', '--results', HAND, '--out', dir, '--metrics', 'dsc,iou']);
  assert.equal(badMetric.status, 2);
  assert.match(badMetric.stderr, /unknown metric 'iou'/);
});

test('report.html loads in headless Chromium without console errors and the first leaderboard row names the top loss', async (t) => {
  runOnce();
  assert.equal(cliStatus, 0, cliStderr);
  const probe = `({
    warnings: document.querySelector('#warnings')?.textContent ?? '',
    provenance: document.querySelector('#provenance-unknown')?.textContent ?? '',
    maps: document.querySelectorAll('figure[id^="fig-significance_"] svg').length,
    violinPoints: Array.from(document.querySelectorAll('figure[id^="fig-violin_"] svg title')).filter((x) => /, case c\\d:/.test(x.textContent)).length,
    topRow: Array.from(document.querySelectorAll('#leaderboard tr.top td:nth-child(2)')).map((td) => td.textContent),
  })`;
  const check = await checkReportInBrowserOrSkip(t, path.join(out, 'report.html'), probe);
  if (check === undefined) return;
  assert.deepEqual(check.problems, []);
  assert.equal(check.firstLoss, 'A');
  const p = check.probe as { warnings: string; provenance: string; maps: number; violinPoints: number; topRow: string[] };
  assert.match(p.warnings, /single-replicate one trained network per loss/);
  assert.match(p.provenance, /^Provenance unknown: /);
  assert.equal(p.maps, 2 * 3, 'a significance map per task × metric');
  assert.equal(p.violinPoints, 2 * 3 * 3 * 6, 'every case of every loss on every violin');
  assert.deepEqual(p.topRow, ['A']);
  // Rank scores, stability, bootstrap, then per task × metric a violin and a significance map.
  assert.equal(check.figures, 3 + 2 * 3 * 2);
  // Every inline SVG has page-unique ids (clip paths would otherwise point into other figures).
  assert.equal(new Set(check.svgIds).size, check.svgIds.length);
  // Readable on a laptop: the page itself does not scroll sideways (wide tables scroll in their boxes).
  assert.ok(check.overflowPx <= 0, `page is ${check.overflowPx}px wider than the window`);
});

test('segloss rank ranks what segloss synth + evaluate wrote for a toy multi-label task (directories searched recursively)', () => {
  const dir = tempDir('segloss-rank-toy-');
  const run = (args: string[]) => {
    const r = runSegloss(['--quiet', ...args], { cwd: dir });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  };
  run(['--seed', '7', 'synth', '--task', 'toy-multiorgan', '--cases', '6', '--out', 'gt']);
  run(['--seed', '8', 'synth', '--task', 'toy-multiorgan', '--cases', '6', '--out', 'other']);
  mkdirSync(path.join(dir, 'nothing'));
  const evaluate = (pred: string, loss: string) =>
    run(['evaluate', '--pred', pred, '--gt', 'gt/labelsTr', '--out', `runs/${loss}/eval`, '--task', 'toy-multiorgan', '--loss', loss, '--workers', '1', '--score-missing']);
  evaluate('gt/labelsTr', 'perfect');
  evaluate('other/labelsTr', 'other');
  evaluate('nothing', 'empty');
  run(['rank', '--results', 'runs', '--out', 'ranking', '--bootstrap', '50']);
  const j = JSON.parse(readFileSync(path.join(dir, 'ranking', 'leaderboard.json'), 'utf8')) as {
    multiLabel: boolean;
    leaderboard: { rank: number; loss: string; scores: Record<string, number> }[];
    naCounts: { metric: string; counts: Record<string, number> }[];
  };
  assert.equal(j.multiLabel, true);
  assert.deepEqual(j.leaderboard.map((e) => [e.rank, e.loss]), [[1, 'perfect'], [2, 'other'], [3, 'empty']]);
  assert.deepEqual(j.leaderboard[0]?.scores, { 'toy-multiorgan/dsc': 2, 'toy-multiorgan/nsd': 2 });
  // Every label of every case of the empty predictions has an infinite HD95.
  const hd = j.naCounts.find((n) => n.metric === 'hd95');
  assert.ok((hd?.counts['empty'] ?? 0) >= 6 && hd?.counts['perfect'] === 0);
  // The per-label view: the perfect predictions score DSC 1 on every label (best, in bold), the empty ones 0.
  const html = readFileSync(path.join(dir, 'ranking', 'report.html'), 'utf8');
  const perLabel = /<table class="plain per-label" id="per-label-toy-multiorgan">(.*?)<\/table>/s.exec(html)?.[1] ?? '';
  const labelCount = (perLabel.match(/DSC<br>label /g) ?? []).length;
  assert.ok(labelCount >= 2, `${labelCount} labels`);
  assert.match(perLabel, new RegExp(`<tr><td>perfect</td>${'<td><b>1</b></td>'.repeat(labelCount)}`));
  assert.match(perLabel, new RegExp(`<tr><td>empty</td>${'<td>0</td>'.repeat(labelCount)}`));
});
