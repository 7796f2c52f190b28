/**
 * One provenance entry (src/util/provenance.ts) from a run directory: how the tested network was
 * trained, read from the run's files only — config.json (identity, epochs), status.json (state,
 * epochs, seconds; the newer fields steps, budgetSteps, bestEpoch and stopReason when present),
 * log.jsonl (the learning curve), the learning-rate search of its loss, fold and seed (the file of
 * `segloss train --lr search`, else the sibling runs lr-*\/fold-k/seed-s/ the benchmark trains one by
 * one) unless the caller gives the scores (the benchmark gives those of its lr-choice.json, the
 * scores its choice over replicates was made on) and, for a fine-tuning schedule, the pre-training
 * run it started from. This is the one provenance builder: `segloss evaluate` and the benchmark's
 * test cells both call it.
 *
 * Older runs lack the newer status fields: steps = epochs × iterations, budget = planned epochs ×
 * iterations, stopReason from the state (done after all epochs: 'budget', before: 'early-stop').
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { InputError, errorMessage } from '../util/errors.js';
import { RUN_FILES, lrSearchFile } from '../util/layout.js';
import type { LearningRateScore, ProvenanceEntry } from '../util/provenance.js';
import type { CheckpointKind } from './run-info.js';

/** What provenance reads of config.json. */
interface RunConfigFields {
  identity: { task: string; loss: string; seed: number; fold: number; learningRate: number; iterations: number; pretrainFrom?: string | null };
  epochs: number;
  /** The training profile the run was planned with (its uncapped epochs and iterations). */
  profile?: { name?: string; epochs?: number; iterations?: number };
  /** The checkpoint `predict` tests by default (CONTRACTS.md; older runs lack it: 'best'). */
  checkpoint?: CheckpointKind;
}

/** What provenance reads of status.json (the newer fields optional: older runs lack them). */
interface RunStatusFields {
  state?: string;
  reason?: string;
  epoch?: number;
  bestValDice?: number | null;
  seconds?: number;
  steps?: number;
  budgetSteps?: number;
  bestEpoch?: number | null;
  stopReason?: string;
}

interface LogLine {
  epoch: number;
  valDice?: number | null;
  seconds?: number;
  newBest?: boolean;
}

function readJson<T>(file: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new InputError(file, `cannot read: ${errorMessage(err)}`);
  }
}

function readConfig(runDir: string): RunConfigFields {
  const file = path.join(runDir, RUN_FILES.config);
  const c = readJson<Partial<RunConfigFields>>(file);
  const id = c.identity;
  if (id === undefined || typeof id.task !== 'string' || typeof id.loss !== 'string' || !Number.isInteger(id.seed) || !Number.isInteger(id.fold) ||
    typeof id.learningRate !== 'number' || !Number.isInteger(id.iterations) || !Number.isInteger(c.epochs)) {
    throw new InputError(file, 'not a segloss run configuration (identity.task, loss, seed, fold, learningRate, iterations and epochs are needed)');
  }
  return c as RunConfigFields;
}

function readStatus(runDir: string): RunStatusFields {
  const file = path.join(runDir, RUN_FILES.status);
  return existsSync(file) ? readJson<RunStatusFields>(file) : {};
}

function readLog(runDir: string): LogLine[] {
  const file = path.join(runDir, RUN_FILES.log);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, n) => {
      try {
        return JSON.parse(l) as LogLine;
      } catch {
        throw new InputError(file, `line ${n + 1} is not valid JSON`);
      }
    });
}

/** Why training stopped: the status field, else what the state and the epoch count say. */
export function stopReasonOf(status: RunStatusFields, plannedEpochs: number): string {
  if (typeof status.stopReason === 'string') return status.stopReason;
  switch (status.state) {
    case 'done':
      return (status.epoch ?? 0) >= plannedEpochs ? 'budget' : 'early-stop';
    case 'failed':
      return 'failed';
    case 'interrupted':
      return 'interrupted';
    case 'running':
      return (status.reason ?? '').startsWith('interrupted') ? 'interrupted' : 'running';
    default:
      return 'unknown';
  }
}

/** Steps, budget (the run's and its profile's), epochs and seconds of one stage (a run or a pre-training run). */
function stageTotals(
  config: RunConfigFields,
  status: RunStatusFields,
  log: LogLine[],
): { steps: number; budgetSteps: number; profileSteps: number | undefined; epochs: number; seconds: number } {
  const epochs = status.epoch ?? log.length;
  const p = config.profile;
  return {
    profileSteps: p !== undefined && Number.isInteger(p.epochs) && Number.isInteger(p.iterations) ? (p.epochs as number) * (p.iterations as number) : undefined,
    steps: status.steps ?? epochs * config.identity.iterations,
    budgetSteps: status.budgetSteps ?? config.epochs * config.identity.iterations,
    epochs,
    seconds: status.seconds ?? log.reduce((s, e) => s + (e.seconds ?? 0), 0),
  };
}

