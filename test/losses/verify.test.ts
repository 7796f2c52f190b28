import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runSegloss, SHARED, tempDir } from '../helpers.js';
import { selectBackend } from '../../src/engine/backend.js';
import { verifyReferenceFile, REFERENCE_MAP } from '../../src/losses/verify.js';
import { LOSS_IDS } from '../../src/losses/registry.js';

const FIXTURES = path.join(SHARED, 'fixtures', 'losses', 'segloss-reference.json');

test('every reference case with a segloss counterpart passes on wasm (value and gradient)', async () => {
  await selectBackend('wasm');
  const report = verifyReferenceFile(FIXTURES);
  const failed = report.cases.filter((c) => c.status === 'failed');
  assert.deepEqual(failed.map((c) => `${c.id}: ${c.reason}`), []);
  assert.equal(report.passed, 143);
  assert.equal(report.skipped, 31);
  // Skipped are only the losses_pytorch copies (29 cases) and the NaN reference (1 + 1).
  for (const c of report.cases.filter((r) => r.status === 'skipped')) {
    assert.ok(c.referenceLoss.startsWith('lp_') || c.id === 'pce_weighted_intended/bin_emptyfg', c.id);
  }
  // Every reference id maps to a real loss, and every study loss is exercised by some case.
  for (const m of Object.values(REFERENCE_MAP)) assert.ok(LOSS_IDS.includes(m.lossId), m.lossId);
  const verified = new Set(report.cases.filter((c) => c.status === 'passed').map((c) => c.lossId));
  for (const id of ['ce', 'wce', 'topk', 'topkt07', 'topkt09', 'focal', 'pce', 'ss', 'dice', 'dicesq', 'dicesample', 'dicesamplesq', 'iou', 'lovasz', 'tversky', 'gdice', 'focaltversky', 'asym', 'pgdice', 'bd', 'hd', 'dicece', 'ell', 'dicefocal', 'dicetopk', 'dicebd', 'dicehd']) {
    assert.ok(verified.has(id), `${id} verified`);
  }
  const worst = Math.max(...report.losses.map((s) => s.worstRelError).filter((e) => Number.isFinite(e)));
  assert.ok(worst < 1e-4, `worst relative error ${worst}`);
});

test('segloss losses verify prints one line per loss, ends with the count line and exits 0', () => {
  const r = runSegloss(['losses', 'verify', '--fixtures', FIXTURES]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.at(-1), '143 passed, 0 failed, 31 skipped');
  assert.ok(lines.some((l) => /^dice_hd\s+dicehd\s+4\s+0\s+0/.test(l)), r.stdout);
  assert.ok(lines.some((l) => /^lp_gdice\s.*stand-alone losses_pytorch copy/.test(l)), r.stdout);
  assert.ok(lines.some((l) => /^pce_weighted_intended\s+pce\s+3\s+0\s+1\s.*reference value is NaN/.test(l)), r.stdout);
});

test('a tampered reference case fails: exit 1 and the count line says so', () => {
  const data = JSON.parse(readFileSync(FIXTURES, 'utf8')) as { cases: { id: string; loss_value: number; loss_value_repr: string; grad: number[] }[] };
  const keep = data.cases.filter((c) => c.id === 'dice/bin' || c.id === 'ce/bin' || c.id === 'lp_ss/bin');
  const dice = keep.find((c) => c.id === 'dice/bin')!;
  dice.loss_value = dice.loss_value * 1.001;
  dice.loss_value_repr = String(dice.loss_value);
  const ce = keep.find((c) => c.id === 'ce/bin')!;
  ce.grad[5] = ce.grad[5]! * 1.01;
  const file = path.join(tempDir(), 'tampered.json');
  writeFileSync(file, JSON.stringify({ cases: keep }));
  const r = runSegloss(['losses', 'verify', '--fixtures', file]);
  assert.equal(r.status, 1);
  assert.equal(r.stdout.trimEnd().split('\n').at(-1), '0 passed, 2 failed, 1 skipped');
  assert.match(r.stdout, /gradient differs/);
});

test('a missing or malformed fixtures file is an input error (exit 2)', () => {
  const file = path.join(tempDir(), 'bad.json');
  writeFileSync(file, '{"nothing": 1}');
  const r = runSegloss(['losses', 'verify', '--fixtures', file]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad\.json: expected an object with a 'cases' array/);
  assert.equal(runSegloss(['losses', 'verify', '--fixtures', file + '.missing']).status, 2);
});

test('segloss losses --json lists the 34 losses with options and defaults; unknown ids are usage errors', () => {
  const r = runSegloss(['--json', 'losses']);
  assert.equal(r.status, 0, r.stderr);
  const defs = JSON.parse(r.stdout) as { id: string; family: string; paperEquation: string; options: { name: string; default: unknown }[] }[];
  assert.equal(defs.length, 34);
  const topk = defs.find((d) => d.id === 'topk')!;
  assert.equal(topk.paperEquation, 'Eq. 4');
  assert.deepEqual(topk.options.map((o) => [o.name, o.default]), [['k', 10]]);
  assert.equal(defs.filter((d) => d.family === 'compound').length, 6);
  const table = runSegloss(['losses']);
  assert.equal(table.status, 0);
  assert.match(table.stdout, /^dicetopk\s+compound\s+Eq\. 25/m);
  const bad = runSegloss(['losses', 'dicetop']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown loss 'dicetop' \(valid: ce, wce, topk/);
});
