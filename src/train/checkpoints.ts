/**
 * Checkpoint persistence of a run: `checkpoint/latest` after every epoch and `checkpoint/best`
 * when the validation criterion improved, each a directory written atomically (model, optimizer
 * moments, schedule and generator state, and its own copy of the epoch log), and the recovery of
 * a checkpoint whose atomic swap a kill interrupted.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { UNet3D } from '../model/unet.js';
import { saveModel, saveTensors } from '../model/checkpoint.js';
import { writeDirectoryAtomic } from '../util/atomic.js';
import { InputError, errorMessage } from '../util/errors.js';
import { RUN_FILES } from '../util/layout.js';
import type { RngState } from '../util/rng.js';
import type { AmsgradAdam } from './optimizer.js';
import type { ScheduleState } from './schedule.js';
import { runLogText } from './run-log.js';
import type { EpochLogEntry } from './types.js';

/** `state.json` of a checkpoint: where the run stood after the checkpoint's epoch. */
export interface CheckpointState {
  schedule: ScheduleState;
  optimizerStep: number;
  rng: { seed: number; state: RngState };
  /** Training seconds before this checkpoint, summed over sessions. */
  seconds: number;
}

const STATE_FILE = 'state.json';
/** The files of a complete checkpoint besides state.json (written last). */
const TENSOR_FILES = ['model.json', 'weights.bin', 'optimizer.json', 'optimizer.bin'];

/**
 * Write a checkpoint directory atomically. It carries its own copy of the epoch log, so that the
 * log a resumed run continues is always the one of its checkpoint: a kill after the checkpoint's
 * rename but before `<runDir>/log.jsonl` was rewritten would otherwise drop that epoch's line.
 */
export async function writeCheckpoint(dir: string, model: UNet3D, optimizer: AmsgradAdam, state: CheckpointState, log: readonly EpochLogEntry[]): Promise<void> {
  await writeDirectoryAtomic(dir, async (tmp) => {
    await fsp.writeFile(path.join(tmp, RUN_FILES.log), runLogText(log));
    await saveModel(tmp, model);
    const opt = optimizer.state();
    try {
      await saveTensors(tmp, 'optimizer', opt.tensors);
    } finally {
      tf.dispose(Object.values(opt.tensors));
    }
    await fsp.writeFile(path.join(tmp, STATE_FILE), JSON.stringify(state, null, 2) + '\n');
  });
}

/** Whether a checkpoint directory has its state (and so is complete). */
export function hasCheckpoint(dir: string): boolean {
  return existsSync(path.join(dir, STATE_FILE));
}

export function readCheckpointState(dir: string): CheckpointState {
  const file = path.join(dir, STATE_FILE);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CheckpointState;
  } catch (err) {
    throw new InputError(file, `cannot read checkpoint state: ${errorMessage(err)}; use --restart to train the run from scratch`);
  }
}

/**
 * A kill between the two renames of an atomic directory swap leaves no checkpoint/latest (or
 * best) but complete temporary siblings, new and old. Put one back in place: for latest the most
 * advanced; for best the most advanced that is not ahead of latest (best is written first, so a
 * best ahead of latest belongs to the epoch the resumed run recomputes, and rewrites if it improves).
 * The siblings left over are removed: only the process that owns the run calls this.
 */
export function recoverCheckpoints(runDir: string): void {
  const ckDir = path.join(runDir, RUN_FILES.checkpoints);
  if (!existsSync(ckDir)) return;
  const complete = (prefix: string): { dir: string; epoch: number }[] => {
    const found: { dir: string; epoch: number }[] = [];
    for (const name of readdirSync(ckDir)) {
      if (!name.startsWith(prefix)) continue;
      const dir = path.join(ckDir, name);
      if (!TENSOR_FILES.every((f) => existsSync(path.join(dir, f)))) continue;
      try {
        found.push({ dir, epoch: (JSON.parse(readFileSync(path.join(dir, STATE_FILE), 'utf8')) as CheckpointState).schedule.epoch });
      } catch {
        // incomplete: state.json is written last
      }
    }
    return found.sort((a, b) => b.epoch - a.epoch);
  };
  const latest = path.join(runDir, RUN_FILES.latest);
  if (!existsSync(latest)) {
    const newest = complete('.latest.')[0];
    if (newest !== undefined) renameSync(newest.dir, latest);
  }
  const best = path.join(runDir, RUN_FILES.best);
  if (!existsSync(best)) {
    const latestEpoch = hasCheckpoint(latest) ? readCheckpointState(latest).schedule.epoch : Infinity;
    const candidate = complete('.best.').find((c) => c.epoch <= latestEpoch);
    if (candidate !== undefined) renameSync(candidate.dir, best);
  }
  for (const name of readdirSync(ckDir)) {
    if (name.startsWith('.latest.') || name.startsWith('.best.')) rmSync(path.join(ckDir, name), { recursive: true, force: true });
  }
}
