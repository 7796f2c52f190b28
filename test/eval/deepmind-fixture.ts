/** The DeepMind surface-distance reference cases (../shared/fixtures/metrics) and comparison helpers for the eval tests. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SHARED } from '../helpers.js';
import type { Vec3 } from '../../src/util/vec3.js';

export type Num = number | string;

export interface FixtureCase {
  name: string;
  /** C-order (last axis fastest) array shape and spacing. */
  shape: Vec3;
  spacing_mm: Vec3;
  /** Run-length encoded masks: start, length, start, length, … over the flattened C-order array. */
  gt_runs: number[];
  pred_runs: number[];
  expected: { dsc: Num; nsd_tau1mm: Num; hd95_mm: Num };
  diagnostics: Record<string, Num>;
}

export const FIXTURE_CASES: FixtureCase[] = (
  JSON.parse(readFileSync(path.join(SHARED, 'fixtures', 'metrics', 'deepmind-reference.json'), 'utf8')) as { cases: FixtureCase[] }
).cases;

/** A fixture number: JSON numbers, or the strings 'inf', '-inf' and 'nan'. */
export function num(v: Num): number {
  if (typeof v === 'number') return v;
  return v === 'inf' ? Infinity : v === '-inf' ? -Infinity : NaN;
}

/** Decode run-length encoded mask runs into n voxels with value `label`. */
export function decodeRuns(runs: number[], n: number, label = 1): Uint8Array {
  const m = new Uint8Array(n);
  for (let r = 0; r < runs.length; r += 2) m.fill(label, runs[r] as number, (runs[r] as number) + (runs[r + 1] as number));
  return m;
}

/** |a − b| ≤ rel·|b| + abs, with inf/NaN equal only to themselves. */
export function close(actual: number, expected: number, rel: number, abs = 1e-12): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (!Number.isFinite(expected)) return actual === expected;
  return Math.abs(actual - expected) <= rel * Math.abs(expected) + abs;
}
