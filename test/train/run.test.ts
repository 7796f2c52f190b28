/**
 * Whole training runs on the toy-liver task (synthesized and preprocessed once into a temporary
 * folder): files of a run, determinism, the special schedules with a shared pre-trained model,
 * NaN handling, and kill -9 of a child `segloss train` followed by a resume that ends exactly
 * where an uninterrupted run ends.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BIN, REPO_ROOT, runSegloss, tempDir, timeless } from '../helpers.js';
import { trainRun, readRunLog, recoverCheckpoints, type TrainOptions } from '../../src/train/trainer.js';
import { runDirectory, pretrainDirectory, RUN_FILES } from '../../src/util/layout.js';
import { readRunStatus } from '../../src/util/run-status.js';
import { shutdownWorkerPool } from '../../src/train/producer.js';
import { createLoss } from '../../src/losses/registry.js';
import type { LossContext } from '../../src/losses/types.js';
import { RuntimeFailure } from '../../src/util/errors.js';

after(() => shutdownWorkerPool());

const root = tempDir('segloss-train-');
const shared = { synth: path.join(root, 'synth'), preprocessed: path.join(root, 'pre') };
const SEED = 12345;
const tiny = { task: 'toy-liver', epochs: 2, iterations: 3, valBatches: 1, seed: SEED, profile: 'cpu', ...shared } satisfies Partial<TrainOptions>;


test('a short run writes config, log, status, both checkpoints and the curve; Dice and best epoch agree', async () => {
  const results = path.join(root, 'r1');
  const tensorsAfterEpoch: number[] = [];
  const out = await trainRun({ ...tiny, loss: 'dicece', learningRate: 3e-3, results, onEpoch: () => tensorsAfterEpoch.push(tf.memory().numTensors) });
  assert.equal(tensorsAfterEpoch[1], tensorsAfterEpoch[0], 'no tensor leaks from one epoch to the next');
  const dir = runDirectory(results, 'toy-liver', 'dicece', 3e-3, 0, SEED);
  assert.equal(out.runDir, dir);
  assert.equal(out.status, 'done');
  assert.match(dir, /toy-liver\/dicece\/lr-3e-3\/fold-0\/seed-12345$/);
  const log = readRunLog(dir);
  assert.equal(log.length, 2);
  for (const [n, e] of log.entries()) {
    assert.equal(e.epoch, n);
    assert.ok(Number.isFinite(e.trainLoss) && Number.isFinite(e.valLoss));
    assert.equal(e.valDicePerClass.length, 1);
    assert.equal(e.learningRate, 3e-3);
    assert.ok(e.dataWaitShare >= 0 && e.dataWaitShare <= 1);
    assert.ok(e.seconds > 0);
  }
  // MA_1 = 0.70·L0 + 0.30·L1 with the cpu profile's factor.
  assert.ok(Math.abs(log[1]!.trainLossMa - (0.7 * log[0]!.trainLoss + 0.3 * log[1]!.trainLoss)) < 1e-9);
  const status = readRunStatus(dir)!;
  assert.equal(status.state, 'done');
  assert.equal(status.epoch, 2);
  // 2 epochs × 3 iterations, all of the budget; the schedule stopped at the epoch cap.
  assert.equal(status.steps, 6);
  assert.equal(status.budgetSteps, 6);
  assert.equal(status.stopReason, 'budget');
  assert.equal(status.bestEpoch, out.bestEpoch);
  const bestEntry = log.find((e) => e.epoch === out.bestEpoch)!;
  assert.equal(out.bestValDice, bestEntry.valDice);
  for (const ck of [RUN_FILES.latest, RUN_FILES.best]) {
    for (const f of ['model.json', 'weights.bin', 'optimizer.json', 'optimizer.bin', 'state.json']) assert.ok(existsSync(path.join(dir, ck, f)), `${ck}/${f}`);
  }
  const state = JSON.parse(readFileSync(path.join(dir, RUN_FILES.latest, 'state.json'), 'utf8')) as { schedule: { epoch: number }; optimizerStep: number; rng: { seed: number } };
  assert.equal(state.schedule.epoch, 2);
  assert.equal(state.optimizerStep, 6);
  assert.equal(state.rng.seed, 12345);
  const config = JSON.parse(readFileSync(path.join(dir, RUN_FILES.config), 'utf8')) as { identity: { patchSize: number[]; batchSize: number }; loadedPatchSize: number[] };
  assert.deepEqual(config.identity.patchSize, [32, 32, 16]);
  assert.equal(config.identity.batchSize, 2);
  assert.deepEqual(config.loadedPatchSize, [46, 41, 27]); // get_patch_size of (32, 32, 16)
  assert.match(readFileSync(path.join(dir, RUN_FILES.curve), 'utf8'), /^<svg[\s\S]*train loss[\s\S]*<\/svg>\n$/);

  // Re-running a finished run trains nothing.
  const again = await trainRun({ ...tiny, loss: 'dicece', learningRate: 3e-3, results });
  assert.equal(again.skipped, true);
  assert.equal(again.bestValDice, out.bestValDice);

  // A kill between the two renames of the checkpoint swap leaves only a temporary sibling; asking
  // for more epochs continues a run that stopped at the epoch cap, from the recovered checkpoint.
  renameSync(path.join(dir, RUN_FILES.latest), path.join(dir, 'checkpoint', '.latest.old.tmp-1-1'));
  const more = await trainRun({ ...tiny, epochs: 3, loss: 'dicece', learningRate: 3e-3, results });
  assert.equal(more.skipped, false);
  const longer = readRunLog(dir);
  assert.equal(longer.length, 3);
  assert.deepEqual(timeless(longer.slice(0, 2)), timeless(log));
  assert.equal(readRunStatus(dir)!.epoch, 3);

  // The same seed: the same run elsewhere gives the same log (timings aside) and the same weights.
  const results2 = path.join(root, 'r1b');
  await trainRun({ ...tiny, loss: 'dicece', learningRate: 3e-3, results: results2, workers: 0 });
  const dir2 = runDirectory(results2, 'toy-liver', 'dicece', 3e-3, 0, SEED);
  assert.deepEqual(timeless(readRunLog(dir2)), timeless(log));
  const again2 = await trainRun({ ...tiny, epochs: 3, loss: 'dicece', learningRate: 3e-3, results: results2, workers: 0 });
  assert.equal(again2.skipped, false);
  assert.deepEqual(timeless(readRunLog(dir2)), timeless(longer));
  assert.deepEqual(readFileSync(path.join(dir2, RUN_FILES.latest, 'weights.bin')), readFileSync(path.join(dir, RUN_FILES.latest, 'weights.bin')));
});

test('special schedules: Lovász fine-tunes a CE model, DiceBD and DiceHD share one pre-trained Dice model', async () => {
  const results = path.join(root, 'r2');
  const lovasz = await trainRun({ ...tiny, epochs: 1, loss: 'lovasz', learningRate: 3e-4, results });
  assert.equal(lovasz.status, 'done');
  const ceDir = pretrainDirectory(results, 'toy-liver', 'ce', 0, SEED);
  assert.equal(readRunStatus(ceDir)?.state, 'done');
  const lovaszConfig = JSON.parse(readFileSync(path.join(lovasz.runDir, RUN_FILES.config), 'utf8')) as { identity: { pretrainFrom: string; stage: string } };
  assert.equal(lovaszConfig.identity.pretrainFrom, path.join(ceDir, RUN_FILES.best));
  assert.equal(lovaszConfig.identity.stage, 'train');

  const bd = await trainRun({ ...tiny, loss: 'dicebd', learningRate: 3e-5, results });
  const diceDir = pretrainDirectory(results, 'toy-liver', 'dice', 0, SEED);
  const pretrainedAt = statSync(path.join(diceDir, RUN_FILES.status)).mtimeMs;
  const bdLog = readRunLog(bd.runDir);
  // DiceBD's α starts at 1 and drops by 0.01 per study epoch of 250 optimizer steps (paper §3.2):
  // these 2 × 3 fine-tuning steps all stay at α = 1 (the steps are checked in the next test).
  assert.deepEqual(bdLog.map((e) => e.lossWeight), [1, 1]);
  const hd = await trainRun({ ...tiny, epochs: 1, loss: 'dicehd', learningRate: 1e-5, results });
  assert.equal(hd.status, 'done');
  assert.equal(statSync(path.join(diceDir, RUN_FILES.status)).mtimeMs, pretrainedAt, 'the Dice model was reused, not retrained');
  assert.equal(readRunLog(diceDir).length, 2);
  // The fine-tuning starts from the pre-trained weights: its first validation Dice is close to the
  // pre-trained model's best, far above an untrained network's.
  const preBest = readRunStatus(diceDir)!.bestValDice!;
  assert.ok(preBest > 0);
});

test("the loss context carries the stage's optimizer step; lossWeight is the loss weight at the epoch's last step", async () => {
  const results = path.join(root, 'r-steps');
  const dice = createLoss('dice');
  const seen: (number | undefined)[] = [];
  // A Dice loss that records the step it is evaluated at and whose "weight" is the step itself.
  const recording = {
    ...dice,
    fn: (logits: tf.Tensor5D, labels: tf.Tensor4D, ctx?: LossContext) => {
      seen.push(ctx?.step);
      return dice.fn(logits, labels, ctx);
    },
    weightAtStep: (step: number) => step,
  };
  const out = await trainRun({ ...tiny, loss: recording, learningRate: 3e-4, results });
  assert.equal(out.status, 'done');
  // 2 epochs × 3 training steps (0…5), each epoch's validation batch at its last training step
  assert.deepEqual(seen, [0, 1, 2, 2, 3, 4, 5, 5]);
  assert.deepEqual(readRunLog(out.runDir).map((e) => e.lossWeight), [2, 5]);
});

test('--pretrained: DiceBD fine-tunes from a Dice loss directory (its best learning rate), without a pre-training run', async () => {
  const results = path.join(root, 'r-pretrained');
  const dice = await trainRun({ ...tiny, epochs: 1, loss: 'dice', learningRate: 3e-3, results });
  assert.equal(dice.status, 'done');
  const bd = await trainRun({ ...tiny, epochs: 1, loss: 'dicebd', learningRate: 3e-5, results, pretrained: path.join(results, 'toy-liver', 'dice') });
  assert.equal(bd.status, 'done');
  const config = JSON.parse(readFileSync(path.join(bd.runDir, RUN_FILES.config), 'utf8')) as { identity: { pretrainFrom: string } };
  assert.equal(config.identity.pretrainFrom, path.join(dice.runDir, RUN_FILES.best));
  assert.equal(readRunStatus(pretrainDirectory(results, 'toy-liver', 'dice', 0, SEED)), undefined, 'no separate pre-training');
  // Another seed is another run beside it (a replicate: its own initialisation and batches), and
  // its fine-tuning starts from the Dice run of the same seed.
  const dice7 = await trainRun({ ...tiny, seed: 7, epochs: 1, loss: 'dice', learningRate: 3e-3, results });
  assert.equal(dice7.runDir, path.join(results, 'toy-liver', 'dice', 'lr-3e-3', 'fold-0', 'seed-7'));
  assert.equal(dice7.seed, 7);
  assert.notDeepEqual(readFileSync(path.join(dice7.runDir, RUN_FILES.latest, 'weights.bin')), readFileSync(path.join(dice.runDir, RUN_FILES.latest, 'weights.bin')));
  const bd7 = await trainRun({ ...tiny, seed: 7, epochs: 1, loss: 'dicebd', learningRate: 3e-5, results, pretrained: path.join(results, 'toy-liver', 'dice') });
  assert.equal(bd7.runDir, runDirectory(results, 'toy-liver', 'dicebd', 3e-5, 0, 7));
  const config7 = JSON.parse(readFileSync(path.join(bd7.runDir, RUN_FILES.config), 'utf8')) as { identity: { pretrainFrom: string; seed: number } };
  assert.equal(config7.identity.pretrainFrom, path.join(dice7.runDir, RUN_FILES.best));
  assert.equal(config7.identity.seed, 7);
  // A base loss without a finished run: the fine-tuning is marked failed with the reason.
  await assert.rejects(trainRun({ ...tiny, epochs: 1, loss: 'lovasz', learningRate: 3e-4, results, pretrained: path.join(results, 'toy-liver', 'ce') }), /pre-training with ce failed/);
  assert.equal(readRunStatus(runDirectory(results, 'toy-liver', 'lovasz', 3e-4, 0, SEED))?.state, 'failed');
});

test('a NaN loss stops the run, marks it failed with the epoch, keeps the last good checkpoint', async () => {
  const results = path.join(root, 'r3');
  const dice = createLoss('dice');
  const nanAtEpoch1 = { ...dice, id: 'nan-at-epoch-1', fn: (logits: tf.Tensor5D, labels: tf.Tensor4D, ctx?: { epoch?: number }) => tf.tidy(() => (ctx?.epoch === 1 ? dice.fn(logits, labels, ctx).mul(NaN) : dice.fn(logits, labels, ctx)) as tf.Scalar) };
  await assert.rejects(trainRun({ ...tiny, epochs: 3, loss: nanAtEpoch1, learningRate: 3e-4, results }), (err: unknown) => err instanceof RuntimeFailure && /diverged.*epoch 1, iteration 0/.test((err as Error).message));
  const dir = runDirectory(results, 'toy-liver', 'nan-at-epoch-1', 3e-4, 0, SEED);
  const status = readRunStatus(dir)!;
  assert.equal(status.state, 'failed');
  assert.equal(status.epoch, 1);
  assert.match(status.reason ?? '', /^diverged: training loss is NaN in epoch 1/);
  assert.equal(readRunLog(dir).length, 1);
  const state = JSON.parse(readFileSync(path.join(dir, RUN_FILES.latest, 'state.json'), 'utf8')) as { schedule: { epoch: number } };
  assert.equal(state.schedule.epoch, 1);
  // Re-running reports the failure without training again.
  const again = await trainRun({ ...tiny, epochs: 3, loss: nanAtEpoch1, learningRate: 3e-4, results });
  assert.equal(again.status, 'failed');
  assert.equal(again.skipped, true);
});

test('a kill between the writes that end an epoch: the resumed run logs every epoch once and keeps the right best weights', async () => {
  const run = { ...tiny, epochs: 3, loss: 'dicece', learningRate: 3e-3 };
  const reference = path.join(root, 'r5-ref');
  const refDir = runDirectory(reference, 'toy-liver', 'dicece', 3e-3, 0, SEED);
  // The run directory as it stood when epoch 1 had been fully written (onEpoch runs after the writes).
  const snapshot = path.join(root, 'r5-after-epoch-1');
  await trainRun({ ...run, results: reference, onEpoch: (e) => { if (e.epoch === 1) cpSync(reference, snapshot, { recursive: true }); } });
  const refLog = timeless(readRunLog(refDir));
  const snapDir = runDirectory(snapshot, 'toy-liver', 'dicece', 3e-3, 0, SEED);

  // What the directory held before epoch 1's writes: the files as epoch 0 left them.
  const epoch0 = path.join(root, 'r5-after-epoch-0');
  await trainRun({ ...run, epochs: 1, results: epoch0 });
  const epoch0Dir = runDirectory(epoch0, 'toy-liver', 'dicece', 3e-3, 0, SEED);
  assert.equal(readRunLog(snapDir).find((e) => e.epoch === 1)?.newBest, true, 'epoch 1 improves, so it writes checkpoint/best');
  /** Put back in `dir` what `file` was after epoch 0. */
  const undo = (dir: string, file: string) => {
    rmSync(path.join(dir, file), { recursive: true, force: true });
    cpSync(path.join(epoch0Dir, file), path.join(dir, file), { recursive: true });
  };
  /** A kill between the two renames of a checkpoint swap: old and new as temporary siblings. */
  const halfSwapped = (dir: string, checkpoint: string) => {
    const name = path.basename(checkpoint);
    renameSync(path.join(dir, checkpoint), path.join(dir, 'checkpoint', `.${name}.tmp-1-2`));
    cpSync(path.join(epoch0Dir, checkpoint), path.join(dir, 'checkpoint', `.${name}.old.tmp-1-3`), { recursive: true });
  };

  // The end of epoch 1 writes checkpoint/best (it improved), checkpoint/latest, log.jsonl, then
  // status.json; each checkpoint is swapped in by two renames. Rebuild the directory as a kill in
  // each window leaves it (a kill after log.jsonl only leaves status.json behind, which a resume
  // does not read), and resume.
  // `recovered`: the epochs done by checkpoint/best and checkpoint/latest once put back in place —
  // latest the most advanced, best never ahead of latest unless it was completely written.
  const windows: { name: string; kill: (dir: string) => void; recovered: [number, number] }[] = [
    { name: 'inside the swap of checkpoint/best', kill: (dir) => { undo(dir, RUN_FILES.latest); undo(dir, RUN_FILES.log); halfSwapped(dir, RUN_FILES.best); }, recovered: [1, 1] },
    { name: 'after checkpoint/best', kill: (dir) => { undo(dir, RUN_FILES.latest); undo(dir, RUN_FILES.log); }, recovered: [2, 1] },
    { name: 'inside the swap of checkpoint/latest', kill: (dir) => { undo(dir, RUN_FILES.log); halfSwapped(dir, RUN_FILES.latest); }, recovered: [2, 2] },
    { name: 'after checkpoint/latest', kill: (dir) => undo(dir, RUN_FILES.log), recovered: [2, 2] },
  ];
  for (const { name, kill, recovered } of windows) {
    const results = path.join(root, `r5-${name.replace(/\W+/g, '-')}`);
    const dir = runDirectory(results, 'toy-liver', 'dicece', 3e-3, 0, SEED);
    cpSync(snapshot, results, { recursive: true });
    kill(dir);
    recoverCheckpoints(dir);
    assert.deepEqual(readdirSync(path.join(dir, 'checkpoint')).sort(), ['best', 'latest'], name);
    const epochOf = (ck: string) => (JSON.parse(readFileSync(path.join(dir, ck, 'state.json'), 'utf8')) as { schedule: { epoch: number } }).schedule.epoch;
    assert.deepEqual([epochOf(RUN_FILES.best), epochOf(RUN_FILES.latest)], recovered, name);
    writeFileSync(path.join(dir, RUN_FILES.status), JSON.stringify({ state: 'running', epoch: 1 }));
    const out = await trainRun({ ...run, results });
    assert.equal(out.status, 'done', name);
    assert.deepEqual(timeless(readRunLog(dir)), refLog, name);
    for (const ck of [RUN_FILES.latest, RUN_FILES.best]) {
      assert.deepEqual(readFileSync(path.join(dir, ck, 'weights.bin')), readFileSync(path.join(refDir, ck, 'weights.bin')), `${name}: ${ck}`);
    }
  }
});

