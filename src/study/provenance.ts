/**
 * The benchmark's provenance.json per test (src/util/provenance.ts is the contract with ranking):
 * the one builder, buildProvenanceEntry in src/eval/provenance.ts, reads the run at the chosen
 * rate (status.json, config.json, log.jsonl, the pre-training run); the benchmark gives it the
 * learning-rate scores of the loss's lr-choice.json (./lr-choice.ts), the scores the rate was
 * chosen on.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { RUN_FILES, runDirectory } from '../util/layout.js';
import type { LearningRateScore, ProvenanceEntry } from '../util/provenance.js';
import { buildProvenanceEntry } from '../eval/provenance.js';
import type { LrChoice, Replicate } from './lr-choice.js';

/** This replicate's validation score at every rate of the choice (null: its run failed or did not finish). */
export function choiceLrScores(choice: LrChoice, replicate: Replicate): LearningRateScore[] {
  return choice.rates.map((r) => ({
    learningRate: r.learningRate,
    score: r.scores.find((s) => s.seed === replicate.seed && s.fold === replicate.fold)?.score ?? null,
  }));
}

/**
 * The provenance of one replicate's test at the chosen rate, or undefined when nothing was tested
 * (no rate chosen: every run failed; or the replicate has no run at that rate). `checkpoint`: which
 * weights prediction used — the flag, else the run's config.json, else 'best' (prediction's default).
 */
export function testProvenanceEntry(
  resultsRoot: string,
  choice: LrChoice,
  replicate: Replicate,
  checkpoint?: 'best' | 'final',
): ProvenanceEntry | undefined {
  if (choice.chosen === null) return undefined;
  const runDir = runDirectory(resultsRoot, choice.task, choice.loss, choice.chosen, replicate.fold, replicate.seed);
  if (!existsSync(path.join(runDir, RUN_FILES.config))) return undefined;
  return buildProvenanceEntry(runDir, { ...(checkpoint !== undefined ? { kind: checkpoint } : {}), epoch: null }, choiceLrScores(choice, replicate));
}
