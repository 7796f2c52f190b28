/**
 * Multi-threaded tfjs-backend-wasm in Node (docs/model.md, "wasm threads").
 *
 * tfjs-backend-wasm 4.22 never uses threads in Node:
 *  1. the flag WASM_HAS_MULTITHREAD_SUPPORT evaluates to false when IS_NODE (tensorflow/tfjs#3830 upstream);
 *  2. with the flag forced, the pthread worker script and the Emscripten main script are handed
 *     over as Blob objects / blob: URLs, which Node's worker_threads cannot load;
 *  3. the C++ side caps the pool at min(requested, logical cores / 2): 1 thread on 2 cores.
 * Fixes: force the flag; record the text of the two Blobs (a Blob subclass) and let
 * URL.createObjectURL write them to files in a private temporary directory (the worker script is
 * rewritten to load the main script from its file, with the bundle-scope variables it refers to
 * defined); make os.cpus() report twice the cores while the backend initialises only.
 * XNNPACK's conv2d and matMul then use the pool (≈1.75× on 2 threads, docs/performance.md "Threads").
 *
 * Must run after `import '@tensorflow/tfjs-backend-wasm'` and before the wasm backend is
 * initialised (tf.setBackend('wasm')).
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import * as nodeOs from 'node:os';
import * as path from 'node:path';
import { UsageError } from '../util/errors.js';

const require = createRequire(import.meta.url);
const SUPPORTED_VERSION = '4.22.0';
const MAIN_PREFIX = 'var WasmBackendModuleThreadedSimd';
const WORKER_MARK = 'e.data.urlOrBlob';
/** The worker's branch that loads the main script from a string URL or a Blob. */
const WORKER_LOAD =
  'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}else{var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}';

let prepared: { dir: string; threads: number } | undefined;

/** Threads the wasm backend will be asked for (after prepareWasmThreads), 1 when not prepared. */
export function requestedWasmThreads(): number {
  return prepared?.threads ?? 1;
}

/**
 * Arrange for the wasm backend to start with `threads` threads. Returns false (and changes
 * nothing) when threads ≤ 1 or the runtime lacks SharedArrayBuffer / worker_threads.
 */
export function prepareWasmThreads(threads: number): boolean {
  if (prepared !== undefined) return true;
  if (threads <= 1 || typeof SharedArrayBuffer === 'undefined') return false;
  // the patches match tfjs-backend-wasm 4.22.0's bundle text; any other version stays single-threaded
  const version = (require('@tensorflow/tfjs-backend-wasm/package.json') as { version: string }).version;
  if (version !== SUPPORTED_VERSION) return false;
  const dir = mkdtempSync(path.join(nodeOs.tmpdir(), 'segloss-wasm-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const mainPath = path.join(dir, 'main.cjs');
  const texts = new WeakMap<Blob, string>();
  const NativeBlob = globalThis.Blob;
  class RecordingBlob extends NativeBlob {
    constructor(...args: ConstructorParameters<typeof Blob>) {
      super(...args);
      const parts = args[0];
      const text = (parts ?? []).map((p) => (typeof p === 'string' ? p : '')).join('');
      texts.set(this, text);
      if (text.startsWith(MAIN_PREFIX)) {
        // the bundle-scope variables the factory's source refers to, as in tf-backend-wasm.node.js
        const prelude =
          "var commonjsGlobal = globalThis; var require$$0 = require('fs'); var require$$1 = require('path'); " +
          "var require$$3 = require('perf_hooks'); var require$$4 = require('os');\n";
        writeFileSync(mainPath, prelude + text + '\nglobalThis.WasmBackendModuleThreadedSimd = WasmBackendModuleThreadedSimd;\n');
      }
    }
  }
  globalThis.Blob = RecordingBlob as typeof Blob;
  const nativeCreate = URL.createObjectURL.bind(URL);
  let workers = 0;
  URL.createObjectURL = (obj: Blob): string => {
    const text = obj instanceof NativeBlob ? texts.get(obj) : undefined;
    if (text === undefined || !text.includes(WORKER_MARK)) return nativeCreate(obj);
    workers += 1;
    const file = path.join(dir, `worker-${workers}.cjs`);
    writeFileSync(file, text.replace(WORKER_LOAD, `importScripts(${JSON.stringify(mainPath)});`));
    return file;
  };
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  const wasm = require('@tensorflow/tfjs-backend-wasm') as { setThreadsCount: (n: number) => void };
  wasm.setThreadsCount(threads);
  prepared = { dir, threads };
  return true;
}

/**
 * Run `init` (which initialises the wasm backend) with os.cpus() reporting 2× the cores, so the
 * C++ cap min(requested, cores/2) does not reduce the pool to 1 thread on 2 cores.
 */
export async function withDoubledCpuCount<T>(init: () => Promise<T>): Promise<T> {
  const os = require('node:os') as { cpus: () => nodeOs.CpuInfo[] };
  const original = os.cpus;
  os.cpus = () => {
    const c = original();
    return [...c, ...c];
  };
  try {
    return await init();
  } finally {
    os.cpus = original;
  }
}

interface NodeWorker {
  unref(): void;
}
interface PThreadLike {
  unusedWorkers: NodeWorker[];
  runningWorkers: NodeWorker[];
}

/**
 * Let the process exit while the pthread pool is alive: unref the pool's worker_threads (Emscripten
 * keeps them referenced, so a script would never end) and make later workers unref'd too. Call after
 * the wasm backend finished initialising (the pool has loaded by then).
 */
export function unrefWasmWorkers(): void {
  const backend = tf.findBackend('wasm') as unknown as { wasm?: { PThread?: PThreadLike } } | null;
  const pthread = backend?.wasm?.PThread;
  if (pthread === undefined) return;
  for (const w of [...pthread.unusedWorkers, ...pthread.runningWorkers]) w.unref();
  const g = globalThis as unknown as { Worker?: new (...args: unknown[]) => NodeWorker };
  const Base = g.Worker;
  if (Base !== undefined && !(Base as { seglossUnref?: boolean }).seglossUnref) {
    class UnrefWorker extends Base {
      static seglossUnref = true;
      constructor(...args: unknown[]) {
        super(...args);
        this.unref();
      }
    }
    g.Worker = UnrefWorker;
  }
}

/** Thread count requested through SEGLOSS_WASM_THREADS (positive integer), else `fallback`. */
export function wasmThreadsFromEnv(fallback: number): number {
  const raw = process.env['SEGLOSS_WASM_THREADS'];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`SEGLOSS_WASM_THREADS must be a positive integer, got '${raw}'`);
  return n;
}
