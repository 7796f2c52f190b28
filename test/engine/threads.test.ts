/**
 * Threaded wasm (src/engine/wasm-threads.ts): with SEGLOSS_WASM_THREADS=2 the backend reports 2
 * threads, computes bit-identical logits and gradients as with 1 thread, and the
 * process exits on its own (the pthread workers do not keep it alive).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT, maxRelativeError } from '../helpers.js';

interface ChildOut {
  threads: number;
  logits: number[];
  grad: number[];
}

function run(threads: number): ChildOut {
  const script = path.join(REPO_ROOT, 'dist', 'test', 'engine', 'threads-child.js');
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, SEGLOSS_WASM_THREADS: String(threads) } });
  assert.equal(r.status, 0, `child with ${threads} threads: ${r.stderr}${r.error ? String(r.error) : ''}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildOut;
}

test('threaded wasm: 2 threads, bit-identical results to 1 thread, process exits', () => {
  const one = run(1);
  const two = run(2);
  assert.equal(one.threads, 1);
  assert.equal(two.threads, 2);
  assert.equal(two.logits.length, 2 * 16 * 16 * 16 * 2);
  // bit-identical: XNNPACK splits work by output tiles, the summation order does not change
  assert.ok(maxRelativeError(two.logits, one.logits) === 0, `logits differ: ${maxRelativeError(two.logits, one.logits)}`);
  assert.ok(maxRelativeError(two.grad, one.grad) === 0, `gradients differ: ${maxRelativeError(two.grad, one.grad)}`);
});
