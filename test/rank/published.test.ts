import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, runSegloss, tempDir } from '../helpers.js';
import { rankResults } from '../../src/rank/ranking.js';
import { chooseTable, comparePublished, readPublishedTable, PUBLISHED_LOSS_IDS } from '../../src/rank/published.js';
import { publishedCsv } from '../../src/rank/outputs.js';
import type { ResultRow } from '../../src/rank/types.js';

const close = (got: number | undefined, want: number, what: string) => assert.ok(Math.abs((got as number) - want) < 1e-12, `${what}: ${got} != ${want}`);

test('published means equal the shipped tables cell for cell, every name mapped to a segloss loss id', () => {
  for (const [name, file, cells] of [['table2', 'table2-means-20losses.csv', 160], ['nnunetv2', 'nnunetv2-means-6losses.csv', 36]] as const) {
    const t = readPublishedTable(name);
    assert.equal(t.means.length, cells, name);
    const lines = readFileSync(path.join(REPO_ROOT, 'configs', 'published', file), 'utf8').trim().split(/\r?\n/);
    const header = (lines[0] as string).split(',');
    for (const line of lines.slice(1)) {
      const cellsOfLine = line.split(',');
      header.slice(1).forEach((col, i) => {
        const [task, metric] = [col.slice(0, col.lastIndexOf('-')), col.slice(col.lastIndexOf('-') + 1).toLowerCase()];
        const m = t.means.find((x) => x.publishedName === cellsOfLine[0] && x.publishedTask === task && x.metric === metric);
        assert.equal(m?.mean, Number(cellsOfLine[i + 1]), `${name} ${cellsOfLine[0]} ${col}`);
        assert.equal(m?.loss, PUBLISHED_LOSS_IDS[cellsOfLine[0] as string]);
      });
    }
  }
  const t2 = readPublishedTable('table2');
  assert.equal(t2.means.find((m) => m.loss === 'pce' && m.task === 'liver' && m.metric === 'dsc')?.mean, 0.9655);
  assert.equal(t2.means.find((m) => m.loss === 'topk' && m.task === 'multiorgan' && m.metric === 'nsd')?.mean, 0.7323);
  assert.equal(readPublishedTable('nnunetv2').means.find((m) => m.loss === 'dicetopk' && m.task === 'livertumor' && m.metric === 'dsc')?.mean, 0.6691);
});

/**
 * Task livertumor, three cases, DSC:
 *   dice   0.5 0.6 0.7 → mean 0.6  (published Dice 0.6187)
 *   topk10 0.7 0.8 0.9 → mean 0.8  (published TopK 0.5995; `topk10` is an alias of `topk`)
 *   pce    0.1 0.2 0.3 → mean 0.2  (published pCE 0.5876)
 *   mine   0.4 0.4 0.4 → not in the table
 * Published order dice > topk > pce, reproduced topk > dice > pce: of 3 pairs, (dice, topk) is
 * discordant, the other two concordant → τ = (2 − 1) / 3.
 */
function smallRows(): ResultRow[] {
  const values: Record<string, number[]> = { dice: [0.5, 0.6, 0.7], topk10: [0.7, 0.8, 0.9], pce: [0.1, 0.2, 0.3], mine: [0.4, 0.4, 0.4] };
  const rows: ResultRow[] = [];
  for (const [loss, v] of Object.entries(values)) v.forEach((value, i) => rows.push({ task: 'livertumor', loss, case: `c${i}`, metric: 'dsc', value }));
  return rows;
}

