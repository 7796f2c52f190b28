/**
 * Batch preparation off the training thread. A process-wide pool of worker threads (reused by
 * every run of the process: an LR search or a benchmark grid pays the start-up once) builds
 * batches ahead of the training loop; the loop only waits when a batch is not ready yet, and
 * `BatchStream` measures that wait.
 *
 * The sequence of batches of a run is fixed: epoch e consists of training batches
 * e·I … e·I + I − 1 followed by validation batches (e, 0 … V − 1). The stream walks that sequence
 * from any epoch (resume) and keeps `window` batches in flight, across epoch boundaries.
 * With `workers = 0` batches are made in the calling thread (tests, debugging).
 */
import { Worker } from 'node:worker_threads';
import * as os from 'node:os';
import { makeBatch, shareCase, validationIndex, type Batch, type BatchConfig, type BatchKind } from './batches.js';
import type { TrainingCase } from './sampler.js';
import type { WorkerRequest } from './batch-worker.js';
import { RuntimeFailure } from '../util/errors.js';

interface Pending {
  resolve: (b: Batch) => void;
  reject: (e: Error) => void;
}

/** Worker threads that build batches. */
export class BatchWorkerPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private nextWorker = 0;
  private inFlight = 0;
  /** Set when a worker died: every later request fails at once instead of waiting forever. */
  broken: Error | undefined;

  constructor(size: number) {
    for (let w = 0; w < size; w++) {
      const worker = new Worker(new URL('./batch-worker.js', import.meta.url));
      worker.on('message', (msg: { id: number; batch?: Batch; error?: string }) => this.onMessage(msg));
      worker.on('error', (err) => this.failAll(err));
      worker.on('exit', (code) => {
        if (!this.terminating) this.failAll(new Error(`batch worker exited with code ${code}`));
      });
      worker.unref();
      this.workers.push(worker);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  private onMessage(msg: { id: number; batch?: Batch; error?: string }): void {
    const p = this.pending.get(msg.id);
    if (p === undefined) return;
    this.pending.delete(msg.id);
    this.inFlight -= 1;
    if (this.inFlight === 0) for (const w of this.workers) w.unref();
    if (msg.error !== undefined || msg.batch === undefined) p.reject(new RuntimeFailure(`batch preparation failed: ${msg.error ?? 'no batch'}`));
    else p.resolve(msg.batch);
  }

  private terminating = false;

  private failAll(err: Error): void {
    this.broken ??= err;
    for (const p of this.pending.values()) p.reject(new RuntimeFailure(`batch worker crashed: ${err.message}`));
    this.pending.clear();
    this.inFlight = 0;
  }

  /** Send cases and configuration to every worker under `key`. */
  setup(key: string, train: TrainingCase[], val: TrainingCase[], config: BatchConfig): void {
    const msg: WorkerRequest = { type: 'setup', key, train, val, config };
    for (const w of this.workers) w.postMessage(msg);
  }

  release(key: string): void {
    const msg: WorkerRequest = { type: 'release', key };
    for (const w of this.workers) w.postMessage(msg);
  }

  request(key: string, kind: BatchKind, index: number): Promise<Batch> {
    if (this.broken !== undefined) return Promise.reject(new RuntimeFailure(`batch worker crashed: ${this.broken.message}`));
    const id = this.nextId++;
    const worker = this.workers[this.nextWorker] as Worker;
    this.nextWorker = (this.nextWorker + 1) % this.workers.length;
    // Keep the process alive only while batches are on their way.
    if (this.inFlight === 0) for (const w of this.workers) w.ref();
    this.inFlight += 1;
    return new Promise<Batch>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const msg: WorkerRequest = { type: 'batch', id, key, kind, index };
      worker.postMessage(msg);
    });
  }

  async terminate(): Promise<void> {
    this.terminating = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}

let shared: BatchWorkerPool | undefined;

/** Default number of batch workers: the cores left after the training thread, at least 1, at most 4. */
export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(4, os.availableParallelism() - 1));
}

/** The process-wide pool, grown on demand (never shrunk). */
export function sharedWorkerPool(size: number): BatchWorkerPool {
  if (shared === undefined || shared.size < size || shared.broken !== undefined) {
    const old = shared;
    shared = new BatchWorkerPool(size);
    if (old !== undefined) void old.terminate();
  }
  return shared;
}

/** Stop the process-wide pool (tests; the CLI exits anyway). */
export async function shutdownWorkerPool(): Promise<void> {
  const p = shared;
  shared = undefined;
  if (p !== undefined) await p.terminate();
}

let setupCounter = 0;

/** Position of a batch in a run's fixed sequence. */
export interface BatchSlot {
  epoch: number;
  kind: BatchKind;
  /** Iteration within the epoch (training) or validation batch number. */
  step: number;
  /** Global index passed to makeBatch. */
  index: number;
}

/** Walks a run's batch sequence from a given epoch, prefetching `window` batches. */
export class BatchStream {
  private readonly key: string;
  private readonly queue: { slot: BatchSlot; batch: Promise<Batch> }[] = [];
  private cursor: number;
  /** Milliseconds the consumer spent waiting in next(). */
  waitMillis = 0;
  /** Milliseconds workers (or the caller, without workers) spent making batches. */
  makeMillis = 0;

  constructor(
    private readonly train: TrainingCase[],
    private readonly val: TrainingCase[],
    private readonly config: BatchConfig,
    private readonly iterations: number,
    private readonly valBatches: number,
    startEpoch: number,
    private readonly pool: BatchWorkerPool | null,
    private readonly window: number,
  ) {
    this.cursor = startEpoch * (iterations + valBatches);
    this.key = `setup-${process.pid}-${setupCounter++}`;
    if (pool !== null) {
      pool.setup(this.key, train.map(shareCase), val.map(shareCase), config);
      this.fill();
    }
  }

  /** Slot n of the sequence. */
  slot(n: number): BatchSlot {
    const per = this.iterations + this.valBatches;
    const epoch = Math.floor(n / per);
    const r = n % per;
    if (r < this.iterations) return { epoch, kind: 'train', step: r, index: epoch * this.iterations + r };
    return { epoch, kind: 'val', step: r - this.iterations, index: validationIndex(epoch, r - this.iterations) };
  }

  private fill(): void {
    while (this.pool !== null && this.queue.length < this.window) {
      const slot = this.slot(this.cursor++);
      this.queue.push({ slot, batch: this.pool.request(this.key, slot.kind, slot.index) });
    }
  }

  /** The next batch of the sequence and its slot. */
  async next(): Promise<{ slot: BatchSlot; batch: Batch }> {
    const t0 = performance.now();
    if (this.pool === null) {
      const slot = this.slot(this.cursor++);
      const batch = makeBatch(slot.kind === 'train' ? this.train : this.val, this.config, slot.kind, slot.index);
      this.makeMillis += batch.millis;
      this.waitMillis += performance.now() - t0;
      return { slot, batch };
    }
    const head = this.queue.shift();
    if (head === undefined) throw new Error('batch stream: empty queue');
    this.fill();
    const batch = await head.batch;
    this.makeMillis += batch.millis;
    this.waitMillis += performance.now() - t0;
    return { slot: head.slot, batch };
  }

  /** Drop prefetched batches and free the workers' copy of this run's setup. */
  async close(): Promise<void> {
    if (this.pool === null) return;
    const outstanding = this.queue.splice(0).map((q) => q.batch.catch(() => undefined));
    await Promise.all(outstanding);
    this.pool.release(this.key);
  }
}
