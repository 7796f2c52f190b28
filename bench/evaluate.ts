/**
 * `npm run bench:evaluate`: DSC / NSD@1 mm / HD95 of a 512×512×200 pair with three
 * labels (synthetic organ-like shapes, spacing 0.8×0.8×2.5 mm), segloss (`evaluateCase`, one
 * thread) beside a numpy/scipy reference that follows DeepMind's definitions
 * (bench/evaluate_reference.py, run with /usr/bin/python3) on the same volumes in the same run.
 * The metrics of both are compared, peak memory is reported, and the last line is JSON:
 *   {"bench":"evaluate","segloss_ms":…,"reference_ms":…,"ratio":reference/segloss,…}
 * Options: --size NI,NJ,NK (default 512,512,200), --repeat N (best of N, default 1).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Vec3 } from '../src/util/vec3.js';
import { evaluateCase, type CaseMetrics } from '../src/eval/case-metrics.js';
import { Rng } from '../src/util/rng.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE = path.resolve(HERE, '..', '..', 'bench', 'evaluate_reference.py');
const PYTHON = '/usr/bin/python3';

interface Organ {
  label: number;
  centre: Vec3; // voxels
  radiiMm: Vec3;
  /** Low-frequency surface wobble: r(θ, φ) = r · (1 + Σ a sin(f·θ + p) cos(g·φ + q)). */
  wobble: { a: number; f: number; g: number; p: number; q: number }[];
}

function organs(rng: Rng, shape: Vec3, variant: 'gt' | 'pred'): Organ[] {
  const base: Organ[] = [
    { label: 1, centre: [0.35 * shape[0], 0.5 * shape[1], 0.5 * shape[2]], radiiMm: [95, 75, 90], wobble: [] }, // liver-like
    { label: 2, centre: [0.72 * shape[0], 0.4 * shape[1], 0.45 * shape[2]], radiiMm: [40, 32, 55], wobble: [] }, // spleen-like
    { label: 3, centre: [0.62 * shape[0], 0.7 * shape[1], 0.55 * shape[2]], radiiMm: [28, 24, 50], wobble: [] }, // kidney-like
  ];
  for (const o of base) {
    for (let w = 0; w < 3; w++) o.wobble.push({ a: 0.06 + 0.04 * rng.next(), f: 1 + rng.int(3), g: 1 + rng.int(3), p: rng.uniform(0, 6.28), q: rng.uniform(0, 6.28) });
    if (variant === 'pred') {
      o.centre = [o.centre[0] + rng.uniform(-3, 3), o.centre[1] + rng.uniform(-3, 3), o.centre[2] + rng.uniform(-1, 1)];
      o.radiiMm = o.radiiMm.map((r) => r * rng.uniform(0.93, 1.05)) as Vec3;
      for (const w of o.wobble) w.p += rng.uniform(-0.3, 0.3);
    }
  }
  return base;
}

function paint(shape: Vec3, spacing: Vec3, list: Organ[], islands: { label: number; centre: Vec3; radiusMm: number }[]): Uint8Array {
  const [ni, nj, nk] = shape;
  const data = new Uint8Array(ni * nj * nk);
  for (const o of list) {
    const maxScale = 1 + o.wobble.reduce((s, w) => s + w.a, 0);
    const lo = [0, 1, 2].map((a) => Math.max(0, Math.floor((o.centre[a] as number) - ((o.radiiMm[a] as number) * maxScale) / (spacing[a] as number))));
    const hi = [0, 1, 2].map((a) => Math.min((shape[a] as number) - 1, Math.ceil((o.centre[a] as number) + ((o.radiiMm[a] as number) * maxScale) / (spacing[a] as number))));
    for (let k = lo[2] as number; k <= (hi[2] as number); k++) {
      const z = ((k - o.centre[2]) * spacing[2]) / o.radiiMm[2];
      for (let j = lo[1] as number; j <= (hi[1] as number); j++) {
        const y = ((j - o.centre[1]) * spacing[1]) / o.radiiMm[1];
        for (let i = lo[0] as number; i <= (hi[0] as number); i++) {
          const x = ((i - o.centre[0]) * spacing[0]) / o.radiiMm[0];
          const r = Math.sqrt(x * x + y * y + z * z);
          const theta = Math.atan2(y, x);
          const phi = Math.acos(r > 0 ? z / r : 0);
          let scale = 1;
          for (const w of o.wobble) scale += w.a * Math.sin(w.f * theta + w.p) * Math.cos(w.g * phi + w.q);
          if (r <= scale) data[i + ni * (j + nj * k)] = o.label;
        }
      }
    }
  }
  for (const s of islands) {
    for (let k = 0; k < nk; k++) for (let j = 0; j < nj; j++) for (let i = 0; i < ni; i++) {
      const dx = (i - s.centre[0]) * spacing[0], dy = (j - s.centre[1]) * spacing[1], dz = (k - s.centre[2]) * spacing[2];
      if (dx * dx + dy * dy + dz * dz <= s.radiusMm * s.radiusMm) data[i + ni * (j + nj * k)] = s.label;
    }
  }
  return data;
}

