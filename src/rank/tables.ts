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
 * - Replicates (rows that differ only in seed/fold; ./replicates.ts): every loss of a task must have
 *   the same replicates, each for every case and label. The N/A policy applies to each replicate's
 *   value (the HD95 substitute is the task's over all replicates), then the mean over the loss's
 *   replicates per case and label is taken, then the mean over labels. One replicate: unchanged.
 */
import { InputError } from '../util/errors.js';
import { METRIC_DESCRIPTORS, METRIC_NAMES, notAvailableSubstitute, rankingValue, substituteDependsOnData } from '../eval/metric-descriptors.js';
import { printable } from '../util/text.js';
import { compareReplicates, replicateKey, replicateOf, replicateText } from './replicates.js';
import type { MetricName, MetricTable, Replicate, ResultRow } from './types.js';

export interface CaseTables {
  tasks: string[];
  losses: string[];
  /** Metrics present for every task. */
  metricsAvailable: MetricName[];
  multiLabel: boolean;
  tables: MetricTable[];
  /** Per task, sorted: the replicates (seed, fold) every loss has. */
  replicates: Record<string, Replicate[]>;
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
        throw new InputError(row.source, `task '${printable(task)}': this row has no label but ${other.source ?? 'another row'} has one (give every row of a multi-label task its label)`);
      }
    }
  }
  // task -> metric -> loss -> "case\0label" -> replicate key -> row
  const index = new Map<string, Map<MetricName, Map<string, Map<string, Map<string, ResultRow>>>>>();
  const lossSet = new Set<string>();
  const lossesByTask = new Map<string, Set<string>>();
  // task -> loss -> replicate key -> first row (for the replicate-set check)
  const replicatesByTaskLoss = new Map<string, Map<string, Map<string, ResultRow>>>();
  for (const row of rows) {
    lossSet.add(row.loss);
    let byMetric = index.get(row.task);
    if (byMetric === undefined) index.set(row.task, (byMetric = new Map()));
    let byLoss = byMetric.get(row.metric);
    if (byLoss === undefined) byMetric.set(row.metric, (byLoss = new Map()));
    let byCase = byLoss.get(row.loss);
    if (byCase === undefined) byLoss.set(row.loss, (byCase = new Map()));
    const key = row.case + SEP + (row.label ?? '');
    let byReplicate = byCase.get(key);
    if (byReplicate === undefined) byCase.set(key, (byReplicate = new Map()));
    const rKey = replicateKey(replicateOf(row));
    const previous = byReplicate.get(rKey);
    if (previous !== undefined) {
      const what =
        `task=${printable(row.task)} loss=${printable(row.loss)} case=${printable(row.case)} metric=${row.metric}` +
        `${row.label ? ` label=${printable(row.label)}` : ''}${row.seed !== undefined ? ` seed=${row.seed}` : ''}${row.fold !== undefined ? ` fold=${row.fold}` : ''}`;
      throw new InputError(row.source, `duplicate row ${what} (first at ${previous.source ?? 'an earlier row'})`);
    }
    byReplicate.set(rKey, row);
    let lt = lossesByTask.get(row.task);
    if (lt === undefined) lossesByTask.set(row.task, (lt = new Set()));
    lt.add(row.loss);
    let rt = replicatesByTaskLoss.get(row.task);
    if (rt === undefined) replicatesByTaskLoss.set(row.task, (rt = new Map()));
    let rl = rt.get(row.loss);
    if (rl === undefined) rt.set(row.loss, (rl = new Map()));
    if (!rl.has(rKey)) rl.set(rKey, row);
  }
  const tasks = [...index.keys()].sort(naturalCompare);
  const losses = [...lossSet].sort(naturalCompare);
  for (const task of tasks) {
    const present = lossesByTask.get(task) as Set<string>;
    const absent = losses.filter((l) => !present.has(l));
    if (absent.length > 0) {
      throw new InputError(undefined, `task '${printable(task)}': no rows for loss(es) ${listSome(absent.map((l) => printable(l)))} (every loss needs every case of every task)`);
    }
  }
  // Every loss of a task must have the same replicates (the replicate mean compares like with like).
  const replicates: Record<string, Replicate[]> = {};
  const replicateIndex = new Map<string, Map<string, number>>();
  for (const task of tasks) {
    const byLoss = replicatesByTaskLoss.get(task) as Map<string, Map<string, ResultRow>>;
    const all = new Map<string, ResultRow>();
    for (const l of losses) for (const [k, r] of byLoss.get(l) as Map<string, ResultRow>) if (!all.has(k)) all.set(k, r);
    for (const loss of losses) {
      const mine = byLoss.get(loss) as Map<string, ResultRow>;
      const missing = [...all.entries()].filter(([k]) => !mine.has(k)).map(([, r]) => r);
      if (missing.length > 0) {
        const names = missing.map((r) => replicateText(replicateOf(r))).sort();
        throw new InputError(
          undefined,
          `task '${printable(task)}': loss '${printable(loss)}' has no rows for replicate(s) ${listSome(names)} ` +
            `(every loss of a task needs the same seeds/folds; other losses have them, e.g. ${(missing[0] as ResultRow).source ?? `loss ${printable((missing[0] as ResultRow).loss)}`})`,
        );
      }
    }
    const sorted = [...all.values()].map(replicateOf).sort(compareReplicates);
    replicates[task] = sorted;
    replicateIndex.set(task, new Map(sorted.map((r, i) => [replicateKey(r), i])));
  }
  const metricsAvailable = METRIC_NAMES.filter((m) => tasks.every((t) => index.get(t)?.has(m) === true));

  const tables: MetricTable[] = [];
  for (const task of tasks) {
    const byMetric = index.get(task) as Map<MetricName, Map<string, Map<string, Map<string, ResultRow>>>>;
    const taskReplicates = replicates[task] as Replicate[];
    const repIndex = replicateIndex.get(task) as Map<string, number>;
    const R = taskReplicates.length;
    for (const descriptor of METRIC_DESCRIPTORS) {
      const metric = descriptor.name;
      const byLoss = byMetric.get(metric);
      if (byLoss === undefined) continue;
      // Union of (case, label) keys over losses; every loss must have all of them, in every replicate.
      const keys = new Map<string, ResultRow>();
      for (const byCase of byLoss.values()) for (const [k, reps] of byCase) if (!keys.has(k)) keys.set(k, reps.values().next().value as ResultRow);
      for (const loss of losses) {
        const byCase = byLoss.get(loss);
        const missing = [...keys.keys()].filter((k) => byCase === undefined || !byCase.has(k));
        if (missing.length > 0) {
          const names = missing.map((k) => {
            const r = keys.get(k) as ResultRow;
            return `${printable(r.case)}${r.label ? ` (label ${printable(r.label)})` : ''}`;
          });
          const example = keys.get(missing[0] as string) as ResultRow;
          throw new InputError(
            undefined,
            `task '${printable(task)}', metric ${metric}: loss '${printable(loss)}' has no row for case(s) ${listSome(names)} ` +
              `(other losses have them, e.g. ${example.source ?? `loss ${printable(example.loss)}`})`,
          );
        }
        for (const [k, reps] of byCase as Map<string, Map<string, ResultRow>>) {
          if (reps.size === R) continue;
          const r = keys.get(k) as ResultRow;
          const absent = taskReplicates.filter((x) => !reps.has(replicateKey(x))).map(replicateText);
          throw new InputError(
            undefined,
            `task '${printable(task)}', metric ${metric}: loss '${printable(loss)}', case ${printable(r.case)}${r.label ? ` (label ${printable(r.label)})` : ''} ` +
              `has no row for replicate(s) ${listSome(absent)} (the loss has rows for them elsewhere)`,
          );
        }
      }
      const all: number[] = [];
      for (const byCase of byLoss.values()) for (const reps of byCase.values()) for (const r of reps.values()) all.push(r.value);
      const substitute = notAvailableSubstitute(descriptor, all);
      const cases = [...new Set([...keys.values()].map((r) => r.case))].sort(naturalCompare);
      const caseIndex = new Map(cases.map((c, i) => [c, i]));
      const values: number[][] = [];
      const replicateValues: number[][][] = [];
      const naCounts: number[] = [];
      for (const loss of losses) {
        // Per (case, label): N/A policy per replicate, then the mean over replicates; per case: mean over labels.
        const sums = new Float64Array(cases.length);
        const counts = new Float64Array(cases.length);
        const repSums = Array.from({ length: R }, () => new Float64Array(cases.length));
        let na = 0;
        for (const reps of (byLoss.get(loss) as Map<string, Map<string, ResultRow>>).values()) {
          let c = -1;
          let repTotal = 0;
          for (const [rKey, r] of reps) {
            c = caseIndex.get(r.case) as number;
            if (!Number.isFinite(r.value)) na++;
            const v = rankingValue(r.value, substitute);
            repTotal += v;
            const rs = repSums[repIndex.get(rKey) as number] as Float64Array;
            rs[c] = (rs[c] as number) + v;
          }
          sums[c] = (sums[c] as number) + repTotal / R;
          counts[c] = (counts[c] as number) + 1;
        }
        values.push(Array.from(sums, (s, i) => s / (counts[i] as number)));
        replicateValues.push(repSums.map((rs) => Array.from(rs, (s, i) => s / (counts[i] as number))));
        naCounts.push(na);
      }
      const table: MetricTable = { task, metric, cases, values, naCounts, replicateValues };
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
        throw new InputError(undefined, `task '${printable(task)}': no ${m} rows for case(s) ${listSome(cs.map((c) => printable(c)))} that have other metrics`);
      }
    }
  }
  return { tasks, losses, metricsAvailable, multiLabel, tables, replicates };
}
