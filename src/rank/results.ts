/**
 * Reading per-case results in the long format `task,loss,case,metric,value` (what
 * `segloss evaluate` writes as results.csv; the format challengeR reads), with an optional
 * `label` column for multi-label tasks and optional integer `seed` and `fold` columns (which
 * trained network the row comes from; rows differing only in seed/fold are replicates,
 * docs/ranking.md "Replicates"). Other extra columns are ignored.
 *
 * Per-row checks (errors name `file:line`): the five columns exist, the metric is one of
 * src/eval/metric-descriptors.ts, value is a number, `nan`, `inf` (or empty = N/A) within the
 * metric's bounds (DSC/NSD within [0, 1] or N/A, HD95 ≥ 0 or N/A/inf), no duplicate (task, loss,
 * case, metric[, label][, seed, fold]), no record with more fields than the header. Echoed cell
 * values are cut and escaped (`printable`, src/util/text.ts) so a message stays one short line.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { InputError, errorMessage } from '../util/errors.js';
import { printable } from '../util/text.js';
import { parseCsv } from './csv.js';
import { isMetricName, isValidValue, metricDescriptor, METRIC_NAMES, validRangeText } from '../eval/metric-descriptors.js';
import type { ResultRow } from './types.js';

export const RESULTS_FILE_NAME = 'results.csv';
const REQUIRED_COLUMNS = ['task', 'loss', 'case', 'metric', 'value'] as const;

/** Parse a value cell: numbers, `nan`/`na`/empty (N/A), `inf`/`infinity` (any case, optional sign). */
export function parseValue(raw: string): number | undefined {
  const t = raw.trim().toLowerCase();
  if (t === '' || t === 'nan' || t === 'na' || t === 'n/a' || t === 'none' || t === 'null') return NaN;
  if (t === 'inf' || t === '+inf' || t === 'infinity' || t === '+infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

/** An optional integer column (`seed`, `fold`): empty = absent; anything else must be an integer. */
function parseIntegerCell(raw: string, name: string, file: string, where: string): number | undefined {
  const t = raw.trim();
  if (t === '') return undefined;
  if (!/^[+-]?\d+$/.test(t) || !Number.isSafeInteger(Number(t))) {
    throw new InputError(file, `${where}: ${name} '${printable(t)}' is not an integer`);
  }
  return Number(t);
}

/** Rows of one results CSV file. */
export function parseResultsCsv(text: string, file: string): ResultRow[] {
  let records;
  try {
    records = parseCsv(text);
  } catch (err) {
    throw new InputError(file, errorMessage(err));
  }
  const headerRecord = records[0];
  if (headerRecord === undefined) throw new InputError(file, `empty file (expected the header ${REQUIRED_COLUMNS.join(',')})`);
  const header = headerRecord.fields.map((h) => h.trim().toLowerCase());
  const column = (name: string) => header.indexOf(name);
  const missing = REQUIRED_COLUMNS.filter((c) => column(c) < 0);
  if (missing.length > 0) {
    throw new InputError(file, `line ${headerRecord.line}: missing column(s) ${missing.join(', ')} (expected header task,loss,case,metric,value[,label])`);
  }
  const [iTask, iLoss, iCase, iMetric, iValue] = REQUIRED_COLUMNS.map(column) as [number, number, number, number, number];
  const iLabel = column('label');
  const iSeed = column('seed');
  const iFold = column('fold');
  if (records.length === 1) throw new InputError(file, `no data rows (only the header on line ${headerRecord.line})`);
  const rows: ResultRow[] = [];
  for (const rec of records.slice(1)) {
    const where = `line ${rec.line}`;
    if (rec.fields.length !== header.length) {
      throw new InputError(file, `${where}: ${rec.fields.length} field(s), the header has ${header.length}`);
    }
    const cell = (i: number) => (rec.fields[i] as string).trim();
    const task = cell(iTask);
    const loss = cell(iLoss);
    const caseId = cell(iCase);
    for (const [name, v] of [['task', task], ['loss', loss], ['case', caseId]] as const) {
      if (v === '') throw new InputError(file, `${where}: empty ${name}`);
    }
    const metric = cell(iMetric).toLowerCase();
    if (!isMetricName(metric)) throw new InputError(file, `${where}: unknown metric '${printable(cell(iMetric))}' (expected one of ${METRIC_NAMES.join(', ')})`);
    const value = parseValue(cell(iValue));
    if (value === undefined) throw new InputError(file, `${where}: value '${printable(cell(iValue))}' is not a number, nan or inf`);
    const descriptor = metricDescriptor(metric);
    if (!isValidValue(descriptor, value)) throw new InputError(file, `${where}: ${metric} must be ${validRangeText(descriptor)} (got ${printable(cell(iValue))})`);
    const row: ResultRow = { task, loss, case: caseId, metric, value, source: `${file}:${rec.line}` };
    if (iLabel >= 0) row.label = cell(iLabel);
    const seed = iSeed >= 0 ? parseIntegerCell(cell(iSeed), 'seed', file, where) : undefined;
    const fold = iFold >= 0 ? parseIntegerCell(cell(iFold), 'fold', file, where) : undefined;
    if (seed !== undefined) row.seed = seed;
    if (fold !== undefined) row.fold = fold;
    rows.push(row);
  }
  return rows;
}

/** Every results.csv below a directory (recursively, sorted, hidden folders skipped). */
function findResultsFiles(dir: string): string[] {
  const found: string[] = [];
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!e.name.startsWith('.')) found.push(...findResultsFiles(p));
    } else if (e.isFile() && e.name === RESULTS_FILE_NAME) {
      found.push(p);
    }
  }
  return found;
}

/** Expand the inputs (CSV files, or directories searched recursively for results.csv) to files. */
export function resolveResultsFiles(inputs: string[]): string[] {
  const files: string[] = [];
  for (const input of inputs) {
    let isDir: boolean;
    try {
      isDir = statSync(input).isDirectory();
    } catch {
      throw new InputError(input, 'no such file or directory');
    }
    if (isDir) {
      const found = findResultsFiles(input);
      if (found.length === 0) throw new InputError(input, `no ${RESULTS_FILE_NAME} found in this directory or below`);
      files.push(...found);
    } else {
      files.push(input);
    }
  }
  return [...new Set(files.map((f) => path.resolve(f)))].map((f) => path.relative(process.cwd(), f) || f);
}

/**
 * Read result rows from CSV files and/or run/evaluation directories (each searched recursively
 * for `results.csv`). Row-level problems raise InputError naming `file:line`; duplicates across
 * files are detected later by `buildMetricTables`.
 */
export function readResultsCsv(files: string[]): ResultRow[] {
  if (files.length === 0) throw new InputError(undefined, 'no results given');
  const rows: ResultRow[] = [];
  for (const file of resolveResultsFiles(files)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new InputError(file, `cannot read: ${errorMessage(err)}`);
    }
    rows.push(...parseResultsCsv(text, file));
  }
  return rows;
}
