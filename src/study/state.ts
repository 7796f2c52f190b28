/**
 * Where a cell stands, read from the files the cells write (so the same answer comes back for a
 * grid run locally, by a cluster, or interrupted half-way): plans.json for prepare, the run's
 * status.json for training, results.csv for tests, leaderboard.csv for the ranking; plus the
 * runner's own records (time taken, failure reasons) and lock files (cells running right now).
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Cell, GridPaths } from './grid.js';
import { readRunStatus, type RunStatus } from '../util/run-status.js';
import { benchmarkStateDirectory } from '../util/layout.js';
import { writeJsonAtomicSync } from '../util/atomic.js';
import { lockFileHolder, tryLockFile, type LockHolder } from '../util/lock.js';

export type CellStateName = 'done' | 'failed' | 'running' | 'pending';

export interface CellRecord {
  id: string;
  state: 'done' | 'failed';
  reason?: string;
  seconds: number;
  finishedAt: string;
}

export interface CellState {
  id: string;
  state: CellStateName;
  reason?: string;
  seconds?: number;
  /**
   * The failure is a result of the study: the training itself failed (NaN loss, or its pre-training
   * did) and its run's status.json says so. Such a failure is kept on re-runs, as the paper's
   * Table 3 reports it; any other failure (a killed or crashed process, a bad input) is retried.
   */
  trainingFailed?: true;
}

/** A failed cell the next run starts again: every failure except a training's own (see trainingFailed). */
export function retriedByNextRun(state: CellState): boolean {
  return state.state === 'failed' && state.trainingFailed !== true;
}

/** How the benchmark finds a cell's artifacts (the run layout belongs to training and evaluation). */
export interface ArtifactLayout {
  /** Run directories of a train or pretrain cell (status.json inside). */
  runDirs(cell: Cell): string[];
  /** A file whose existence means the cell produced its output. */
  outputFile(cell: Cell): string | undefined;
}

function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function benchmarkStateDir(paths: GridPaths): string {
  return benchmarkStateDirectory(paths.results);
}

export function cellLogPath(paths: GridPaths, id: string): string {
  return path.join(benchmarkStateDir(paths), 'logs', `${safeName(id)}.log`);
}

function recordPath(paths: GridPaths, id: string): string {
  return path.join(benchmarkStateDir(paths), 'cells', `${safeName(id)}.json`);
}

function lockPath(paths: GridPaths, id: string): string {
  return path.join(benchmarkStateDir(paths), 'locks', `${safeName(id)}.lock`);
}

export function writeCellRecord(paths: GridPaths, record: CellRecord): void {
  writeJsonAtomicSync(recordPath(paths, record.id), record);
}

export function readCellRecord(paths: GridPaths, id: string): CellRecord | undefined {
  const file = recordPath(paths, id);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CellRecord;
  } catch {
    return undefined;
  }
}

export function clearCellRecord(paths: GridPaths, id: string): void {
  rmSync(recordPath(paths, id), { force: true });
}

type LockContent = LockHolder;

/** The process holding a cell's lock, when one is alive on this host (or any lock from another host). */
export function lockHolder(paths: GridPaths, id: string): LockContent | undefined {
  return lockFileHolder(lockPath(paths, id));
}

/**
 * Take a cell's lock (../util/lock.ts: O_EXCL create, a stale lock of a dead process on this host
 * is taken over). Returns a release function, or undefined when another live process holds it.
 */
export function acquireCellLock(paths: GridPaths, id: string): (() => void) | undefined {
  const lock = tryLockFile(lockPath(paths, id));
  return 'holder' in lock ? undefined : () => lock.release();
}

function mtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** The state of one cell from artifacts, records and locks. */
export function cellState(cell: Cell, paths: GridPaths, layout: ArtifactLayout, inputsOf: (cell: Cell) => string[]): CellState {
  const record = readCellRecord(paths, cell.id);
  const lock = lockHolder(paths, cell.id);
  if (cell.kind === 'train' || cell.kind === 'pretrain') {
    const statuses = layout.runDirs(cell).map(readRunStatus).filter((s): s is RunStatus => s !== undefined);
    const seconds = statuses.reduce((sum, s) => sum + (s.seconds ?? 0), 0) || record?.seconds;
    const failed = statuses.find((s) => s.state === 'failed');
    if (failed !== undefined) return { id: cell.id, state: 'failed', reason: failed.reason ?? record?.reason, seconds, trainingFailed: true };
    if (statuses.length === layout.runDirs(cell).length && statuses.every((s) => s.state === 'done')) return { id: cell.id, state: 'done', seconds };
    if (lock !== undefined) return { id: cell.id, state: 'running', seconds };
    if (record?.state === 'failed') return { id: cell.id, state: 'failed', reason: record.reason, seconds: record.seconds };
    return { id: cell.id, state: 'pending', seconds };
  }
  if (lock !== undefined) return { id: cell.id, state: 'running' };
  const output = layout.outputFile(cell);
  if (output !== undefined && existsSync(output)) {
    // The ranking is stale when an input changed after it was written.
    const stale = cell.kind === 'rank' && inputsOf(cell).some((f) => mtime(f) > mtime(output));
    if (!stale) return { id: cell.id, state: 'done', seconds: record?.seconds };
  }
  if (record?.state === 'failed') return { id: cell.id, state: 'failed', reason: record.reason, seconds: record.seconds };
  return { id: cell.id, state: 'pending' };
}
