/**
 * `npm run bench:smoke`: the main job's wall time. Runs `segloss benchmark` (the embedded smoke
 * config, or `--config FILE`) on a fresh working directory exactly as a new user would, and in the
 * same invocation measures this machine's speed with the training benchmark's tiny step (1 wasm
 * thread, `bench/train.ts --configs tiny`), because machines of one kind differ about 2× in speed:
 * a wall time means little without it.
 *
 * Reported: wall time, CPU time of the whole process tree (user + system, from /proc/self/stat's
 * cutime/cstime: every cell is a child the benchmark waits for), the tiny-step time, and the best
 * loss's mean test DSC per task (leaderboard.csv's mean_dsc_<task> columns). The reference is the
 * main job's budget (10 minutes on 2 idle cores): ratio = budget / wall time, so a ratio above 1
 * means the job fits, and the tiny-step time tells how much margin a 2× slower machine leaves.
 *
 * Options: --config FILE (another benchmark config)  --keep (keep the working directory)
 *          --no-tiny-step (skip the speed probe)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const BIN = path.join(REPO, 'bin', 'segloss.js');
const BUDGET_SECONDS = 600;

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** CPU seconds (user + system) of the children this process has waited for: /proc/self/stat fields 16 and 17. */
function childrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ", field 3 (state) is index 0, so field n is index n − 3.
  const ticks = Number(fields[16 - 3]) + Number(fields[17 - 3]);
  const hz = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  return ticks / hz;
}

/** The 1-thread wasm tiny training step of `npm run bench:train`, in ms. */
function tinyStepMs(): number | null {
  const r = spawnSync(process.execPath, [path.join(HERE, 'train.js'), '--configs', 'tiny', '--backends', 'wasm:1', '--no-torch'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    const ms = (JSON.parse(last) as { tiny_wasm_ms?: number }).tiny_wasm_ms;
    return typeof ms === 'number' ? ms : null;
  } catch {
    return null;
  }
}

/** Best mean test DSC per task over the losses of leaderboard.csv. */
function bestDscPerTask(leaderboardCsv: string): Record<string, { loss: string; dsc: number }> {
  const [header, ...rows] = readFileSync(leaderboardCsv, 'utf8').trim().split('\n').map((l) => l.split(','));
  const best: Record<string, { loss: string; dsc: number }> = {};
  (header ?? []).forEach((name, col) => {
    if (!name.startsWith('mean_dsc_')) return;
    const task = name.slice('mean_dsc_'.length);
    for (const row of rows) {
      const dsc = Number(row[col]);
      const loss = row[1] ?? '?';
      if (Number.isFinite(dsc) && (best[task] === undefined || dsc > best[task].dsc)) best[task] = { loss, dsc };
    }
  });
  return best;
}

function main(): void {
  const config = flag('config');
  const loadStart = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  const tiny = process.argv.includes('--no-tiny-step') ? null : tinyStepMs();
  const work = mkdtempSync(path.join(os.tmpdir(), 'segloss-bench-smoke-'));
  const args = ['benchmark', ...(config !== undefined ? ['--config', path.resolve(config)] : [])];
  process.stderr.write(`segloss ${args.join(' ')} in ${work} (tiny step ${tiny === null ? 'not measured' : `${tiny.toFixed(0)} ms`})…\n`);
  const cpuBefore = childrenCpuSeconds();
  const started = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: work, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 26 });
  const wallSeconds = (performance.now() - started) / 1000;
  const cpuSeconds = childrenCpuSeconds() - cpuBefore;
  if (r.status !== 0) {
    process.stderr.write(`segloss benchmark exited ${r.status}; working directory kept: ${work}\n`);
    process.exit(1);
  }
  const report = /report: (.*)/.exec(r.stdout)?.[1]?.trim();
  const rankingDir = report !== undefined ? path.dirname(report) : path.join(work, 'results', 'smoke', 'ranking');
  const best = bestDscPerTask(path.join(rankingDir, 'leaderboard.csv'));
  const summary = {
    bench: 'smoke',
    config: config ?? 'smoke (embedded default)',
    date: new Date().toISOString(),
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadavg_start: loadStart,
    loadavg_end: os.loadavg().map((l) => l.toFixed(1)).join(' '),
    tiny_step_ms: tiny,
    wall_s: Number(wallSeconds.toFixed(1)),
    cpu_s: Number(cpuSeconds.toFixed(1)),
    budget_s: BUDGET_SECONDS,
    best_test_dsc: Object.fromEntries(Object.entries(best).map(([t, b]) => [t, { loss: b.loss, dsc: Number(b.dsc.toFixed(4)) }])),
    ratio: Number((BUDGET_SECONDS / wallSeconds).toFixed(3)),
  };
  process.stdout.write(`machine: ${summary.cpus} × ${summary.cpu_model}, load average ${summary.loadavg_start} at start, ${summary.loadavg_end} at end\n`);
  process.stdout.write(`tiny wasm step (1 thread): ${tiny === null ? '–' : `${tiny.toFixed(0)} ms`}\n`);
  process.stdout.write(`main job: ${(wallSeconds / 60).toFixed(2)} min wall, ${cpuSeconds.toFixed(0)} CPU-s (budget ${BUDGET_SECONDS / 60} min: ratio ${summary.ratio})\n`);
  for (const [task, b] of Object.entries(best)) process.stdout.write(`  ${task}: best mean test DSC ${b.dsc.toFixed(3)} (${b.loss})\n`);
  if (process.argv.includes('--keep')) process.stdout.write(`working directory kept: ${work}\n`);
  else rmSync(work, { recursive: true, force: true });
  process.stdout.write(JSON.stringify(summary) + '\n');
}

main();
