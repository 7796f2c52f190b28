/**
 * The benchmark's provenance.json per test (src/util/provenance.ts is the contract with ranking):
 * how the tested network of one replicate was trained, built from the files training wrote —
 * status.json, config.json, log.jsonl of the run at the chosen rate (and of the run it was
 * fine-tuned from) — and from the loss's lr-choice.json (./lr-choice.ts). Files of older runs may
 * lack the newer status fields (steps, budgetSteps, bestEpoch, stopReason); they are then derived
 * from the log and config.json as described at each field.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { RUN_FILES, runDirectory } from '../util/layout.js';
import { readRunStatus, type RunStatus } from '../util/run-status.js';
import type { ProvenanceEntry } from '../util/provenance.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { LrChoice } from './lr-choice.js';

/** status.json with the fields newer trainers add (CONTRACTS.md); every one may be missing. */
interface RunStatusFields extends Omit<RunStatus, 'state' | 'stopReason'> {
  state: string;
  steps?: number;
  budgetSteps?: number;
  bestEpoch?: number;
  stopReason?: string;
}

/** The parts of config.json provenance reads. */
interface RunConfigFields {
  identity?: { loss?: string; iterations?: number; pretrainFrom?: string | null };
  epochs?: number;
  checkpoint?: 'best' | 'final';
}

interface LogFields {
  epoch: number;
  valDice: number | null;
  newBest?: boolean;
}

function readJson<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function readLog(runDir: string): LogFields[] {
  const file = path.join(runDir, RUN_FILES.log);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as LogFields];
      } catch {
        return [];
      }
    });
}

/** What one run directory says about its training (steps, budget, epochs, why it stopped). */
export interface RunFacts {
  loss: string | undefined;
  steps: number;
  budgetSteps: number;
  epochs: number;
  stopReason: string;
  seconds: number;
  bestEpoch: number | null;
  lastEpoch: number | null;
  pretrainFrom: string | null;
  checkpoint: 'best' | 'final' | undefined;
  valCurve: { epoch: number; valDice: number | null }[];
}

export function runFacts(runDir: string): RunFacts {
  const status = readRunStatus(runDir) as RunStatusFields | undefined;
  const config = readJson<RunConfigFields>(path.join(runDir, RUN_FILES.config));
  const log = readLog(runDir);
  const iterations = config?.identity?.iterations ?? 0;
  const epochs = status?.epoch ?? log.length;
  const plannedEpochs = config?.epochs ?? epochs;
  // Older runs: a run that finished short of its planned epochs stopped early (the trainer's
  // early stop or learning-rate floor; which one, only newer status files say).
  const derivedStop = status === undefined ? 'missing' : status.state === 'done' ? (epochs >= plannedEpochs ? 'budget' : 'early-stop') : status.state;
  const newBest = log.filter((e) => e.newBest === true).at(-1);
  return {
    loss: config?.identity?.loss,
    steps: status?.steps ?? epochs * iterations,
    budgetSteps: status?.budgetSteps ?? plannedEpochs * iterations,
    epochs,
    stopReason: status?.stopReason ?? derivedStop,
    seconds: status?.seconds ?? 0,
    bestEpoch: status?.bestEpoch ?? newBest?.epoch ?? null,
    lastEpoch: log.at(-1)?.epoch ?? null,
    pretrainFrom: config?.identity?.pretrainFrom ?? null,
    checkpoint: config?.checkpoint,
    valCurve: log.map((e) => ({ epoch: e.epoch, valDice: typeof e.valDice === 'number' ? e.valDice : null })),
  };
}

/** The run directory of a `pretrainFrom` checkpoint path (`<run>/checkpoint/best` or `<run>`). */
export function pretrainRunDirectory(pretrainFrom: string): string {
  const suffix = path.sep + RUN_FILES.best;
  if (pretrainFrom.endsWith(suffix)) return pretrainFrom.slice(0, -suffix.length);
  const latest = path.sep + RUN_FILES.latest;
  if (pretrainFrom.endsWith(latest)) return pretrainFrom.slice(0, -latest.length);
  return pretrainFrom;
}

/**
 * The provenance of one replicate's test at the chosen rate, or undefined when no rate was chosen
 * (every run failed: nothing was tested). `checkpoint`: which weights prediction used — the flag,
 * else the run's config.json, else 'best' (prediction's default).
 */
export function buildProvenanceEntry(
  resultsRoot: string,
  choice: LrChoice,
  replicate: { seed: number; fold: number },
  checkpoint?: 'best' | 'final',
): ProvenanceEntry | undefined {
  if (choice.chosen === null) return undefined;
  const runDir = runDirectory(resultsRoot, choice.task, choice.loss, choice.chosen, replicate.fold, replicate.seed);
  const run = runFacts(runDir);
  const pretrain = run.pretrainFrom === null ? undefined : runFacts(pretrainRunDirectory(run.pretrainFrom));
  const kind = checkpoint ?? run.checkpoint ?? 'best';
  const entry: ProvenanceEntry = {
    task: choice.task,
    loss: choice.loss,
    seed: replicate.seed,
    fold: replicate.fold,
    learningRate: choice.chosen,
    lrScores: choice.rates.map((r) => ({
      learningRate: r.learningRate,
      score: r.scores.find((s) => s.seed === replicate.seed && s.fold === replicate.fold)?.score ?? null,
    })),
    steps: run.steps + (pretrain?.steps ?? 0),
    budgetSteps: run.budgetSteps + (pretrain?.budgetSteps ?? 0),
    epochs: run.epochs,
    stopReason: run.stopReason,
    checkpoint: { kind, epoch: kind === 'best' ? run.bestEpoch : run.lastEpoch },
    seconds: run.seconds + (pretrain?.seconds ?? 0),
    valCurve: run.valCurve,
  };
  if (pretrain !== undefined) entry.pretrain = { loss: pretrain.loss ?? 'unknown', steps: pretrain.steps, seconds: pretrain.seconds };
  return entry;
}

/**
 * Add `seed` and `fold` columns to a results.csv (CONTRACTS.md) unless it has them already
 * (newer `segloss evaluate` writes them itself). Returns whether the file changed.
 */
export async function addReplicateColumns(file: string, seed: number, fold: number): Promise<boolean> {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const header = (lines[0] ?? '').split(',');
  if (header.includes('seed') && header.includes('fold')) return false;
  if (header.includes('seed') || header.includes('fold')) return false;
  const out = lines.map((line, i) => (line === '' ? line : i === 0 ? `${line},seed,fold` : `${line},${seed},${fold}`));
  await writeFileAtomic(file, out.join('\n'));
  return true;
}
