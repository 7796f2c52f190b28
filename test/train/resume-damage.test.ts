/**
 * A run whose checkpoint/latest was damaged (a flipped byte: the weights no longer match the
 * checksum stored in model.json) cannot resume: one line, exit 2, naming the file and `--restart`;
 * with `--restart` it trains from scratch.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers.js';
import { trainRun, readRunLog } from '../../src/train/trainer.js';
import { shutdownWorkerPool } from '../../src/train/producer.js';
import { RUN_FILES } from '../../src/util/layout.js';
import { InputError } from '../../src/util/errors.js';
import { readRunStatus } from '../../src/util/run-status.js';

after(() => shutdownWorkerPool());

test('a damaged checkpoint/latest stops the resume with a message that names the file and --restart', async () => {
  const root = tempDir('segloss-damage-');
  const common = { task: 'toy-liver', loss: 'dice', iterations: 1, valBatches: 1, workers: 0, profile: 'cpu', synth: path.join(root, 'synth'), preprocessed: path.join(root, 'pre'), results: path.join(root, 'results') };
  const first = await trainRun({ ...common, epochs: 1 });
  const weights = path.join(first.runDir, RUN_FILES.latest, 'weights.bin');
  const bytes = readFileSync(weights);
  bytes[100] = (bytes[100] as number) ^ 0xff;
  writeFileSync(weights, bytes);
  await assert.rejects(trainRun({ ...common, epochs: 2 }), (err: unknown) => {
    assert.ok(err instanceof InputError);
    assert.equal(err.exitCode, 2);
    assert.equal(err.message.includes('\n'), false);
    assert.ok(err.message.startsWith(`${weights}: does not match model.json`), err.message);
    assert.ok(err.message.endsWith(`use --restart to train ${first.runDir} from scratch`), err.message);
    return true;
  });
  const restarted = await trainRun({ ...common, epochs: 2, restart: true });
  assert.equal(restarted.status, 'done');
  assert.deepEqual(readRunLog(restarted.runDir).map((e) => e.epoch), [0, 1]);
  assert.equal(readRunStatus(restarted.runDir)!.steps, 2);
});