test('kill -9 in the middle of an epoch, then --resume: same epochs, LR, averages, moments and final weights as without the kill', async () => {
  const run = { epochs: 3, iterations: 8, valBatches: 1 };
  const reference = path.join(root, 'r4-ref');
  await trainRun({ ...tiny, ...run, loss: 'dicece', learningRate: 3e-3, results: reference });
  const refDir = runDirectory(reference, 'toy-liver', 'dicece', 3e-3, 0, SEED);

  const results = path.join(root, 'r4');
  const dir = runDirectory(results, 'toy-liver', 'dicece', 3e-3, 0, SEED);
  const args = [
    BIN, '--quiet', 'train', '--task', 'toy-liver', '--loss', 'dicece', '--lr', '3e-3',
    '--epochs', String(run.epochs), '--iterations', String(run.iterations), '--val-batches', String(run.valBatches),
    '--synth-dir', shared.synth, '--preprocessed', shared.preprocessed, '--results', results,
  ];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve((exitCode = code))));
  // Wait until epoch 0 is checkpointed, then a little into epoch 1, and kill without warning. No
  // time limit of its own: on a slow machine epoch 0 just comes later (the test's timeout guards).
  while (readRunLog(dir).length < 1) {
    if (exitCode !== undefined) throw new Error(`child exited (${exitCode}) before finishing epoch 0: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const epochSeconds = readRunLog(dir)[0]!.seconds;
  // A quarter of epoch 0 (which includes the warm-up) lands inside epoch 1 on a quiet machine; on a
  // loaded one the kill may fall into a later epoch, which tests the same thing.
  await new Promise((r) => setTimeout(r, Math.min(3000, epochSeconds * 250)));
  child.kill('SIGKILL');
  await exited;
  const killed = readRunStatus(dir)!;
  assert.equal(killed.state, 'running', 'a killed run still says running');
  const finishedAtKill = readRunLog(dir).length;
  assert.ok(finishedAtKill >= 1 && finishedAtKill < run.epochs, `killed in the middle of the run (${finishedAtKill} epochs done; ${stderr})`);

  const resumed = runSegloss(args.slice(1).concat(['--resume']));
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(readRunStatus(dir)!.state, 'done');
  assert.deepEqual(timeless(readRunLog(dir)), timeless(readRunLog(refDir)));
  for (const f of ['weights.bin', 'optimizer.bin']) {
    assert.deepEqual(readFileSync(path.join(dir, RUN_FILES.latest, f)), readFileSync(path.join(refDir, RUN_FILES.latest, f)), f);
  }
  const a = JSON.parse(readFileSync(path.join(dir, RUN_FILES.latest, 'state.json'), 'utf8')) as { schedule: unknown; optimizerStep: number };
  const b = JSON.parse(readFileSync(path.join(refDir, RUN_FILES.latest, 'state.json'), 'utf8')) as { schedule: unknown; optimizerStep: number };
  assert.deepEqual(a.schedule, b.schedule);
  assert.equal(a.optimizerStep, b.optimizerStep);
});

test('CLI: bad loss id and bad learning rates are usage errors (exit 2); --resume without a run too', () => {
  const common = ['train', '--task', 'toy-liver', '--synth-dir', shared.synth, '--preprocessed', shared.preprocessed, '--results', path.join(root, 'r5')];
  const r1 = runSegloss([...common, '--loss', 'nosuchloss']);
  assert.equal(r1.status, 2, r1.stderr);
  assert.match(r1.stderr, /unknown loss 'nosuchloss'/);
  const r2 = runSegloss([...common, '--loss', 'dice', '--lr', '3e-4,abc']);
  assert.equal(r2.status, 2, r2.stderr);
  assert.match(r2.stderr, /--lr/);
  const r3 = runSegloss([...common, '--loss', 'dice', '--resume']);
  assert.equal(r3.status, 2, r3.stderr);
  assert.match(r3.stderr, /no checkpoint to resume/);
});

test('CLI: a loss that becomes NaN exits 1 and marks the run failed (weighted CE with every class weight 0: 0/0)', () => {
  const results = path.join(root, 'r6');
  const r = runSegloss([
    '--quiet', 'train', '--task', 'toy-multiorgan', '--loss', 'wce', '--loss-opt', 'class_weights=0,0,0,0',
    '--epochs', '2', '--iterations', '3', '--val-batches', '1', '--deterministic', '--synth-dir', shared.synth, '--preprocessed', shared.preprocessed, '--results', results,
  ]);
  assert.equal(r.status, 1, r.stderr);
  // --deterministic is still accepted, with a warning: every run is seeded anyway.
  assert.match(r.stderr, /^warning: --deterministic is deprecated and has no effect: every run is seeded with --seed \(now 12345\)$/m);
  assert.match(r.stderr, /diverged: training loss is NaN in epoch 0/);
  const status = readRunStatus(runDirectory(results, 'toy-multiorgan', 'wce', 3e-4, 0, SEED))!;
  assert.equal(status.state, 'failed');
  assert.equal(status.epoch, 0);
  // Diverged before any checkpoint: re-running reports the failure again without training.
  const again = runSegloss([
    '--quiet', 'train', '--task', 'toy-multiorgan', '--loss', 'wce', '--loss-opt', 'class_weights=0,0,0,0',
    '--epochs', '2', '--iterations', '3', '--val-batches', '1', '--synth-dir', shared.synth, '--preprocessed', shared.preprocessed, '--results', results,
  ]);
  assert.equal(again.status, 1);
  assert.doesNotMatch(again.stderr, /deprecated/);
  assert.match(again.stdout, /failed \(already\)/);
});

test('CLI: several --lr values train one run each, print the table and record the winner chosen on the validation fold', () => {
  const results = path.join(root, 'r7');
  // Settings from a YAML file (--config); the flag --iterations wins over the file's value.
  const yaml = path.join(root, 'train-settings.yaml');
  writeFileSync(yaml, `task: toy-liver\nloss: dice\nlr: [3e-3, 3e-5]\nepochs: 1\niterations: 9\nval-batches: 1\ndeterministic: true\n`);
  const r = runSegloss([
    '--quiet', 'train', '--config', yaml, '--iterations', '2', '--synth-dir', shared.synth, '--preprocessed', shared.preprocessed, '--results', results,
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^lr\s+status\s+best val Dice/m);
  assert.match(r.stdout, /^3e-3\s+done/m);
  assert.match(r.stdout, /^3e-5\s+done/m);
  const record = JSON.parse(readFileSync(path.join(results, 'toy-liver', 'dice', 'lr-search-fold-0-seed-12345.json'), 'utf8')) as { runs: { learningRate: number; bestValDice: number }[]; best: { learningRate: number; bestValDice: number } };
  assert.equal(record.runs.length, 2);
  const winner = record.runs.reduce((a, b) => (b.bestValDice > a.bestValDice ? b : a));
  assert.equal(record.best.learningRate, winner.learningRate);
  assert.match(r.stdout, new RegExp(`best learning rate on the validation fold 0: ${winner.learningRate === 3e-3 ? '3e-3' : '3e-5'}`));
  // The YAML's deterministic key is accepted with the same warning as the flag.
  assert.match(r.stderr, /warning: --deterministic is deprecated and has no effect/);
  const cfg = JSON.parse(readFileSync(path.join(results, 'toy-liver', 'dice', 'lr-3e-3', 'fold-0', 'seed-12345', RUN_FILES.config), 'utf8')) as { identity: { iterations: number; seed: number; deterministic?: boolean } };
  assert.equal(cfg.identity.iterations, 2);
  assert.equal(cfg.identity.seed, 12345);
  assert.equal(cfg.identity.deterministic, undefined);
});

test("CLI: Ctrl-C (SIGINT) stops between iterations with exit 130, marks the run 'interrupted', and re-running resumes it", async () => {
  const results = path.join(root, 'r8');
  const dir = runDirectory(results, 'toy-liver', 'dice', 3e-4, 0, SEED);
  const child = spawn(process.execPath, [
    BIN, '--quiet', 'train', '--task', 'toy-liver', '--loss', 'dice', '--epochs', '20', '--iterations', '4', '--val-batches', '1',
    '--synth-dir', shared.synth, '--preprocessed', shared.preprocessed, '--results', results,
  ], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve((exitCode = code))));
  while (readRunLog(dir).length < 1) {
    if (exitCode !== undefined) throw new Error(`child exited (${exitCode}) before finishing epoch 0`);
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGINT');
  assert.equal(await exited, 130);
  const status = readRunStatus(dir)!;
  assert.equal(status.state, 'interrupted');
  assert.equal(status.stopReason, 'interrupted');
  assert.equal(status.pid, undefined);
  const m = /^interrupted in epoch (\d+)/.exec(status.reason ?? '');
  assert.ok(m !== null, status.reason);
  // The counters are those of checkpoint/latest, where a resumed run continues: the epoch in
  // progress is not counted.
  const checkpointed = readRunLog(dir).length;
  assert.equal(Number(m[1]), checkpointed);
  assert.equal(status.epoch, checkpointed);
  assert.equal(status.steps, checkpointed * 4);
  assert.equal(status.budgetSteps, 20 * 4);
  const state = JSON.parse(readFileSync(path.join(dir, RUN_FILES.latest, 'state.json'), 'utf8')) as { optimizerStep: number };
  assert.equal(state.optimizerStep, status.steps);
  // Resumable like a killed run: re-running (here with a budget already reached) finishes it.
  const resumed = runSegloss(['--quiet', 'train', '--task', 'toy-liver', '--loss', 'dice', '--epochs', String(checkpointed), '--iterations', '4', '--val-batches', '1',
    '--synth-dir', shared.synth, '--preprocessed', shared.preprocessed, '--results', results]);
  assert.equal(resumed.status, 0, resumed.stderr);
  const finished = readRunStatus(dir)!;
  assert.equal(finished.state, 'done');
  assert.equal(finished.stopReason, 'budget');
  assert.equal(finished.steps, checkpointed * 4);
});
