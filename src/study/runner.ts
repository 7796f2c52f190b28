/**
 * Local execution of a benchmark grid: cells run as child processes of the exact
 * `segloss` commands, up to `jobs` at a time, in dependency order. Finished cells are skipped on a
 * re-run, interrupted training resumes from its checkpoint (training does that itself), and a
 * lock file per cell keeps two processes from running the same cell.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Cell, GridPaths } from './grid.js';
import { acquireCellLock, cellLogPath, cellState, clearCellRecord, retriedByNextRun, writeCellRecord, type ArtifactLayout, type CellState } from './state.js';
import { interruptRequested, onInterrupt } from '../util/interrupt.js';
import { PACKAGE_ROOT } from '../util/paths.js';

export const SEGLOSS_BIN = path.join(PACKAGE_ROOT, 'bin', 'segloss.js');

export interface RunnerEvent {
  cell: Cell;
  state: CellState;
  /** Cells finished so far (including skipped ones) and the total. */
  finished: number;
  total: number;
}

export interface RunnerOptions {
  jobs: number;
  paths: GridPaths;
  layout: ArtifactLayout;
  inputsOf: (cell: Cell) => string[];
  /**
   * Re-run trainings that failed in an earlier run (default: keep their failure, as the study does).
   * Cells that failed for any other reason (a killed or crashed process) are always run again.
   */
  retryFailed: boolean;
  onEvent?: (event: RunnerEvent) => void;
  /** Called every `progressIntervalMs` (default 5000) while cells run, with the running cells and when each started. */
  onProgress?: (running: { cell: Cell; startedAt: number }[]) => void;
  progressIntervalMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface RunnerResult {
  states: Map<string, CellState>;
  interrupted: boolean;
  seconds: number;
}

/** Run one segloss command as a child process, output appended to `log`. Resolves to its exit code. */
function runCommand(args: string[], log: string, env: NodeJS.ProcessEnv | undefined): Promise<number> {
  return new Promise((resolve) => {
    mkdirSync(path.dirname(log), { recursive: true });
    const out = createWriteStream(log, { flags: 'a' });
    out.write(`$ segloss ${args.join(' ')}\n`);
    const child = spawn(process.execPath, [SEGLOSS_BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // A stop request reaches the cell too (a terminal's Ctrl-C does that by itself; `kill` or a
    // scheduler's SIGTERM reaches only this process): training then checkpoints and exits 130.
    const unsubscribe = onInterrupt((signal) => child.kill(signal));
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('close', (code, signal) => {
      unsubscribe();
      out.end(`[exit ${code ?? signal}]\n`);
      resolve(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 130 : 1));
    });
  });
}

/** Last non-empty line of a cell's log that looks like an error, for the failure reason. */
async function failureReason(log: string): Promise<string> {
  const { readFileSync } = await import('node:fs');
  const lines = readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('segloss: '));
  return (lines.at(-1) ?? 'failed (see log)').replace(/^segloss: /, '');
}

export async function runGrid(cells: Cell[], options: RunnerOptions): Promise<RunnerResult> {
  const started = Date.now();
  // Parallel cells share the cores: one WebAssembly thread each (the backend would otherwise
  // decide from the load at its start, and two threaded cells on two cores slow each other down).
  const env: NodeJS.ProcessEnv = { ...options.env };
  if (options.jobs > 1 && process.env['SEGLOSS_WASM_THREADS'] === undefined && env['SEGLOSS_WASM_THREADS'] === undefined) env['SEGLOSS_WASM_THREADS'] = '1';
  const states = new Map<string, CellState>();
  for (const cell of cells) {
    let state = cellState(cell, options.paths, options.layout, options.inputsOf);
    if (retriedByNextRun(state) || (state.state === 'failed' && options.retryFailed)) {
      clearCellRecord(options.paths, cell.id);
      state = { id: cell.id, state: 'pending' };
    }
    states.set(cell.id, state);
  }
  const total = cells.length;
  let finished = cells.filter((c) => ['done', 'failed'].includes(states.get(c.id)?.state as string)).length;
  for (const cell of cells) {
    const s = states.get(cell.id) as CellState;
    if (s.state === 'done' || s.state === 'failed') options.onEvent?.({ cell, state: s, finished, total });
  }
  const running = new Map<string, Promise<void>>();
  const startedAt = new Map<string, number>();
  const byId = new Map(cells.map((c) => [c.id, c]));
  const ticker =
    options.onProgress === undefined
      ? undefined
      : setInterval(() => {
          if (running.size > 0) options.onProgress?.([...running.keys()].map((id) => ({ cell: byId.get(id) as Cell, startedAt: startedAt.get(id) ?? Date.now() })));
        }, options.progressIntervalMs ?? 5000);
  ticker?.unref();
  const waitingOnOthers = new Set<string>();

  const isFinal = (id: string) => ['done', 'failed'].includes(states.get(id)?.state as string);
  // Test and rank cells run after failed dependencies too: a diverged training is scored as N/A.
  const toleratesFailure = (cell: Cell) => cell.kind === 'test' || cell.kind === 'rank';

  const runCell = async (cell: Cell, release: () => void): Promise<void> => {
    const log = cellLogPath(options.paths, cell.id);
    const t0 = Date.now();
    let failed: string | undefined;
    let interrupted = false;
    for (const args of cell.commands) {
      const code = await runCommand(args, log, env);
      if (code === 130) {
        interrupted = true;
        break;
      }
      if (code !== 0) {
        failed = await failureReason(log);
        if (!cell.continueOnFailure) break;
      }
    }
    release();
    const seconds = (Date.now() - t0) / 1000;
    if (interrupted) {
      states.set(cell.id, { id: cell.id, state: 'pending' });
      return;
    }
    // Artifacts decide; a test cell whose prediction failed but whose evaluation succeeded is done.
    let state = cellState(cell, options.paths, options.layout, options.inputsOf);
    if (state.state !== 'done' && state.state !== 'failed') state = { id: cell.id, state: 'failed', reason: failed ?? 'produced no output (see log)' };
    writeCellRecord(options.paths, { id: cell.id, state: state.state as 'done' | 'failed', reason: state.reason, seconds, finishedAt: new Date().toISOString() });
    state = { ...state, seconds: state.seconds ?? seconds };
    states.set(cell.id, state);
    finished += 1;
    options.onEvent?.({ cell, state, finished, total });
  };

  for (;;) {
    if (!interruptRequested()) {
      for (const cell of cells) {
        if (running.size >= options.jobs) break;
        if (states.get(cell.id)?.state !== 'pending' || running.has(cell.id)) continue;
        const deps = cell.dependsOn.filter((d) => states.has(d));
        if (!deps.every(isFinal)) continue;
        const failedDep = deps.find((d) => states.get(d)?.state === 'failed');
        if (failedDep !== undefined && !toleratesFailure(cell)) {
          const state: CellState = { id: cell.id, state: 'failed', reason: `${failedDep} failed` };
          states.set(cell.id, state);
          writeCellRecord(options.paths, { id: cell.id, state: 'failed', reason: state.reason, seconds: 0, finishedAt: new Date().toISOString() });
          finished += 1;
          options.onEvent?.({ cell, state, finished, total });
          continue;
        }
        const release = acquireCellLock(options.paths, cell.id);
        if (release === undefined) {
          waitingOnOthers.add(cell.id);
          continue;
        }
        waitingOnOthers.delete(cell.id);
        states.set(cell.id, { id: cell.id, state: 'running' });
        startedAt.set(cell.id, Date.now());
        const promise = runCell(cell, release).finally(() => running.delete(cell.id));
        running.set(cell.id, promise);
      }
    }
    if (running.size === 0) {
      if (interruptRequested() || waitingOnOthers.size === 0) break;
      // Another process holds some locks: poll until it finishes them.
      await new Promise((r) => setTimeout(r, 2000));
      for (const id of waitingOnOthers) {
        const cell = cells.find((c) => c.id === id) as Cell;
        const s = cellState(cell, options.paths, options.layout, options.inputsOf);
        if (s.state !== 'running') {
          waitingOnOthers.delete(id);
          states.set(id, s);
          if (s.state === 'done' || s.state === 'failed') finished += 1;
        }
      }
      continue;
    }
    await Promise.race(running.values());
  }
  if (ticker !== undefined) clearInterval(ticker);
  return { states, interrupted: interruptRequested(), seconds: (Date.now() - started) / 1000 };
}
