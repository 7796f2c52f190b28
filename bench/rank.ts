/**
 * `npm run bench:rank`: rank 27 losses × 4 tasks × 3 metrics × 100 cases with 1000 bootstrap
 * resamples (goal < 10 s on 2 cores), write every output, and time the same tests with
 * scipy 1.10 (`scipy.stats.wilcoxon` per pair; the bootstrap part is timed on a few resamples and
 * extrapolated linearly, since 1000 resamples × 2808 scipy calls would take many minutes).
 * The p-values of the full-data tests are compared with scipy's. Last line: JSON.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng } from '../src/util/rng.js';
import { rankResults } from '../src/rank/ranking.js';
import { writeRankingOutputs } from '../src/rank/outputs.js';
import { renderLeaderboardText } from '../src/rank/leaderboard.js';
import { formatCsv } from '../src/rank/csv.js';
import type { ResultRow } from '../src/rank/types.js';

const LOSSES = 27;
const TASKS = 4;
const CASES = 100;
const RESAMPLES = 1000;
const REFERENCE_RESAMPLES = Number(process.env['BENCH_RANK_REFERENCE_RESAMPLES'] ?? 3);

/** Synthetic per-case results: a case difficulty shared by all losses, a small per-loss effect, noise, some failures. */
function synthesize(): ResultRow[] {
  const rng = new Rng(2021);
  const rows: ResultRow[] = [];
  for (let t = 0; t < TASKS; t++) {
    const task = ['liver', 'liver_tumor', 'pancreas', 'multiorgan'][t] as string;
    for (let c = 0; c < CASES; c++) {
      const difficulty = rng.next();
      const id = `case_${String(c).padStart(3, '0')}`;
      for (let l = 0; l < LOSSES; l++) {
        const loss = `loss${String(l).padStart(2, '0')}`;
        const failed = rng.next() < 0.01;
        const dsc = failed ? NaN : Math.min(1, Math.max(0, 0.55 + 0.35 * difficulty + 0.003 * l + 0.04 * rng.normal()));
        const nsd = failed ? NaN : Math.min(1, Math.max(0, (dsc as number) - 0.15 + 0.05 * rng.normal()));
        const hd95 = failed ? Infinity : Math.max(0, (1 - dsc) * 25 + 2 * rng.next());
        rows.push({ task, loss, case: id, metric: 'dsc', value: Math.round(dsc * 1e4) / 1e4 });
        rows.push({ task, loss, case: id, metric: 'nsd', value: Math.round(nsd * 1e4) / 1e4 });
        rows.push({ task, loss, case: id, metric: 'hd95', value: Math.round(hd95 * 100) / 100 });
      }
    }
  }
  return rows;
}

const PYTHON = `
import json, sys, time
import numpy as np
from scipy.stats import wilcoxon
import scipy
path, resamples, alpha = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
tables = json.load(open(path))
t0 = time.perf_counter()
pvalues = {}
for key, m in tables.items():
    v = np.array(m, dtype=float)
    L = v.shape[0]
    P = [[None]*L for _ in range(L)]
    for a in range(L):
        for b in range(a+1, L):
            try:
                p = float(wilcoxon(v[a], v[b]).pvalue)
            except ValueError:
                p = None
            P[a][b] = P[b][a] = p
    pvalues[key] = P
t_full = time.perf_counter() - t0
rng = np.random.default_rng(1)
tasks = sorted(set(k.split('|')[0] for k in tables))
t0 = time.perf_counter()
for r in range(resamples):
    for task in tasks:
        n = len(tables[task + '|dsc'][0])
        idx = rng.integers(0, n, n)
        for metric in ('dsc', 'nsd'):
            v = np.array(tables[task + '|' + metric], dtype=float)[:, idx]
            L = v.shape[0]
            for a in range(L):
                for b in range(a+1, L):
                    try:
                        wilcoxon(v[a], v[b])
                    except ValueError:
                        pass
t_boot = (time.perf_counter() - t0) / max(1, resamples)
print(json.dumps({"scipy": scipy.__version__, "full_s": t_full, "per_resample_s": t_boot, "pvalues": pvalues}))
`;

