/**
 * A real run end to end: train toy-liver for 1 epoch of 2 iterations, predict its test split
 * (run.json), evaluate it (seed/fold columns, provenance.json built from the run's own files), and
 * export it (every Generic_UNet tensor present).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runSegloss, tempDir } from '../helpers.js';
import { trainRun } from '../../src/train/trainer.js';
import { shutdownWorkerPool } from '../../src/train/producer.js';
import { readRunStatus } from '../../src/util/run-status.js';
import { readProvenanceFile } from '../../src/util/provenance.js';
import { readPredictionRunInfo } from '../../src/eval/run-info.js';
import { predictCases } from '../../src/eval/predict.js';
import { decodeSafetensors } from '../../src/export/safetensors.js';
import { genericUnetParameters } from '../../src/export/generic-unet.js';
import type { NetworkTopology } from '../../src/model/topology.js';

after(() => shutdownWorkerPool());

test('train 1 epoch × 2 iterations, predict, evaluate, export: run.json, seed/fold columns, provenance.json, Generic_UNet tensors', async () => {
  const root = tempDir('segloss-run-provenance-');
  const SEED = 4242;
  const out = await trainRun({
    task: 'toy-liver', loss: 'dicece', learningRate: 3e-3, epochs: 1, iterations: 2, valBatches: 1, seed: SEED, fold: 0, profile: 'cpu', workers: 0,
    synth: path.join(root, 'synth'), preprocessed: path.join(root, 'pre'), results: path.join(root, 'results'),
  });
  assert.equal(out.status, 'done');
  const config = JSON.parse(readFileSync(path.join(out.runDir, 'config.json'), 'utf8')) as { preprocessedDir: string; identity: { topology: NetworkTopology } };

  const predDir = path.join(root, 'pred');
  const report = await predictCases({ runDir: out.runDir, split: 'test', outDir: predDir, checkpoint: 'best' });
  assert.equal(report.failed, 0);
  assert.deepEqual(readPredictionRunInfo(predDir), {
    version: 1, runDir: path.resolve(out.runDir), task: 'toy-liver', loss: 'dicece', seed: SEED, fold: 0, learningRate: 3e-3, checkpoint: { kind: 'best', epoch: 0 },
  });

  const evalDir = path.join(root, 'eval');
  const e = runSegloss(['evaluate', '--pred', predDir, '--split', 'test', '--preprocessed', config.preprocessedDir, '--out', evalDir, '--workers', '1']);
  assert.equal(e.status, 0, e.stderr);
  const lines = readFileSync(path.join(evalDir, 'results.csv'), 'utf8').trim().split('\n');
  assert.equal(lines[0], 'task,loss,case,metric,value,seed,fold');
  assert.ok(lines.slice(1).every((l) => l.startsWith('toy-liver,dicece,') && l.endsWith(`,${SEED},0`)));
  assert.equal(lines.length - 1, 3 * report.cases.length);

  const status = readRunStatus(out.runDir);
  const log = readFileSync(path.join(out.runDir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; valDice: number | null });
  const entries = readProvenanceFile(evalDir);
  assert.equal(entries?.length, 1);
  const p = entries?.[0];
  assert.deepEqual(
    { task: p?.task, loss: p?.loss, seed: p?.seed, fold: p?.fold, learningRate: p?.learningRate, steps: p?.steps, budgetSteps: p?.budgetSteps, epochs: p?.epochs, stopReason: p?.stopReason, checkpoint: p?.checkpoint },
    { task: 'toy-liver', loss: 'dicece', seed: SEED, fold: 0, learningRate: 3e-3, steps: 2, budgetSteps: 2, epochs: 1, stopReason: 'budget', checkpoint: { kind: 'best', epoch: 0 } },
  );
  assert.deepEqual(p?.lrScores, [{ learningRate: 3e-3, score: status?.bestValDice ?? null }]);
  assert.equal(p?.seconds, status?.seconds);
  assert.deepEqual(p?.valCurve, log.map((l) => ({ epoch: l.epoch, valDice: l.valDice })));

  const file = path.join(root, 'model.safetensors');
  const x = runSegloss(['--seed', String(SEED), 'export', '--run', path.resolve(out.runDir, '..', '..', '..'), '--out', file]);
  assert.equal(x.status, 0, x.stderr);
  const st = decodeSafetensors(new Uint8Array(readFileSync(file)), file);
  assert.deepEqual(st.order, genericUnetParameters(config.identity.topology).map((q) => q.name));
});
