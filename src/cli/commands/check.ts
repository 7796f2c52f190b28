/** `segloss check DIR`: validate a dataset folder and summarise it. */
import * as path from 'node:path';
import type { Command } from 'commander';
import { globalOptions } from '../context.js';
import { InputError } from '../../util/errors.js';
import { print, printJson, progressBar, formatTable } from '../../util/log.js';
import { loadDataset, inspectDataset, type CaseSummary, type Dataset, type DatasetProblem } from '../../data/dataset.js';

export interface CheckReport {
  dataset: string;
  root: string;
  layout: Dataset['layout'];
  modalities: string[];
  labels: { value: number; name: string }[];
  /** Number of valid cases (training + test). */
  cases: number;
  training: number;
  test: number;
  problems: DatasetProblem[];
  shapes: { min: number[]; median: number[]; max: number[] } | null;
  spacingsMm: { min: number[]; median: number[]; max: number[] } | null;
  orientations: Record<string, number>;
  /** Per channel over all valid cases. */
  intensity: { channel: number; modality: string; min: number; max: number }[];
  /** Per declared label over valid training cases; bgToFg = (all voxels − label voxels) / label voxels. */
  labelVoxels: { value: number; name: string; voxels: number; cases: number; bgToFg: number | null }[];
  /** All foreground labels together. */
  foregroundBgToFg: number | null;
  perCase: CaseSummary[];
}

function stats(rows: number[][]): { min: number[]; median: number[]; max: number[] } | null {
  if (rows.length === 0) return null;
  const dims = (rows[0] as number[]).length;
  const col = (d: number) => rows.map((r) => r[d] as number).sort((a, b) => a - b);
  const pick = (f: (xs: number[]) => number) => Array.from({ length: dims }, (_, d) => f(col(d)));
  return {
    min: pick((xs) => xs[0] as number),
    median: pick((xs) => {
      const m = xs.length >> 1;
      return xs.length % 2 ? (xs[m] as number) : ((xs[m - 1] as number) + (xs[m] as number)) / 2;
    }),
    max: pick((xs) => xs[xs.length - 1] as number),
  };
}

export function buildReport(ds: Dataset, problems: DatasetProblem[], cases: CaseSummary[]): CheckReport {
  const orientations: Record<string, number> = {};
  for (const c of cases) orientations[c.orientation] = (orientations[c.orientation] ?? 0) + 1;
  const channels = Math.max(0, ...cases.map((c) => c.intensityRange.length));
  const intensity = Array.from({ length: channels }, (_, ch) => ({
    channel: ch,
    modality: ds.modalities[ch] ?? '?',
    min: Math.min(...cases.map((c) => c.intensityRange[ch]?.[0] ?? Infinity)),
    max: Math.max(...cases.map((c) => c.intensityRange[ch]?.[1] ?? -Infinity)),
  }));
  const labelled = cases.filter((c) => c.labelCounts !== undefined);
  const totalVoxels = labelled.reduce((s, c) => s + Object.values(c.labelCounts ?? {}).reduce((a, b) => a + b, 0), 0);
  const ratio = (fg: number) => (fg > 0 ? Number(((totalVoxels - fg) / fg).toFixed(1)) : null);
  const labelVoxels = ds.labels.map((l) => {
    const voxels = labelled.reduce((s, c) => s + (c.labelCounts?.[String(l.value)] ?? 0), 0);
    const present = labelled.filter((c) => (c.labelCounts?.[String(l.value)] ?? 0) > 0).length;
    return { value: l.value, name: l.name, voxels, cases: present, bgToFg: l.value === 0 ? null : ratio(voxels) };
  });
  const fg = labelVoxels.filter((l) => l.value !== 0).reduce((s, l) => s + l.voxels, 0);
  return {
    dataset: ds.name,
    root: ds.root,
    layout: ds.layout,
    modalities: ds.modalities,
    labels: ds.labels,
    cases: cases.length,
    training: ds.training.length,
    test: ds.test.length,
    problems,
    shapes: stats(cases.map((c) => c.shape)),
    spacingsMm: stats(cases.map((c) => c.spacingMm)),
    orientations,
    intensity,
    labelVoxels,
    foregroundBgToFg: ratio(fg),
    perCase: cases,
  };
}