async function main(): Promise<void> {
  const rows = synthesize();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const ranking = rankResults(rows, { metrics: ['dsc', 'nsd'], alpha: 0.05, bootstrap: RESAMPLES, seed: 12345 });
  const seglossMs = performance.now() - t0;
  const seglossCpuMs = process.cpuUsage(cpu0).user / 1000;
  const t1 = performance.now();
  const noBoot = rankResults(rows, { metrics: ['dsc', 'nsd'], alpha: 0.05, bootstrap: 0, seed: 12345 });
  const fullMs = performance.now() - t1;
  const out = mkdtempSync(path.join(os.tmpdir(), 'segloss-bench-rank-'));
  const t2 = performance.now();
  const files = await writeRankingOutputs(ranking, out);
  const outputsMs = performance.now() - t2;
  const reportBytes = readFileSync(path.join(out, 'report.html')).length;
  console.log(renderLeaderboardText(ranking).split('\n').slice(0, 8).join('\n'));
  console.log(`segloss: ranking with ${RESAMPLES} bootstrap resamples ${seglossMs.toFixed(0)} ms wall, ${seglossCpuMs.toFixed(0)} ms CPU (full-data tests alone ${fullMs.toFixed(0)} ms); ` +
    `${files.length} output files in ${outputsMs.toFixed(0)} ms (report.html ${(reportBytes / 1e6).toFixed(2)} MB)`);
  rmSync(out, { recursive: true, force: true });

  let referenceMs: number | null = null;
  let maxRelDiff: number | null = null;
  let scipyVersion: string | null = null;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'segloss-bench-rank-py-'));
  try {
    const tablesFile = path.join(tmp, 'tables.json');
    const tables: Record<string, number[][]> = {};
    for (const t of noBoot.tables) tables[`${t.task}|${t.metric}`] = t.values;
    writeFileSync(tablesFile, JSON.stringify(tables));
    writeFileSync(path.join(tmp, 'ref.py'), PYTHON);
    // Keep the generated input next to the script for anyone re-running the reference by hand.
    writeFileSync(path.join(tmp, 'results.csv'), formatCsv(['task', 'loss', 'case', 'metric', 'value'], rows.map((r) => [r.task, r.loss, r.case, r.metric, r.value])));
    // Debian's python3 has scipy 1.10 (the version the Wilcoxon port follows); fall back to PATH.
    const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    const py = spawnSync(python, [path.join(tmp, 'ref.py'), tablesFile, String(REFERENCE_RESAMPLES), '0.05'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    if (py.error !== undefined || py.status !== 0) {
      console.log(`reference skipped: python3 with scipy not available (${py.error?.message ?? py.stderr.trim().split('\n').pop()})`);
    } else {
      const ref = JSON.parse(py.stdout) as { scipy: string; full_s: number; per_resample_s: number; pvalues: Record<string, (number | null)[][]> };
      scipyVersion = ref.scipy;
      referenceMs = (ref.full_s + ref.per_resample_s * RESAMPLES) * 1000;
      let worst = 0;
      for (const c of noBoot.comparisons) {
        const P = ref.pvalues[`${c.task}|${c.metric}`] as (number | null)[][];
        c.pvalues.forEach((row, a) => row.forEach((p, b) => {
          if (a === b) return;
          const q = P[a]?.[b];
          if (q === null || q === undefined) {
            if (!Number.isNaN(p)) worst = Infinity;
            return;
          }
          worst = Math.max(worst, Math.abs(p - q) / Math.max(q, 1e-300));
        }));
      }
      maxRelDiff = worst;
      console.log(`scipy ${ref.scipy}: full-data tests ${(ref.full_s * 1000).toFixed(0)} ms, ${(ref.per_resample_s * 1000).toFixed(0)} ms per bootstrap resample ` +
        `(timed on ${REFERENCE_RESAMPLES}, extrapolated to ${RESAMPLES}): ${(referenceMs / 1000).toFixed(1)} s; max relative p-value difference ${worst.toExponential(2)}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(JSON.stringify({
    bench: 'rank',
    losses: LOSSES, tasks: TASKS, metrics: 3, cases: CASES, bootstrap: RESAMPLES,
    segloss_ms: Math.round(seglossMs),
    segloss_cpu_ms: Math.round(seglossCpuMs),
    load_average_1min: Number(os.loadavg()[0]?.toFixed(1)),
    full_data_ms: Math.round(fullMs),
    outputs_ms: Math.round(outputsMs),
    goal_ms: 10000,
    reference_ms: referenceMs === null ? null : Math.round(referenceMs),
    reference: scipyVersion === null ? null : `scipy ${scipyVersion} wilcoxon per pair, bootstrap extrapolated from ${REFERENCE_RESAMPLES} resamples`,
    ratio: referenceMs === null ? null : Number((referenceMs / seglossMs).toFixed(1)),
    max_rel_pvalue_diff_vs_scipy: maxRelDiff,
    cores: os.availableParallelism(),
  }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