test('published.csv: reproduced means, differences and Kendall τ hand-checked on a small CSV', () => {
  const ranking = rankResults(smallRows(), { metrics: ['dsc'], alpha: 0.05, bootstrap: 0, seed: 1 });
  const table = chooseTable(ranking, 'auto');
  assert.equal(table?.info.name, 'table2');
  const c = comparePublished(ranking, table as NonNullable<typeof table>, 200, 4);
  assert.deepEqual(c.rows.map((r) => [r.loss, r.publishedMean]), [['dice', 0.6187], ['pce', 0.5876], ['topk10', 0.5995]]);
  const byLoss = (l: string) => c.rows.find((r) => r.loss === l);
  close(byLoss('dice')?.mean, 0.6, 'dice mean');
  close(byLoss('topk10')?.mean, 0.8, 'topk mean');
  close(byLoss('pce')?.mean, 0.2, 'pce mean');
  close(byLoss('dice')?.difference, 0.6 - 0.6187, 'dice difference');
  close(byLoss('pce')?.difference, 0.2 - 0.5876, 'pce difference');
  for (const r of c.rows) assert.ok(r.ciLow <= r.mean + 1e-12 && r.mean <= r.ciHigh + 1e-12, `${r.loss} [${r.ciLow}, ${r.ciHigh}]`);
  // A mean of three cases resampled lies between the smallest and largest case.
  assert.ok((byLoss('dice')?.ciLow as number) >= 0.5 - 1e-12 && (byLoss('dice')?.ciHigh as number) <= 0.7 + 1e-12);
  assert.equal(c.tau.length, 1);
  assert.equal(c.tau[0]?.n, 3);
  close(c.tau[0]?.tau, 1 / 3, 'tau');
  assert.match(byLoss('pce')?.caveat ?? '', /returns plain CE/);
  assert.match(byLoss('dice')?.caveat ?? '', /empty tumour reference/);
  assert.match(publishedCsv({ ...ranking, published: c }), /^task,metric,loss,published_mean,mean,ci_low,ci_high,difference\nlivertumor,dsc,dice,0\.6187,0\.6\d*,/);
  // nnunetv2 has Dice and TopK10 on LiverTumor: two losses, concordant? published dice 0.62 < topk 0.6512, reproduced 0.6 < 0.8 → τ = 1.
  const v2 = comparePublished(ranking, readPublishedTable('nnunetv2'), 0, 4);
  assert.deepEqual(v2.rows.map((r) => r.loss), ['dice', 'topk10']);
  assert.equal(v2.tau[0]?.tau, 1);
  assert.ok(Number.isNaN(v2.rows[0]?.ciLow));
  assert.match(v2.rows[0]?.caveat ?? '', /nnU-Net V2/);
});

test('segloss rank --published writes published.csv; a table without the tasks exits 2', () => {
  const dir = tempDir('segloss-rank-pub-');
  const csv = path.join(dir, 'results.csv');
  writeFileSync(csv, ['task,loss,case,metric,value', ...smallRows().map((r) => `${r.task},${r.loss},${r.case},${r.metric},${r.value}`)].join('\n') + '\n');
  const out = path.join(dir, 'out');
  const r = runSegloss(['rank', '--results', csv, '--out', out, '--bootstrap', '50', '--metrics', 'dsc', '--published']);
  assert.equal(r.status, 0, r.stderr);
  const lines = readFileSync(path.join(out, 'published.csv'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[3] as string, /^livertumor,dsc,topk10,0\.5995,0\.(8|7999)\d*,/);
  const json = JSON.parse(readFileSync(path.join(out, 'leaderboard.json'), 'utf8')) as { published: { table: string; tau: { tau: number }[] } };
  assert.equal(json.published.table, 'table2');
  assert.match(readFileSync(path.join(out, 'leaderboard.md'), 'utf8'), /## Published comparison \(table2/);
  const toy = path.join(dir, 'toy.csv');
  writeFileSync(toy, 'task,loss,case,metric,value\nliver,dice,c1,dsc,0.5\nliver,ce,c1,dsc,0.4\n');
  const bad = runSegloss(['rank', '--results', toy, '--out', out, '--bootstrap', '0', '--metrics', 'dsc', '--published', 'nnunetv2']);
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /--published nnunetv2: no task × metric × loss of the results is in the published table/);
  const synthetic = path.join(dir, 'synthetic.csv');
  writeFileSync(synthetic, 'task,loss,case,metric,value\ntoy-liver,dice,c1,dsc,0.5\ntoy-liver,ce,c1,dsc,0.4\n');
  const auto = runSegloss(['rank', '--results', synthetic, '--out', path.join(dir, 'auto'), '--bootstrap', '0', '--metrics', 'dsc', '--published']);
  assert.equal(auto.status, 0, auto.stderr);
  assert.match(auto.stderr, /warning: --published auto: no task and loss of the results is in a published table/);
  assert.ok(!existsSync(path.join(dir, 'auto', 'published.csv')));
  const wrong = runSegloss(['rank', '--results', toy, '--out', out, '--published', 'table9']);
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /--published: expected table2, nnunetv2 or auto, got 'table9'/);
});
