/**
 * Live progress of a running grid: for every running cell, how far its training is (epoch of
 * planned epochs, read from the run's log.jsonl, status.json and config.json) and when it should
 * end (the mean time of its finished epochs × the epochs left). Read from the files, so it works
 * for cells run by this process and costs the training nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Cell } from './grid.js';
import { RUN_FILES, formatLearningRate } from '../util/layout.js';
import { fitLine, OUTPUT_COLUMNS } from './narrow.js';

export interface CellProgress {
  cell: Cell;
  /** Epochs finished and planned (undefined: not a training, or not started). */
  epoch?: number;
  epochs?: number;
  /** Seconds until the training ends, from the mean epoch time so far. */
  etaSeconds?: number;
  /** Seconds since the cell started. */
  elapsedSeconds: number;
}

/** Finished epochs and their seconds, from a run's log.jsonl. */
function epochSeconds(runDir: string): number[] {
  const file = path.join(runDir, RUN_FILES.log);
  if (!existsSync(file)) return [];
  const seconds: number[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const entry = JSON.parse(line) as { seconds?: unknown };
      seconds.push(typeof entry.seconds === 'number' ? entry.seconds : NaN);
    } catch {
      // A line being written right now.
    }
  }
  return seconds;
}

function plannedEpochs(runDir: string): number | undefined {
  try {
    const config = JSON.parse(readFileSync(path.join(runDir, RUN_FILES.config), 'utf8')) as { epochs?: unknown };
    return typeof config.epochs === 'number' ? config.epochs : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Progress of one training run: epochs done, planned, and the ETA from the mean epoch time
 * (undefined before the first epoch ends).
 */
export function runProgress(runDir: string): { epoch: number; epochs?: number; etaSeconds?: number } {
  const seconds = epochSeconds(runDir);
  const epochs = plannedEpochs(runDir);
  const finite = seconds.filter(Number.isFinite);
  const mean = finite.length > 0 ? finite.reduce((a, b) => a + b, 0) / finite.length : undefined;
  const etaSeconds = mean !== undefined && epochs !== undefined ? Math.max(0, epochs - seconds.length) * mean : undefined;
  return { epoch: seconds.length, ...(epochs !== undefined ? { epochs } : {}), ...(etaSeconds !== undefined ? { etaSeconds } : {}) };
}

/** Short duration: 45 s, 12 min, 3.4 h. */
export function shortDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** A cell's short name in progress lines: `toy-liver dice 3e-3 f0/s1`, `toy-liver test dice f0/s1`, `prepare toy-liver`. */
export function shortCellName(cell: Cell): string {
  const rep = cell.seed !== undefined ? ` f${cell.fold}/s${cell.seed}` : '';
  switch (cell.kind) {
    case 'train':
      return `${cell.task} ${cell.loss} ${formatLearningRate(cell.learningRate as number)}${rep}`;
    case 'pretrain':
      return `${cell.task} pretrain ${cell.loss}${rep}`;
    case 'test':
      return `${cell.task} test ${cell.loss}${rep}`;
    case 'prepare':
      return `prepare ${cell.task}`;
    default:
      return cell.kind;
  }
}

/** One cell's part of the progress line: `toy-liver dice 3e-3 f0/s1 epoch 3/8 ETA 2 min`. */
export function describeProgress(p: CellProgress): string {
  const name = shortCellName(p.cell);
  // Whole minutes only, so that a log gets a new line when something changed, not every update.
  const minutes = Math.floor(p.elapsedSeconds / 60);
  if (p.epoch === undefined) return minutes === 0 ? name : `${name} ${minutes} min`;
  if (p.epoch === 0 && p.epochs === undefined) return `${name} starting${minutes === 0 ? '' : ` (${minutes} min)`}`;
  const epochs = p.epochs !== undefined ? `/${p.epochs}` : '';
  const eta = p.etaSeconds !== undefined ? ` ETA ${shortDuration(p.etaSeconds)}` : '';
  return `${name} epoch ${p.epoch}${epochs}${eta}`;
}

/** The whole progress line for the running cells, cut to the output width. */
export function progressLine(progress: CellProgress[], width: number = OUTPUT_COLUMNS): string {
  return fitLine(`running ${progress.length}: ${progress.map(describeProgress).join(' | ')}`, width);
}

/** Where progress lines go: a terminal gets one line rewritten in place, a log one line per change. */
export class ProgressReporter {
  private shown = '';
  constructor(
    private readonly write: (text: string) => void,
    private readonly isTTY: boolean,
    private readonly width: number = OUTPUT_COLUMNS,
  ) {}

  update(progress: CellProgress[]): void {
    if (progress.length === 0) return;
    const line = progressLine(progress, this.width);
    if (line === this.shown) return;
    this.write(this.isTTY ? `\r\x1b[K${line}` : `${line}\n`);
    this.shown = line;
  }

  /** Before any other line: a terminal's progress line is cleared (it comes back at the next update). */
  clear(): void {
    if (this.isTTY && this.shown !== '') this.write('\r\x1b[K');
    if (this.isTTY) this.shown = '';
  }
}