function parseArgs(): { size: Vec3; repeat: number } {
  const argv = process.argv.slice(2);
  let size: Vec3 = [512, 512, 200];
  let repeat = 1;
  for (let a = 0; a < argv.length; a++) {
    if (argv[a] === '--size') size = (argv[++a] as string).split(',').map(Number) as Vec3;
    else if (argv[a] === '--repeat') repeat = Number(argv[++a]);
  }
  return { size, repeat };
}

function main(): void {
  const { size, repeat } = parseArgs();
  const spacing: Vec3 = [0.8, 0.8, 2.5];
  const labels = [1, 2, 3];
  const tau = 1;
  const rng = new Rng(2021);
  const gt = paint(size, spacing, organs(rng.fork('gt'), size, 'gt'), []);
  const pred = paint(size, spacing, organs(rng.fork('pred'), size, 'pred'), [{ label: 2, centre: [0.2 * size[0], 0.2 * size[1], 0.3 * size[2]], radiusMm: 6 }]);

  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  let best = Infinity;
  let ours: CaseMetrics[] = [];
  for (let r = 0; r < repeat; r++) {
    const t0 = performance.now();
    ours = evaluateCase(gt, pred, size, spacing, labels, tau);
    best = Math.min(best, performance.now() - t0);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  clearInterval(sampler);
  const inputMb = (gt.byteLength + pred.byteLength) / 2 ** 20;
  process.stderr.write(`volume ${size.join('x')} spacing ${spacing.join('x')} mm, labels ${labels.join(',')}\n`);
  for (const m of ours) process.stderr.write(`segloss   label ${m.label}: dsc ${m.dsc.toFixed(6)} nsd ${m.nsd.toFixed(6)} hd95 ${m.hd95.toFixed(4)} mm (gt ${m.gtVoxels} voxels)\n`);
  process.stderr.write(`segloss   ${best.toFixed(0)} ms (best of ${repeat}), peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MB (inputs ${inputMb.toFixed(0)} MB)\n`);

  const figures: Record<string, unknown> = {
    bench: 'evaluate',
    size,
    spacing_mm: spacing,
    labels: labels.length,
    segloss_ms: Math.round(best),
    segloss_peak_rss_mb: Math.round(peakRss / 2 ** 20),
  };
  const probe = spawnSync(PYTHON, ['-c', 'import numpy, scipy; print(scipy.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    process.stderr.write(`reference skipped: ${PYTHON} with numpy/scipy is not available (apt-get install -y python3-scipy)\n`);
    figures['reference_ms'] = null;
    figures['ratio'] = null;
  } else {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'segloss-bench-eval-'));
    try {
      writeFileSync(path.join(dir, 'gt.u8'), gt);
      writeFileSync(path.join(dir, 'pred.u8'), pred);
      writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ shape: size, spacing_mm: spacing, labels, tolerance_mm: tau }));
      const run = spawnSync(PYTHON, [REFERENCE, dir], { encoding: 'utf8', maxBuffer: 1 << 24 });
      if (run.status !== 0) throw new Error(`reference failed: ${run.stderr}`);
      const lines = run.stdout.trim().split('\n');
      const ref = JSON.parse(lines[lines.length - 1] as string) as { ms: number; peak_rss_mb: number; metrics: { label: number; dsc: number; nsd: number; hd95: number | string }[] };
      let maxRel = 0;
      for (const m of ref.metrics) {
        const o = ours.find((x) => x.label === m.label) as CaseMetrics;
        const hd = m.hd95 === 'inf' ? Infinity : (m.hd95 as number);
        process.stderr.write(`reference label ${m.label}: dsc ${m.dsc.toFixed(6)} nsd ${m.nsd.toFixed(6)} hd95 ${hd.toFixed(4)} mm\n`);
        for (const [a, b] of [[o.dsc, m.dsc], [o.nsd, m.nsd], [o.hd95, hd]] as [number, number][]) {
          if (a === b) continue;
          maxRel = Math.max(maxRel, Math.abs(a - b) / Math.max(Math.abs(b), 1e-300));
        }
      }
      process.stderr.write(`reference ${ref.ms.toFixed(0)} ms (numpy/scipy ${probe.stdout.trim()}), peak RSS ${ref.peak_rss_mb.toFixed(0)} MB; max relative difference ${maxRel.toExponential(2)}\n`);
      figures['reference_ms'] = Math.round(ref.ms);
      figures['reference_peak_rss_mb'] = Math.round(ref.peak_rss_mb);
      figures['ratio'] = Number((ref.ms / best).toFixed(2));
      figures['max_relative_difference'] = maxRel;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  process.stdout.write(JSON.stringify(figures) + '\n');
}

main();