const vec = (xs: number[]) => xs.map((x) => Number(x.toPrecision(4))).join('x');

function printReport(r: CheckReport): void {
  print(`dataset      ${r.dataset} (${r.layout === 'msd' ? 'MSD' : 'nnU-Net v2'} layout) at ${r.root}`);
  print(`cases        ${r.training} training, ${r.test} test; ${r.cases} valid`);
  print(`channels     ${r.modalities.map((m, i) => `${i}: ${m}`).join(', ')}`);
  print(`labels       ${r.labels.map((l) => `${l.value} ${l.name}`).join(', ')}`);
  if (r.shapes) print(`shape        min ${vec(r.shapes.min)}, median ${vec(r.shapes.median)}, max ${vec(r.shapes.max)} voxels`);
  if (r.spacingsMm) print(`spacing      min ${vec(r.spacingsMm.min)}, median ${vec(r.spacingsMm.median)}, max ${vec(r.spacingsMm.max)} mm`);
  print(`orientation  ${Object.entries(r.orientations).map(([k, v]) => `${k} (${v})`).join(', ') || '-'}`);
  for (const i of r.intensity) print(`intensity    channel ${i.channel} (${i.modality}): ${Number(i.min.toPrecision(6))} to ${Number(i.max.toPrecision(6))}`);
  if (r.labelVoxels.some((l) => l.voxels > 0)) {
    print('');
    print(
      formatTable(
        ['label', 'name', 'cases', 'voxels', 'BG:FG'],
        r.labelVoxels.map((l) => [l.value, l.name, l.cases, l.voxels, l.bgToFg === null ? (l.value === 0 ? '-' : 'absent') : `${Math.round(l.bgToFg)}:1`]),
      ),
    );
    if (r.labelVoxels.length > 2 && r.foregroundBgToFg !== null) print(`all foreground  ${Math.round(r.foregroundBgToFg)}:1`);
  }
  print('');
  if (r.problems.length === 0) {
    print('no problems');
    return;
  }
  print(`${r.problems.length} problem(s):`);
  print(formatTable(['case', 'file', 'problem'], r.problems.map((p) => [p.case, path.relative(r.root, p.file) || p.file, p.message])));
}

export function register(program: Command): void {
  program
    .command('check')
    .description('validate a dataset folder (MSD or nnU-Net v2 layout) and summarise it; exit 2 when anything is wrong')
    .argument('<dir>', 'dataset folder containing dataset.json')
    .addHelpText(
      'after',
      '\nChecks every case: files exist and read, no NaN/infinite intensities, channels share a grid,\n' +
        'label shape and spacing (1e-3 relative) match the image, the label affine (voxel sizes, axis\n' +
        'directions, origin) matches the image within np.allclose (1e-8 + 1e-5·|image|), label values\n' +
        'are declared in dataset.json. All problems are listed at once.\n\n' +
        'Examples:\n  segloss check ../shared/data/Task04_Hippocampus\n  segloss --json check data/toy-liver',
    )
    .action(async (dir: string, _opts: unknown, cmd: Command) => {
      const g = globalOptions(cmd);
      const ds = loadDataset(dir);
      const total = ds.training.length + ds.test.length;
      const bar = progressBar(total, 'check');
      let result: Awaited<ReturnType<typeof inspectDataset>>;
      try {
        result = await inspectDataset(ds, (done) => bar.update(done));
      } finally {
        bar.stop();
      }
      const report = buildReport(ds, result.problems, result.cases);
      if (g.json) printJson(report);
      else printReport(report);
      if (total === 0) throw new InputError(ds.root, 'dataset has no cases (imagesTr/ is empty and dataset.json lists none)');
      if (report.problems.length > 0) throw new InputError(ds.root, `${report.problems.length} problem(s) in ${total} case(s)${g.json ? '' : ' (listed above)'}`);
    });
}
