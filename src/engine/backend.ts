/**
 * Backend selection. `auto` prefers the native GPU backend (@tensorflow/tfjs-node-gpu
 * with a visible GPU), then the native CPU backend (@tensorflow/tfjs-node), then WebAssembly,
 * then plain JavaScript. Both native packages are optional dependencies: their install step
 * downloads libtensorflow, which fails without internet access, so they are often absent.
 *
 * Every model and loss in segloss is written against the public tfjs API only, so the same code
 * runs on any of these backends; only the 3D-convolution implementation is chosen per backend
 * (see ./conv3d.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { UsageError, RuntimeFailure, errorMessage } from '../util/errors.js';
import { registerKernels } from './register-kernels.js';
import { prepareWasmThreads, unrefWasmWorkers, wasmThreadsFromEnv, withDoubledCpuCount } from './wasm-threads.js';

/**
 * wasm threads when SEGLOSS_WASM_THREADS is not set. Measured on 2 cores (docs/performance.md): 2
 * threads make a training step ≈1.3× faster while the second core is idle, but up to 1.45× slower
 * while other processes keep it busy (the pool's threads wait for each other). So: one thread per
 * core (at most 8, Emscripten's pool) when the machine looks idle at startup — 1-minute load
 * average below half the cores — else 1. Results are bit-identical for any thread count (test), so
 * this changes speed only. Parallel jobs should set SEGLOSS_WASM_THREADS=1.
 */
export function defaultWasmThreads(): number {
  const cores = os.availableParallelism();
  if (cores < 2) return 1;
  return (os.loadavg()[0] ?? 0) < cores / 2 ? Math.min(8, cores) : 1;
}

