/**
 * From result rows to per-(task, metric) tables of per-case values, with the checks the ranking
 * needs and the N/A policy:
 *
 * - Duplicate rows (same task, loss, case, metric and label) are errors naming both rows.
 * - Every loss must have every case (and label) of every task for each metric the task has;
 *   a missing one is an error naming the loss, task, metric and case(s).
 * - N/A policy (paper footnote 10), each metric's `naPolicy` (src/eval/metric-descriptors.ts): a
 *   non-finite value counts as a constant (DSC and NSD that are N/A — no prediction, or empty
 *   reference and prediction — count as 0) or as the task's worst finite value moved by a margin
 *   (an infinite or N/A HD95 counts as the largest finite HD95 of that task over all losses, cases
 *   and labels plus 1 mm — worse than any finite value, and equal to every other infinite one; if
 *   the task has no finite HD95 at all it counts as 1 mm).
 * - Several labels per case (multi-organ): the case's value is the mean over its labels, taken
 *   after the N/A policy per label.
 */
import { InputError } from '../util/errors.js';
import { METRIC_DESCRIPTORS, METRIC_NAMES, notAvailableSubstitute, rankingValue, substituteDependsOnData } from '../eval/metric-descriptors.js';
import type { MetricName, MetricTable, ResultRow } from './types.js';

export interface CaseTables {
  tasks: string[];
  losses: string[];
  /** Metrics present for every task. */
  metricsAvailable: MetricName[];
  multiLabel: boolean;
  tables: MetricTable[];
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' });
export const naturalCompare = (a: string, b: string): number => collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);

