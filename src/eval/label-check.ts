/**
 * The label values a reference or a prediction may contain: 0 (background) and the declared
 * foreground labels — the plan's (`--split`), `--labels`, or else those found in the references.
 * Anything else (a negative value, an undeclared class, a huge stray value) is an input error
 * naming the file and a few of the values, found in one pass over the voxels before any per-label
 * table is sized from them. (Non-integer and non-finite values are already refused when the file
 * is read as a label map, src/data/nifti.ts.)
 */
import { InputError } from '../util/errors.js';
import type { LabelData } from './surface.js';

/** The foreground labels a volume may contain besides 0, and where they were declared (for messages). */
export interface DeclaredLabels {
  /** Positive integers, ascending. */
  values: number[];
  /** e.g. `--labels`, `the plan (…/plans.json)`. */
  source: string;
}

/** Values beyond this are never looked up in a dense table (a declared label may be large). */
const DENSE_LIMIT = 65535;
/** How many distinct offending values are collected (the message shows the smallest few). */
const COLLECT = 1000;
const SHOWN = 5;

export interface UndeclaredValues {
  /** Distinct offending values, ascending (at most COLLECT of them). */
  values: number[];
  /** Whether there were more distinct offending values than collected. */
  more: boolean;
  /** Number of voxels with an offending value. */
  voxels: number;
}

/** The values of `data` that are neither 0 nor in `declared`. */
export function undeclaredValues(data: LabelData, declared: readonly number[]): UndeclaredValues {
  const found = new Set<number>();
  let voxels = 0;
  let more = false;
  const allowedMax = Math.min(DENSE_LIMIT, declared.reduce((m, v) => Math.max(m, v), 0));
  const dense = new Uint8Array(allowedMax + 1);
  dense[0] = 1;
  const sparse = new Set<number>();
  for (const v of declared) if (v <= DENSE_LIMIT) dense[v] = 1; else sparse.add(v);
  const note = (v: number, count: number) => {
    voxels += count;
    if (found.has(v)) return;
    if (found.size < COLLECT) found.add(v);
    else more = true;
  };
  if (data instanceof Uint8Array) {
    const histogram = new Float64Array(256);
    for (let i = 0; i < data.length; i++) histogram[data[i] as number]++;
    for (let v = 0; v < 256; v++) if ((histogram[v] as number) > 0 && !(v <= allowedMax && dense[v] === 1) && !sparse.has(v)) note(v, histogram[v] as number);
  } else {
    for (let i = 0; i < data.length; i++) {
      const v = data[i] as number;
      if (v >= 0 && v <= allowedMax && dense[v] === 1) continue;
      if (sparse.has(v)) continue;
      note(v, 1);
    }
  }
  return { values: [...found].sort((a, b) => a - b), more, voxels };
}

/** "7, 300" or "-1, 7, 300, 1000, 2000 … (12 distinct values)". */
export function listValues(u: UndeclaredValues): string {
  const shown = u.values.slice(0, SHOWN).join(', ');
  if (u.values.length <= SHOWN && !u.more) return shown;
  return `${shown} … (${u.more ? `more than ${u.values.length}` : u.values.length} distinct values)`;
}

/** Throw an InputError naming `file` when it holds values other than 0 and the declared labels. */
export function checkDeclaredLabels(file: string, role: 'reference' | 'prediction', caseId: string, data: LabelData, declared: DeclaredLabels): void {
  const u = undeclaredValues(data, declared.values);
  if (u.voxels === 0) return;
  throw new InputError(
    file,
    `case ${caseId}: ${role} label value(s) ${listValues(u)} in ${u.voxels} voxel(s) are not declared ` +
      `(declared: 0 = background, ${declared.values.join(', ')}; from ${declared.source})`,
  );
}
