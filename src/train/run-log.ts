/** The epoch log of a run, `log.jsonl`: one JSON object (EpochLogEntry) per finished epoch. */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { RUN_FILES } from '../util/layout.js';
import type { EpochLogEntry } from './types.js';

/** Read `<dir>/log.jsonl` (the finished epochs) of a run directory or a checkpoint. */
export function readRunLog(dir: string): EpochLogEntry[] {
  const file = path.join(dir, RUN_FILES.log);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as EpochLogEntry);
}

/** The epoch log as log.jsonl text: one JSON object per line. */
export function runLogText(log: readonly EpochLogEntry[]): string {
  return log.map((e) => JSON.stringify(e)).join('\n') + '\n';
}
