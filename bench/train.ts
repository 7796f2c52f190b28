/**
 * `npm run bench:train`: time one training step (forward + backward + Adam, batch 2, 2 classes,
 * Dice+CE) of segloss's UNet3D on every available backend, and the same network in PyTorch
 * (../shared/reference/torch_unet_step.py, CPU, 2 threads) in the same invocation.
 *
 * Configurations: tiny = patch 32³, features [8, 16, 32]; small = patch 64³,
 * features [16, 32, 64, 128]. Each backend runs in its own child process so that peak RSS is
 * per backend. Reported: median ms/step, Mvox/s (= batch·patch voxels / step time), peak RSS,
 * ratio = PyTorch ms / segloss ms. The last line of stdout is JSON with all figures.
 *
 * Options: --rounds N (alternate all implementations N times and keep each one's fastest round —
 *          use 3 on a shared machine)  --configs tiny,small  --backends wasm:1,wasm:2,cpu,tensorflow (wasm:N = N threads, see
 *          src/engine/wasm-threads.ts)  --steps N  --warmup N
 *          --torch-threads N  --no-torch
 * The cpu backend (plain JS) takes minutes per step on the small configuration; it is run on the
 * tiny configuration only unless --backends names it explicitly.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';

interface Config {
  name: string;
  patch: number;
  features: number[];
}
const CONFIGS: Config[] = [
  { name: 'tiny', patch: 32, features: [8, 16, 32] },
  { name: 'small', patch: 64, features: [16, 32, 64, 128] },
];
const BATCH = 2;
const CLASSES = 2;

interface ChildRequest {
  backend: string;
  patch: number;
  features: number[];
  steps: number;
  warmup: number;
}
interface StepResult {
  ms_per_step: number;
  ms_steps: number[];
  peak_rss_mb: number;
  threads: number;
  backend: string;
  conv: string;
  loss_first: number;
  loss_last: number;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const TORCH_SCRIPT = path.resolve(REPO, '..', 'shared', 'reference', 'torch_unet_step.py');

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Soft Dice over foreground classes (batch Dice, smooth 1e-5) + cross-entropy, as the reference. */
function diceCE(logits: tf.Tensor5D, oneHot: tf.Tensor2D): tf.Scalar {
  const c = logits.shape[4];
  const flat = tf.reshape(logits, [-1, c]) as tf.Tensor2D;
  const ce = tf.losses.softmaxCrossEntropy(oneHot, flat);
  const p = tf.softmax(flat);
  const inter = tf.sum(tf.mul(p, oneHot), 0);
  const den = tf.add(tf.sum(p, 0), tf.sum(oneHot, 0));
  const dice = tf.div(tf.add(tf.mul(inter, 2), 1e-5), tf.add(den, 1e-5));
  return tf.add(ce, tf.sub(1, tf.mean(tf.slice(dice, [1], [c - 1])))) as tf.Scalar;
}

async function runChild(req: ChildRequest): Promise<StepResult> {
  const { selectBackend } = await import('../src/engine/backend.js');
  const { UNet3D } = await import('../src/model/unet.js');
  const { convImplementation } = await import('../src/engine/conv3d.js');
  const { Rng } = await import('../src/util/rng.js');
  const info = await selectBackend(req.backend);
  const net = new UNet3D(
    {
      inChannels: 1,
      numClasses: CLASSES,
      deepSupervision: false,
      stages: req.features.map((f, i) => ({ features: f, kernelSize: [3, 3, 3], stride: i === 0 ? [1, 1, 1] : [2, 2, 2] })),
    },
    { seed: 0 },
  );
  const rng = new Rng(1);
  const n = BATCH * req.patch ** 3;
  const xv = new Float32Array(n);
  const lv = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    xv[i] = rng.normal();
    lv[i] = rng.next() > 0.9 ? 1 : 0;
  }
  const x = tf.tensor5d(xv, [BATCH, req.patch, req.patch, req.patch, 1]);
  const oneHot = tf.tidy(() => tf.oneHot(tf.tensor1d(lv, 'int32'), CLASSES).toFloat() as tf.Tensor2D);
  const opt = tf.train.adam(3e-4);
  const times: number[] = [];
  const losses: number[] = [];
  for (let i = 0; i < req.warmup + req.steps; i++) {
    const t0 = performance.now();
    const loss = opt.minimize(() => diceCE(net.apply(x, true)[0]!, oneHot), true, net.variables) as tf.Scalar;
    losses.push(loss.dataSync()[0]!);
    const ms = performance.now() - t0;
    loss.dispose();
    if (i >= req.warmup) times.push(ms);
  }
  return {
    ms_per_step: median(times),
    ms_steps: times.map((t) => Math.round(t * 10) / 10),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    threads: info.threads,
    backend: info.description,
    conv: convImplementation(),
    loss_first: losses[0]!,
    loss_last: losses[losses.length - 1]!,
  };
}

interface TorchResult {
  ms_per_step: number;
  ms_steps: number[];
  mvox_per_s: number;
  threads: number;
  torch: string;
  peak_rss_mb: number;
}

