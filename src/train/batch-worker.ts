/**
 * Worker-thread entry of the batch producer (./producer.ts). Holds the cases and batch
 * configurations it was sent (cases live in SharedArrayBuffers, so nothing is copied) and answers
 * batch requests; the result buffers are transferred back, not copied.
 */
import { parentPort } from 'node:worker_threads';
import { makeBatch, type BatchConfig, type BatchKind } from './batches.js';
import type { TrainingCase } from './sampler.js';

export type WorkerRequest =
  | { type: 'setup'; key: string; train: TrainingCase[]; val: TrainingCase[]; config: BatchConfig }
  | { type: 'release'; key: string }
  | { type: 'batch'; id: number; key: string; kind: BatchKind; index: number };

const setups = new Map<string, { train: TrainingCase[]; val: TrainingCase[]; config: BatchConfig }>();

parentPort?.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'setup') {
    setups.set(msg.key, { train: msg.train, val: msg.val, config: msg.config });
    return;
  }
  if (msg.type === 'release') {
    setups.delete(msg.key);
    return;
  }
  const setup = setups.get(msg.key);
  try {
    if (setup === undefined) throw new Error(`batch worker: unknown setup ${msg.key}`);
    const batch = makeBatch(msg.kind === 'train' ? setup.train : setup.val, setup.config, msg.kind, msg.index);
    const transfer: ArrayBuffer[] = [batch.image.buffer as ArrayBuffer, batch.labels.buffer as ArrayBuffer];
    if (batch.distanceMaps) transfer.push(batch.distanceMaps.buffer as ArrayBuffer);
    parentPort?.postMessage({ id: msg.id, batch }, transfer);
  } catch (err) {
    parentPort?.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
});
