/**
 * `run.json` beside predictions: which segloss run made them (run directory, task, loss, seed,
 * fold, learning rate) and which checkpoint (kind and epoch). `segloss predict` writes it;
 * `segloss evaluate` reads it to add the `seed` and `fold` columns to results.csv and to write
 * provenance.json (docs/evaluation.md, "Predictions from a segloss run").
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from '../util/atomic.js';
import { InputError, errorMessage } from '../util/errors.js';
import { RUN_FILES } from '../util/layout.js';

export const RUN_INFO_FILE = 'run.json';
const RUN_INFO_VERSION = 1;

/** The checkpoint kinds of the provenance contract: `best` (validation criterion) or `final` (last epoch). */
export type CheckpointKind = 'best' | 'final';

export interface PredictionRunInfo {
  version: number;
  /** Absolute run directory. */
  runDir: string;
  task: string;
  loss: string;
  seed: number;
  fold: number;
  /** null when the run's config.json does not record it. */
  learningRate: number | null;
  /** The checkpoint predicted with, and the epoch (0-based, as in log.jsonl) it was written at; null when unknown. */
  checkpoint: { kind: CheckpointKind; epoch: number | null };
}

interface ConfigIdentity {
  identity?: { task?: unknown; loss?: unknown; seed?: unknown; fold?: unknown; learningRate?: unknown };
}

/** `best` stays `best`; the last epoch's checkpoint (`latest`, `final`) is `final`. */
export function checkpointKind(choice: string): CheckpointKind {
  return choice === 'best' ? 'best' : 'final';
}

/** Epoch of a checkpoint directory: the last line of the copy of log.jsonl it carries; null without one. */
export function checkpointEpoch(checkpointDir: string): number | null {
  const file = path.join(checkpointDir, RUN_FILES.log);
  if (!existsSync(file)) return null;
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const last = lines[lines.length - 1];
  if (last === undefined) return null;
  try {
    const epoch = (JSON.parse(last) as { epoch?: unknown }).epoch;
    return typeof epoch === 'number' ? epoch : null;
  } catch {
    return null;
  }
}

/** Epoch of a run's checkpoint `choice` (the last epoch's checkpoint may be stored as `final` or `latest`). */
function checkpointEpochOf(runDir: string, choice: string): number | null {
  const names = checkpointKind(choice) === 'best' ? [choice] : [choice, 'final', 'latest'];
  for (const name of names) {
    const epoch = checkpointEpoch(path.join(runDir, RUN_FILES.checkpoints, name));
    if (epoch !== null) return epoch;
  }
  return null;
}

/**
 * The run information of a run directory and checkpoint choice (reads config.json and the
 * checkpoint's log). An input error when config.json lacks the task, loss, seed or fold.
 */
export function predictionRunInfo(runDir: string, checkpointChoice: string): PredictionRunInfo {
  const configFile = path.join(runDir, RUN_FILES.config);
  let config: ConfigIdentity;
  try {
    config = JSON.parse(readFileSync(configFile, 'utf8')) as ConfigIdentity;
  } catch (err) {
    throw new InputError(configFile, `cannot read the run's configuration: ${errorMessage(err)}`);
  }
  const id = config.identity ?? {};
  const need = <T>(key: string, value: unknown, ok: (v: unknown) => v is T): T => {
    if (!ok(value)) throw new InputError(configFile, `identity.${key} missing or invalid`);
    return value;
  };
  const isString = (v: unknown): v is string => typeof v === 'string';
  const isInteger = (v: unknown): v is number => Number.isInteger(v);
  const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  return {
    version: RUN_INFO_VERSION,
    runDir: path.resolve(runDir),
    task: need('task', id.task, isString),
    loss: need('loss', id.loss, isString),
    seed: need('seed', id.seed, isInteger),
    fold: need('fold', id.fold, isInteger),
    learningRate: isNumber(id.learningRate) ? id.learningRate : null,
    checkpoint: { kind: checkpointKind(checkpointChoice), epoch: checkpointEpochOf(runDir, checkpointChoice) },
  };
}

/**
 * Write `<predDir>/run.json` for predictions made with `runDir`'s checkpoint `checkpointChoice`.
 * A run whose config.json does not identify it gets none (undefined): prediction goes on.
 */
export async function writePredictionRunInfo(predDir: string, runDir: string, checkpointChoice: string): Promise<string | undefined> {
  let info: PredictionRunInfo;
  try {
    info = predictionRunInfo(runDir, checkpointChoice);
  } catch (err) {
    if (err instanceof InputError) return undefined;
    throw err;
  }
  const file = path.join(predDir, RUN_INFO_FILE);
  await writeJsonAtomic(file, info);
  return file;
}

/** `<predDir>/run.json`, or undefined when the predictions do not come from `segloss predict`. */
export function readPredictionRunInfo(predDir: string): PredictionRunInfo | undefined {
  const file = path.join(predDir, RUN_INFO_FILE);
  if (!existsSync(file)) return undefined;
  let raw: Partial<PredictionRunInfo>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<PredictionRunInfo>;
  } catch (err) {
    throw new InputError(file, `not valid JSON (${errorMessage(err)})`);
  }
  if (raw.version !== RUN_INFO_VERSION) throw new InputError(file, `run.json version ${String(raw.version)}, this segloss reads version ${RUN_INFO_VERSION}`);
  const bad = (key: string): never => {
    throw new InputError(file, `'${key}' missing or invalid`);
  };
  if (typeof raw.runDir !== 'string') bad('runDir');
  if (typeof raw.task !== 'string') bad('task');
  if (typeof raw.loss !== 'string') bad('loss');
  if (!Number.isInteger(raw.seed)) bad('seed');
  if (!Number.isInteger(raw.fold)) bad('fold');
  if (typeof raw.learningRate !== 'number' && raw.learningRate !== null) bad('learningRate');
  const kind = raw.checkpoint?.kind;
  if (kind !== 'best' && kind !== 'final') bad('checkpoint.kind');
  const epoch = raw.checkpoint?.epoch;
  return { ...(raw as PredictionRunInfo), checkpoint: { kind: kind as CheckpointKind, epoch: typeof epoch === 'number' ? epoch : null } };
}