export type BackendRequest = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_REQUESTS: readonly BackendRequest[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

export interface BackendProbe {
  /** Package or backend name as users know it. */
  name: string;
  /** tfjs backend name it registers. */
  backend: string;
  available: boolean;
  /** Why it is not available (or a note when it is). */
  reason: string;
}

export interface BackendInfo {
  /** tfjs backend name in use: 'tensorflow', 'wasm' or 'cpu'. */
  backend: string;
  /** Human-readable description, e.g. "@tensorflow/tfjs-node-gpu (CUDA)". */
  description: string;
  threads: number;
  gpu: boolean;
  /** Why better backends were not taken, one entry each. */
  skipped: string[];
}

const require = createRequire(import.meta.url);

function packageInstalled(pkg: string): boolean {
  try {
    require.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

const NATIVE_HINTS: Record<string, string> = {
  '@tensorflow/tfjs-node-gpu':
    'its install needs internet access (it downloads libtensorflow), CUDA 11.2 and cuDNN 8.1; install it on a CUDA machine with `npm install @tensorflow/tfjs-node-gpu`',
  '@tensorflow/tfjs-node':
    'its install needs internet access (it downloads libtensorflow); install it with `npm install @tensorflow/tfjs-node`',
};

/** Try to load a native package; returns the reason it cannot be used, or undefined if it loaded. */
async function tryNative(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<string | undefined> {
  if (!packageInstalled(pkg)) return `${pkg} not installed: ${NATIVE_HINTS[pkg]}`;
  try {
    await import(pkg);
    return undefined;
  } catch (err) {
    return `${pkg} installed but failed to load: ${errorMessage(err).split('\n')[0]}`;
  }
}

function gpuVisible(): boolean {
  // tfjs-node-gpu loads even without a GPU and then silently runs on the CPU. A CUDA device
  // shows up in /proc/driver/nvidia/gpus or through CUDA_VISIBLE_DEVICES.
  if (process.env['CUDA_VISIBLE_DEVICES'] === '' || process.env['CUDA_VISIBLE_DEVICES'] === '-1') return false;
  try {
    return require('node:fs').readdirSync('/proc/driver/nvidia/gpus').length > 0;
  } catch {
    return false;
  }
}

let wasmRegistered = false;
async function registerWasm(): Promise<string | undefined> {
  if (wasmRegistered) return undefined;
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    wasmRegistered = true;
    return undefined;
  } catch (err) {
    return `@tensorflow/tfjs-backend-wasm failed to load: ${errorMessage(err)}`;
  }
}

/** What `segloss doctor` shows: which backends load here and why the others do not. */
export async function probeBackends(): Promise<BackendProbe[]> {
  const probes: BackendProbe[] = [];
  const gpuReason = await tryNative('@tensorflow/tfjs-node-gpu');
  probes.push({
    name: '@tensorflow/tfjs-node-gpu',
    backend: 'tensorflow',
    available: gpuReason === undefined && gpuVisible(),
    reason: gpuReason ?? (gpuVisible() ? 'loads; a CUDA GPU is visible' : 'loads, but no CUDA GPU is visible (/proc/driver/nvidia/gpus is empty)'),
  });
  const nodeReason = await tryNative('@tensorflow/tfjs-node');
  probes.push({
    name: '@tensorflow/tfjs-node',
    backend: 'tensorflow',
    available: nodeReason === undefined,
    reason: nodeReason ?? 'loads (native libtensorflow on the CPU)',
  });
  const wasmReason = await registerWasm();
  probes.push({
    name: '@tensorflow/tfjs-backend-wasm',
    backend: 'wasm',
    available: wasmReason === undefined,
    reason: wasmReason ?? 'loads (WebAssembly SIMD, XNNPACK kernels; segloss adds fast 3D convolutions)',
  });
  probes.push({ name: '@tensorflow/tfjs-backend-cpu', backend: 'cpu', available: true, reason: 'always available (plain JavaScript, slow)' });
  return probes;
}

let current: BackendInfo | undefined;

/** The backend chosen by the last selectBackend call (undefined before). */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

/**
 * Select and initialise a backend. Idempotent for the same request. Throws UsageError for an
 * unknown name and RuntimeFailure when an explicitly requested backend cannot be loaded.
 */
export async function selectBackend(request: BackendRequest | string = 'auto'): Promise<BackendInfo> {
  if (!BACKEND_REQUESTS.includes(request as BackendRequest)) {
    throw new UsageError(`--backend: unknown backend '${request}' (valid: ${BACKEND_REQUESTS.join(', ')})`);
  }
  const skipped: string[] = [];
  const finish = async (backend: string, description: string, gpu: boolean): Promise<BackendInfo> => {
    let ok: boolean;
    if (backend === 'wasm' && tf.findBackend('wasm') === null && prepareWasmThreads(wasmThreadsFromEnv(defaultWasmThreads()))) {
      // threaded wasm (./wasm-threads.ts): the pool is sized while os.cpus() is doubled
      ok = await withDoubledCpuCount(() => tf.setBackend(backend));
      unrefWasmWorkers();
    } else {
      ok = await tf.setBackend(backend);
    }
    if (!ok) throw new RuntimeFailure(`backend '${backend}' failed to initialise`);
    await tf.ready();
    registerKernels(backend);
    // Tensors are created in float32 everywhere; keep the math deterministic across backends.
    current = { backend, description, threads: backendThreads(backend), gpu, skipped };
    return current;
  };

  if (request === 'auto' || request === 'tensorflow') {
    const gpuReason = await tryNative('@tensorflow/tfjs-node-gpu');
    if (gpuReason === undefined && gpuVisible()) return finish('tensorflow', '@tensorflow/tfjs-node-gpu (CUDA)', true);
    skipped.push(gpuReason ?? '@tensorflow/tfjs-node-gpu loads but no CUDA GPU is visible');
    const nodeReason = await tryNative('@tensorflow/tfjs-node');
    if (nodeReason === undefined) return finish('tensorflow', '@tensorflow/tfjs-node (native CPU)', false);
    if (gpuReason === undefined) return finish('tensorflow', '@tensorflow/tfjs-node-gpu (no GPU visible: native CPU)', false);
    skipped.push(nodeReason);
    if (request === 'tensorflow') throw new RuntimeFailure(`--backend tensorflow: ${skipped.join('; ')}`);
  }
  if (request === 'auto' || request === 'wasm') {
    const wasmReason = await registerWasm();
    if (wasmReason === undefined) return finish('wasm', '@tensorflow/tfjs-backend-wasm (WebAssembly SIMD)', false);
    skipped.push(wasmReason);
    if (request === 'wasm') throw new RuntimeFailure(`--backend wasm: ${wasmReason}`);
  }
  return finish('cpu', '@tensorflow/tfjs-backend-cpu (plain JavaScript)', false);
}

function backendThreads(backend: string): number {
  if (backend === 'wasm') {
    try {
      const wasm = require('@tensorflow/tfjs-backend-wasm') as { getThreadsCount?: () => number };
      return wasm.getThreadsCount?.() ?? 1;
    } catch {
      return 1;
    }
  }
  if (backend === 'tensorflow') return os.availableParallelism();
  return 1;
}

export function describeBackend(info: BackendInfo): string {
  const lines = [`backend: ${info.description}, ${info.threads} thread${info.threads === 1 ? '' : 's'}`];
  if (info.backend === 'wasm' && info.threads === 1 && os.availableParallelism() > 1) {
    lines.push('  threads: 1 (the machine was busy at startup or SEGLOSS_WASM_THREADS=1; SEGLOSS_WASM_THREADS=N uses N, faster only while the other cores are idle)');
  }
  for (const s of info.skipped) lines.push(`  not used: ${s}`);
  return lines.join('\n');
}
