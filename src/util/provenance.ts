/**
 * How a tested network was trained: one `ProvenanceEntry` per replicate (task, loss, seed, fold),
 * written by evaluation as `provenance.json` beside a `results.csv` and read by ranking, which
 * summarises it per loss in `leaderboard.json` and the report (docs/ranking.md, "Provenance").
 * Ranking reads files, never training code: this file is the whole contract between them.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomicSync } from './atomic.js';
import { InputError, errorMessage } from './errors.js';

export const PROVENANCE_FILE_NAME = 'provenance.json';
export const PROVENANCE_VERSION = 1;

/** The validation score of one learning rate tried for this replicate (null: the run failed). */
export interface LearningRateScore {
  learningRate: number;
  score: number | null;
}

export interface ProvenanceEntry {
  task: string;
  loss: string;
  seed: number;
  fold: number;
  /** The learning rate of the tested network. */
  learningRate: number;
  /** Every rate searched for this replicate, with its validation score (mean foreground Dice). */
  lrScores: LearningRateScore[];
  /** Optimizer steps of the tested network, including a pre-training stage it started from. */
  steps: number;
  /** Optimizer steps the run was told to train (its epochs × iterations, plus the pre-training's). */
  budgetSteps: number;
  /**
   * Optimizer steps its training profile plans when nothing is capped (the profile's epochs ×
   * iterations, plus the pre-training's): a benchmark's `training: { epochs }` or `--epochs` cap
   * `budgetSteps`, not this. Absent for runs that did not record their profile.
   */
  profileSteps?: number;
  /** Epochs finished by the tested network's own stage. */
  epochs: number;
  /** Why training stopped: 'budget' (all epochs), 'early-stop', 'lr-floor', 'failed', … */
  stopReason: string;
  /** Which checkpoint was tested and the epoch it was written at. */
  checkpoint: { kind: 'best' | 'final'; epoch: number | null };
  /** Wall-clock seconds of training, including the pre-training stage. */
  seconds: number;
  /** Steps and seconds of the pre-training stage (a special schedule's Dice run), when there was one. */
  pretrain?: { loss: string; steps: number; seconds: number };
  /** Validation score per finished epoch of the tested network's stage (the learning curve). */
  valCurve: { epoch: number; valDice: number | null }[];
}

export interface ProvenanceFile {
  version: number;
  entries: ProvenanceEntry[];
}

export function writeProvenanceFile(dir: string, entries: ProvenanceEntry[]): string {
  const file = path.join(dir, PROVENANCE_FILE_NAME);
  const content: ProvenanceFile = { version: PROVENANCE_VERSION, entries };
  writeJsonAtomicSync(file, content);
  return file;
}

/** The entries of `provenance.json` in `dir`, or undefined when there is none. */
export function readProvenanceFile(dir: string): ProvenanceEntry[] | undefined {
  const file = path.join(dir, PROVENANCE_FILE_NAME);
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InputError(file, `not valid JSON (${errorMessage(error)})`);
  }
  const content = parsed as Partial<ProvenanceFile> | null;
  if (!content || typeof content !== 'object' || !Array.isArray(content.entries)) {
    throw new InputError(file, `expected { version, entries: [...] }`);
  }
  if (content.version !== PROVENANCE_VERSION) {
    throw new InputError(file, `provenance version ${String(content.version)}, this segloss reads version ${PROVENANCE_VERSION}`);
  }
  return content.entries;
}