function listSome(items: string[], max = 5): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} … (${items.length} in all)`;
}

const SEP = '\u0000';

export function buildMetricTables(rows: ResultRow[]): CaseTables {
  if (rows.length === 0) throw new InputError(undefined, 'the results contain no rows');
  const multiLabel = rows.some((r) => r.label !== undefined && r.label !== '');
  if (multiLabel) {
    // Within a task, either every row names its label or none does (a case's mean would otherwise mix the two).
    const labelled = new Map<string, ResultRow>();
    const unlabelled = new Map<string, ResultRow>();
    for (const r of rows) {
      const m = r.label !== undefined && r.label !== '' ? labelled : unlabelled;
      if (!m.has(r.task)) m.set(r.task, r);
    }
    for (const [task, row] of unlabelled) {
      const other = labelled.get(task);
      if (other !== undefined) {
        throw new InputError(row.source, `task '${task}': this row has no label but ${other.source ?? 'another row'} has one (give every row of a multi-label task its label)`);
      }
    }
  }
  // task -> metric -> loss -> "case\0label" -> row
  const index = new Map<string, Map<MetricName, Map<string, Map<string, ResultRow>>>>();
  const lossSet = new Set<string>();
  const lossesByTask = new Map<string, Set<string>>();
  for (const row of rows) {
    lossSet.add(row.loss);
    let byMetric = index.get(row.task);
    if (byMetric === undefined) index.set(row.task, (byMetric = new Map()));
    let byLoss = byMetric.get(row.metric);
    if (byLoss === undefined) byMetric.set(row.metric, (byLoss = new Map()));
    let byCase = byLoss.get(row.loss);
    if (byCase === undefined) byLoss.set(row.loss, (byCase = new Map()));
    const key = row.case + SEP + (row.label ?? '');
    const previous = byCase.get(key);
    if (previous !== undefined) {
      const what = `task=${row.task} loss=${row.loss} case=${row.case} metric=${row.metric}${row.label ? ` label=${row.label}` : ''}`;
      throw new InputError(row.source, `duplicate row ${what} (first at ${previous.source ?? 'an earlier row'})`);
    }
    byCase.set(key, row);
    let lt = lossesByTask.get(row.task);
    if (lt === undefined) lossesByTask.set(row.task, (lt = new Set()));
    lt.add(row.loss);
  }
  const tasks = [...index.keys()].sort(naturalCompare);
  const losses = [...lossSet].sort(naturalCompare);
  for (const task of tasks) {
    const present = lossesByTask.get(task) as Set<string>;
    const absent = losses.filter((l) => !present.has(l));
    if (absent.length > 0) {
      throw new InputError(undefined, `task '${task}': no rows for loss(es) ${listSome(absent)} (every loss needs every case of every task)`);
    }
  }
  const metricsAvailable = METRIC_NAMES.filter((m) => tasks.every((t) => index.get(t)?.has(m) === true));

  const tables: MetricTable[] = [];
  for (const task of tasks) {
    const byMetric = index.get(task) as Map<MetricName, Map<string, Map<string, ResultRow>>>;
    for (const descriptor of METRIC_DESCRIPTORS) {
      const metric = descriptor.name;
      const byLoss = byMetric.get(metric);
      if (byLoss === undefined) continue;
      // Union of (case, label) keys over losses; every loss must have all of them.
      const keys = new Map<string, ResultRow>();
      for (const byCase of byLoss.values()) for (const [k, r] of byCase) if (!keys.has(k)) keys.set(k, r);
      for (const loss of losses) {
        const byCase = byLoss.get(loss);
        const missing = [...keys.keys()].filter((k) => byCase === undefined || !byCase.has(k));
        if (missing.length > 0) {
          const names = missing.map((k) => {
            const r = keys.get(k) as ResultRow;
            return `${r.case}${r.label ? ` (label ${r.label})` : ''}`;
          });
          const example = keys.get(missing[0] as string) as ResultRow;
          throw new InputError(
            undefined,
            `task '${task}', metric ${metric}: loss '${loss}' has no row for case(s) ${listSome(names)} ` +
              `(other losses have them, e.g. ${example.source ?? `loss ${example.loss}`})`,
          );
        }
      }
      const all: number[] = [];
      for (const byCase of byLoss.values()) for (const r of byCase.values()) all.push(r.value);
      const substitute = notAvailableSubstitute(descriptor, all);
      const cases = [...new Set([...keys.values()].map((r) => r.case))].sort(naturalCompare);
      const caseIndex = new Map(cases.map((c, i) => [c, i]));
      const values: number[][] = [];
      const naCounts: number[] = [];
      for (const loss of losses) {
        const sums = new Float64Array(cases.length);
        const counts = new Float64Array(cases.length);
        let na = 0;
        for (const r of (byLoss.get(loss) as Map<string, ResultRow>).values()) {
          const c = caseIndex.get(r.case) as number;
          if (!Number.isFinite(r.value)) na++;
          sums[c] = (sums[c] as number) + rankingValue(r.value, substitute);
          counts[c] = (counts[c] as number) + 1;
        }
        values.push(Array.from(sums, (s, i) => s / (counts[i] as number)));
        naCounts.push(na);
      }
      const table: MetricTable = { task, metric, cases, values, naCounts };
      if (substituteDependsOnData(descriptor)) table.substitute = substitute;
      tables.push(table);
    }
    // The bootstrap resamples a task's cases for all metrics at once: their case sets must agree.
    const ofTask = tables.filter((t) => t.task === task);
    const first = ofTask[0] as MetricTable;
    for (const t of ofTask.slice(1)) {
      const other = new Set(t.cases);
      const onlyFirst = first.cases.filter((c) => !other.has(c));
      const mine = new Set(first.cases);
      const onlyThis = t.cases.filter((c) => !mine.has(c));
      if (onlyFirst.length > 0 || onlyThis.length > 0) {
        const [m, cs] = onlyFirst.length > 0 ? [t.metric, onlyFirst] : [first.metric, onlyThis];
        throw new InputError(undefined, `task '${task}': no ${m} rows for case(s) ${listSome(cs)} that have other metrics`);
      }
    }
  }
  return { tasks, losses, metricsAvailable, multiLabel, tables };
}
