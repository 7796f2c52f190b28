/**
 * Per-label means for the report's per-label view of multi-label tasks: the ranking itself works
 * on each case's mean over its labels (tables.ts), so the labels are summarised here from the
 * result rows, with the same N/A policy (a metric's substitute computed over the whole task, as
 * tables.ts does), averaged over cases and replicates.
 */
import { metricDescriptor, notAvailableSubstitute, rankingValue } from '../eval/metric-descriptors.js';
import { naturalCompare } from './tables.js';
import type { LabelMean, MetricName, ResultRow } from './types.js';

/** One LabelMean per task × metric × label × loss of the labelled rows, sorted by task, metric, label, loss. */
export function labelMeans(rows: readonly ResultRow[]): LabelMean[] {
  const SEP = '\u0000';
  const taskValues = new Map<string, number[]>();
  const groups = new Map<string, { task: string; metric: MetricName; label: string; loss: string; values: number[] }>();
  for (const r of rows) {
    if (r.label === undefined || r.label === '') continue;
    const tm = r.task + SEP + r.metric;
    let all = taskValues.get(tm);
    if (all === undefined) taskValues.set(tm, (all = []));
    all.push(r.value);
    const key = [r.task, r.metric, r.label, r.loss].join(SEP);
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { task: r.task, metric: r.metric, label: r.label, loss: r.loss, values: [] }));
    g.values.push(r.value);
  }
  const out: LabelMean[] = [];
  for (const g of groups.values()) {
    const substitute = notAvailableSubstitute(metricDescriptor(g.metric), taskValues.get(g.task + SEP + g.metric) as number[]);
    const sum = g.values.reduce((s, v) => s + rankingValue(v, substitute), 0);
    out.push({ task: g.task, metric: g.metric, label: g.label, loss: g.loss, mean: sum / g.values.length, n: g.values.length });
  }
  return out.sort((a, b) => naturalCompare(a.task, b.task) || naturalCompare(a.metric, b.metric) || naturalCompare(a.label, b.label) || naturalCompare(a.loss, b.loss));
}