function runTorch(cfg: Config, threads: number, steps: number, warmup: number): TorchResult | string {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) return 'python3 not found';
  if (!existsSync(TORCH_SCRIPT)) return `${TORCH_SCRIPT} not found`;
  const arg = JSON.stringify({ patch: [cfg.patch, cfg.patch, cfg.patch], features: cfg.features, batch: BATCH, classes: CLASSES, threads, steps, warmup });
  // peak RSS of the python process via GNU time's %M when available, else unreported
  const useTime = existsSync('/usr/bin/time');
  const r = useTime
    ? spawnSync('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', python, TORCH_SCRIPT, arg], { encoding: 'utf8', maxBuffer: 1 << 24 })
    : spawnSync(python, [TORCH_SCRIPT, arg], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return `PyTorch reference failed: ${(r.stderr || '').trim().split('\n').slice(-1)[0] ?? 'unknown error'}`;
  const line = r.stdout.trim().split('\n').pop() ?? '';
  const parsed = JSON.parse(line) as Omit<TorchResult, 'peak_rss_mb'>;
  const m = /MAXRSS_KB=(\d+)/.exec(r.stderr ?? '');
  return { ...parsed, peak_rss_mb: m ? Math.round(Number(m[1]) / 1024) : NaN };
}

/** A backend, optionally with a wasm thread count ("wasm:2"). */
function availableBackends(): string[] {
  const list = ['wasm:1', ...(os.availableParallelism() >= 2 ? [`wasm:${Math.min(os.availableParallelism(), 4)}`] : []), 'cpu'];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    if (existsSync(path.join(REPO, 'node_modules', pkg))) {
      list.unshift('tensorflow');
      break;
    }
  }
  return list;
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const childArg = flag('child');
  if (childArg !== undefined) {
    const res = await runChild(JSON.parse(childArg) as ChildRequest);
    process.stdout.write(JSON.stringify(res) + '\n');
    return;
  }
  const configs = (flag('configs') ?? 'tiny,small').split(',').map((n) => {
    const c = CONFIGS.find((k) => k.name === n);
    if (c === undefined) throw new Error(`unknown config ${n} (tiny, small)`);
    return c;
  });
  const explicitBackends = flag('backends');
  const backends = explicitBackends?.split(',') ?? availableBackends();
  const torchThreads = Number(flag('torch-threads') ?? 2);
  const rows: Array<Record<string, unknown>> = [];
  const { defaultWasmThreads } = await import('../src/engine/backend.js');
  const defaultThreads = defaultWasmThreads();
  const summary: Record<string, unknown> = { bench: 'train', rounds: Number(flag('rounds') ?? 1), default_wasm_threads: defaultThreads, date: new Date().toISOString(), cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadavg_start: os.loadavg().map((l) => l.toFixed(1)).join(' ') };
  const rounds = Number(flag('rounds') ?? 1);
  interface Sample {
    impl: string;
    threads: number;
    ms: number;
    rss: number;
  }
  for (const cfg of configs) {
    const steps = Number(flag('steps') ?? (cfg.name === 'tiny' ? 7 : 3));
    const warmup = Number(flag('warmup') ?? (cfg.name === 'tiny' ? 2 : 1));
    const vox = BATCH * cfg.patch ** 3;
    // Rounds alternate all implementations, so a busy period of a shared machine hits them alike.
    const samples = new Map<string, Sample[]>();
    const add = (sample: Sample): void => {
      const key = `${sample.impl}|${sample.threads}`;
      if (!samples.has(key)) samples.set(key, []);
      samples.get(key)!.push(sample);
    };
    for (let round = 1; round <= rounds; round++) {
      const tag = rounds > 1 ? ` (round ${round}/${rounds})` : '';
      if (!process.argv.includes('--no-torch')) {
        for (const th of torchThreads === 1 ? [1] : [torchThreads, 1]) {
          process.stderr.write(`[${cfg.name}] PyTorch reference, ${th} thread${th === 1 ? '' : 's'}${tag}…\n`);
          const t = runTorch(cfg, th, Math.max(steps, 5), warmup + 1);
          if (typeof t === 'string') process.stderr.write(`[${cfg.name}] PyTorch reference skipped: ${t}\n`);
          else add({ impl: `PyTorch ${t.torch} (CPU)`, threads: t.threads, ms: t.ms_per_step, rss: t.peak_rss_mb });
        }
      }
      for (const variant of backends) {
        const [backend, threadsText] = variant.split(':') as [string, string | undefined];
        const env = { ...process.env, SEGLOSS_WASM_THREADS: threadsText ?? '1' };
        if (backend === 'cpu' && cfg.name !== 'tiny' && explicitBackends === undefined) {
          if (round === 1) {
            process.stderr.write(`[${cfg.name}] cpu backend skipped: plain-JS tf.conv3d needs minutes per step at this size (name it in --backends to run it)\n`);
            rows.push({ config: cfg.name, impl: 'segloss cpu', skipped: 'minutes per step' });
          }
          continue;
        }
        if (backend === 'cpu' && round > 1) continue; // one round is enough to show it is ~50× slower
        const cpuSteps = backend === 'cpu' ? Math.min(steps, 2) : steps;
        const cpuWarm = backend === 'cpu' ? Math.min(warmup, 1) : warmup;
        process.stderr.write(`[${cfg.name}] segloss on ${variant} (${cpuWarm} warm-up + ${cpuSteps} steps)${tag}…\n`);
        const req: ChildRequest = { backend, patch: cfg.patch, features: cfg.features, steps: cpuSteps, warmup: cpuWarm };
        const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify(req)], { encoding: 'utf8', maxBuffer: 1 << 24, env });
        if (r.status !== 0) {
          const why = (r.stderr || '').trim().split('\n').slice(-3).join(' ');
          process.stderr.write(`[${cfg.name}] ${variant} failed: ${why}\n`);
          if (round === 1) rows.push({ config: cfg.name, impl: `segloss ${variant}`, skipped: `failed: ${why}` });
          continue;
        }
        const res = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as StepResult;
        add({ impl: `segloss ${backend} (${res.conv} conv3d)`, threads: res.threads, ms: res.ms_per_step, rss: res.peak_rss_mb });
      }
    }
    // Interference from other processes only ever adds time, so each implementation's figure is its
    // least-disturbed round (the minimum over rounds of the per-run median step time).
    const best = (list: Sample[]): number => Math.min(...list.map((x) => x.ms));
    const find = (threads: number): number | undefined => {
      for (const [key, list] of samples) if (key.startsWith('PyTorch') && list[0]!.threads === threads) return best(list);
      return undefined;
    };
    const torchMs = find(torchThreads);
    const torch1Ms = find(1);
    for (const list of samples.values()) {
      const ms = best(list);
      const { impl, threads } = list[0]!;
      rows.push({
        config: cfg.name,
        impl,
        threads,
        ms,
        mvox: vox / ms / 1e3,
        rss: Math.max(...list.map((x) => x.rss)),
        ratio: torchMs === undefined ? null : torchMs / ms,
        ratio1: threads === 1 && torch1Ms !== undefined ? torch1Ms / ms : null,
        rounds_ms: list.map((x) => Math.round(x.ms)),
      });
    }
  }
  // table on stdout
  const fmt = (v: unknown, d = 0): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : v === null || v === undefined ? '–' : String(v));
  const lines = [
    'config | implementation | threads | ms/step (median of a run; best of rounds) | Mvox/s | peak RSS MB | ratio = PyTorch-2T ms / ms | ratio vs PyTorch 1T',
    '---|---|---|---|---|---|---|---',
  ];
  for (const r of rows) {
    if (r['skipped'] !== undefined) lines.push(`${r['config']} | ${r['impl']} | – | skipped: ${r['skipped']} | – | – | – | –`);
    else lines.push(`${r['config']} | ${r['impl']} | ${fmt(r['threads'])} | ${fmt(r['ms'], 0)}${(r['rounds_ms'] as number[]).length > 1 ? ` (${(r['rounds_ms'] as number[]).join(', ')})` : ''} | ${fmt(r['mvox'], 3)} | ${fmt(r['rss'])} | ${fmt(r['ratio'], 3)} | ${fmt(r['ratio1'], 3)}`);
  }
  process.stdout.write(`machine: ${os.cpus().length} × ${summary['cpu_model']}, load average at start ${summary['loadavg_start']}, at end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; segloss's default wasm thread count here: ${defaultThreads}\n`);
  process.stdout.write(lines.join('\n') + '\n');
  const result: Record<string, unknown> = { ...summary };
  for (const r of rows) {
    if (r['skipped'] !== undefined) continue;
    const name = String(r['impl']).startsWith('PyTorch') ? 'torch' : String(r['impl']).split(' ')[1];
    const key = `${r['config']}_${name}${r['threads'] !== undefined && r['threads'] !== (name === 'torch' ? torchThreads : 1) ? `${r['threads']}t` : ''}`;
    result[`${key}_ms`] = Math.round((r['ms'] as number) * 10) / 10;
    result[`${key}_mvox_s`] = Math.round((r['mvox'] as number) * 1000) / 1000;
    result[`${key}_rss_mb`] = r['rss'];
    if (r['ratio'] !== null && !String(r['impl']).startsWith('PyTorch')) result[`${key}_ratio`] = Math.round((r['ratio'] as number) * 1000) / 1000;
    if (typeof r['ratio1'] === 'number' && !String(r['impl']).startsWith('PyTorch')) result[`${key}_ratio_vs_torch1t`] = Math.round((r['ratio1'] as number) * 1000) / 1000;
  }
  // the figure the issue is judged by: segloss's default CPU backend (wasm, default thread count)
  for (const r of rows) {
    if (r['skipped'] === undefined && String(r['impl']).startsWith('segloss wasm') && r['threads'] === defaultThreads && r['ratio'] !== null) {
      result[`${r['config']}_default_ratio`] = Math.round((r['ratio'] as number) * 1000) / 1000;
    }
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:train: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
