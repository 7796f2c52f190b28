/**
 * The learning-rate search of the study (paper §3.2): one run per rate on the validation fold,
 * the rate with the best validation Dice wins (never the test split), recorded per fold and seed
 * in lrSearchFile(...).
 */
import { writeJsonAtomicSync } from '../util/atomic.js';
import { RuntimeFailure, UsageError, errorMessage } from '../util/errors.js';
import { lrSearchFile, runDirectory } from '../util/layout.js';
import { warn } from '../util/log.js';
import { readRunStatus } from '../util/run-status.js';
import { getLossDefinition } from '../losses/registry.js';
import { loadTrainingProfile } from './config.js';
import { resolveRunLoss, type RunLoss } from './run-loss.js';
import { resolveRunSettings, type RunSettings } from './settings.js';
import { commandRunDirectories, trainWithSchedule } from './special-schedule.js';
import { lockRunDirectories } from './command-lock.js';
import type { LrSearchOutcome, TrainOptions, TrainOutcome } from './types.js';

/**
 * Train one run per learning rate and choose the rate with the best validation Dice (the
 * validation fold, never the test split). A diverged rate is recorded as failed and the search
 * goes on; other errors stop it.
 */
export async function trainWithLrSearch(options: TrainOptions & { learningRates: number[] }): Promise<LrSearchOutcome> {
  if (options.learningRates.length === 0) throw new UsageError('--lr: no learning rate given');
  const loss = resolveRunLoss(options.loss, options.lossOptions);
  const settings = resolveRunSettings(options);
  const { task, fold, seed, results } = settings;
  for (const lr of options.learningRates) if (!(lr > 0 && Number.isFinite(lr))) throw new UsageError(`--lr: expected positive numbers, got ${lr}`);
  // Every rate's run directory is locked before any work (see ./command-lock.ts).
  const release = lockRunDirectories(commandRunDirectories(settings, loss, options.learningRates));
  try {
    return await searchLearningRates(settings, loss, options.learningRates);
  } finally {
    release();
  }
}

async function searchLearningRates(settings: RunSettings, loss: RunLoss, learningRates: readonly number[]): Promise<LrSearchOutcome> {
  const { task, fold, seed, results } = settings;
  const runs: TrainOutcome[] = [];
  for (const learningRate of learningRates) {
    try {
      runs.push(await trainWithSchedule(settings, loss, learningRate));
    } catch (err) {
      if (!(err instanceof RuntimeFailure)) throw err;
      const runDir = runDirectory(results, task, loss.id, learningRate, fold, seed);
      const st = readRunStatus(runDir);
      runs.push({
        runDir, task, loss: loss.id, learningRate, fold, seed, status: 'failed', reason: st?.reason ?? errorMessage(err),
        bestValDice: st?.bestValDice ?? null, bestEpoch: null, epochs: st?.epoch ?? 0, seconds: st?.seconds ?? 0, dataWaitShare: null, skipped: false,
      });
      warn(errorMessage(err));
    }
  }
  let best: LrSearchOutcome['best'] = null;
  for (const r of runs) {
    if (r.status !== 'done' || r.bestValDice === null) continue;
    if (best === null || r.bestValDice > best.bestValDice) best = { learningRate: r.learningRate, bestValDice: r.bestValDice, runDir: r.runDir };
  }
  const file = lrSearchFile(results, task, loss.id, fold, seed);
  writeJsonAtomicSync(file, {
    task,
    loss: loss.id,
    fold,
    seed,
    selection: settings.selection,
    criterion: settings.selection === 'paper'
      ? 'mean foreground global Dice of checkpoint/best on the validation batches of the test split (selection paper, as the study)'
      : 'mean foreground global Dice of checkpoint/best on the validation batches of the fold',
    runs: runs.map((r) => ({ learningRate: r.learningRate, status: r.status, reason: r.reason ?? null, bestValDice: r.bestValDice, bestEpoch: r.bestEpoch, epochs: r.epochs, seconds: r.seconds, runDir: r.runDir })),
    best,
  });
  return { task, loss: loss.id, fold, seed, runs, best, file };
}

/** Resolve `--lr`: a list of rates, or `search` for the profile's search set for this loss. */
export function resolveLearningRates(raw: string | undefined, loss: string, profileName: string): number[] | undefined {
  if (raw === undefined) return undefined;
  if (raw.trim() === 'search') {
    const profile = loadTrainingProfile(profileName);
    return getLossDefinition(loss).schedule?.finetuneRates === true ? profile.finetuneLrSearch : profile.lrSearch;
  }
  const parts = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const rates = parts.map((s) => Number(s));
  if (rates.length === 0 || rates.some((r) => !Number.isFinite(r) || r <= 0)) throw new UsageError(`--lr: expected positive numbers separated by commas or 'search', got '${raw}'`);
  return [...new Set(rates)];
}