/** The run directory of a checkpoint path `<run>/checkpoint/<kind>` (or the path itself when it is a run directory). */
function runDirOfCheckpoint(p: string): string {
  return path.basename(path.dirname(p)) === RUN_FILES.checkpoints ? path.dirname(path.dirname(p)) : p;
}

/**
 * The validation score of every learning rate searched for this loss, fold and seed: the search
 * file when there is one, else the sibling runs `lr-*\/fold-k/seed-s` of the loss directory (null: failed).
 */
export function learningRateScores(runDir: string, config: RunConfigFields): LearningRateScore[] {
  const { task, loss, fold, seed } = config.identity;
  // <results>/<task>/<loss>/lr-<rate>/fold-<k>/seed-<s>
  const lossDir = path.resolve(runDir, '..', '..', '..');
  const resultsRoot = path.resolve(lossDir, '..', '..');
  const searchFile = lrSearchFile(resultsRoot, task, loss, fold, seed);
  if (existsSync(searchFile)) {
    const search = readJson<{ runs?: { learningRate: number; status: string; bestValDice: number | null }[] }>(searchFile);
    if (Array.isArray(search.runs) && search.runs.length > 0) {
      return search.runs
        .map((r) => ({ learningRate: r.learningRate, score: r.status === 'done' && typeof r.bestValDice === 'number' ? r.bestValDice : null }))
        .sort((a, b) => a.learningRate - b.learningRate);
    }
  }
  const scores: LearningRateScore[] = [];
  const replicate = path.join(`fold-${fold}`, `seed-${seed}`);
  const names = existsSync(lossDir) ? readdirSync(lossDir).filter((n) => n.startsWith('lr-')) : [];
  for (const name of names) {
    const dir = path.join(lossDir, name, replicate);
    if (!existsSync(path.join(dir, RUN_FILES.config))) continue;
    const sibling = readConfig(dir);
    const st = readStatus(dir);
    scores.push({ learningRate: sibling.identity.learningRate, score: st.state === 'done' && typeof st.bestValDice === 'number' ? st.bestValDice : null });
  }
  if (!scores.some((s) => s.learningRate === config.identity.learningRate)) {
    const st = readStatus(runDir);
    scores.push({ learningRate: config.identity.learningRate, score: st.state === 'done' && typeof st.bestValDice === 'number' ? st.bestValDice : null });
  }
  return scores.sort((a, b) => a.learningRate - b.learningRate);
}

/**
 * The provenance entry of the network of `runDir` tested with `checkpoint` (kind — when not given,
 * the run's config.json `checkpoint`, else 'best' as `predict` — and its epoch when known; for
 * `best` without a known epoch the status's bestEpoch or the log's last new best). `lrScores`: the
 * learning-rate scores when the caller knows them, else learningRateScores(runDir, …).
 */
export function buildProvenanceEntry(
  runDir: string,
  checkpoint: { kind?: CheckpointKind; epoch: number | null },
  lrScores?: LearningRateScore[],
): ProvenanceEntry {
  const config = readConfig(runDir);
  const status = readStatus(runDir);
  const log = readLog(runDir);
  const own = stageTotals(config, status, log);
  const kind = checkpoint.kind ?? config.checkpoint ?? 'best';
  let epoch = checkpoint.epoch;
  if (epoch === null) {
    if (kind === 'best') epoch = status.bestEpoch ?? [...log].reverse().find((e) => e.newBest === true)?.epoch ?? null;
    else epoch = log[log.length - 1]?.epoch ?? null;
  }
  const entry: ProvenanceEntry = {
    task: config.identity.task,
    loss: config.identity.loss,
    seed: config.identity.seed,
    fold: config.identity.fold,
    learningRate: config.identity.learningRate,
    lrScores: lrScores ?? learningRateScores(runDir, config),
    steps: own.steps,
    budgetSteps: own.budgetSteps,
    epochs: own.epochs,
    stopReason: stopReasonOf(status, config.epochs),
    checkpoint: { kind, epoch },
    seconds: own.seconds,
    ...(own.profileSteps !== undefined ? { profileSteps: own.profileSteps } : {}),
    valCurve: log.map((e) => ({ epoch: e.epoch, valDice: typeof e.valDice === 'number' ? e.valDice : null })),
  };
  const from = config.identity.pretrainFrom;
  if (typeof from === 'string' && from !== '') {
    const preDir = runDirOfCheckpoint(from);
    if (existsSync(path.join(preDir, RUN_FILES.config))) {
      const preConfig = readConfig(preDir);
      const pre = stageTotals(preConfig, readStatus(preDir), readLog(preDir));
      entry.pretrain = { loss: preConfig.identity.loss, steps: pre.steps, seconds: pre.seconds };
      entry.steps += pre.steps;
      entry.budgetSteps += pre.budgetSteps;
      if (entry.profileSteps !== undefined) {
        if (pre.profileSteps !== undefined) entry.profileSteps += pre.profileSteps;
        else delete entry.profileSteps;
      }
      entry.seconds += pre.seconds;
    }
  }
  return entry;
}
