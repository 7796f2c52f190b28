/**
 * `npm run bench:losses`: forward + backward time of every loss on logits
 * [2, 64, 64, 64, 3] on the default backend, and the exact EDT on a 128³ mask beside
 * scipy.ndimage.distance_transform_edt on the same mask in the same run (Debian python3-scipy;
 * skipped with a message when missing). Last line: JSON with the figures.
 *
 * Options: --backend NAME (default auto), --repeats N (default 3), --only id,id.
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { selectBackend, type BackendRequest } from '../src/engine/backend.js';
import { createLoss, LOSS_IDS, STUDY_EPOCH_ITERATIONS } from '../src/losses/registry.js';
import { distanceTransformEdt } from '../src/ndimage/edt.js';
import { Rng } from '../src/util/rng.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const SHAPE: [number, number, number, number, number] = [2, 64, 64, 64, 3];
const BOUNDARY_BASED = new Set(['bd', 'hd', 'pce', 'dicebd', 'dicehd']);

/** Labels: two ellipsoids (classes 1 and 2) per sample, offset between samples. */
function makeLabels(): Int32Array {
  const [b, d, h, w] = SHAPE;
  const out = new Int32Array(b * d * h * w);
  for (let ib = 0; ib < b; ib++) {
    for (let z = 0; z < d; z++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = ((ib * d + z) * h + y) * w + x;
          const e1 = ((z - 30 - ib * 4) / 18) ** 2 + ((y - 28) / 14) ** 2 + ((x - 32) / 20) ** 2;
          const e2 = ((z - 40) / 8) ** 2 + ((y - 44 + ib * 3) / 6) ** 2 + ((x - 30) / 9) ** 2;
          out[i] = e2 <= 1 ? 2 : e1 <= 1 ? 1 : 0;
        }
      }
    }
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeLoss(id: string, logits: tf.Tensor5D, labels: tf.Tensor4D, repeats: number): number {
  const loss = createLoss(id);
  const vg = tf.valueAndGrad((x: tf.Tensor) => loss.fn(x as tf.Tensor5D, labels, { step: 50 * STUDY_EPOCH_ITERATIONS }));
  const once = (): number => {
    const t0 = performance.now();
    const { value, grad } = vg(logits);
    value.dataSync();
    grad.dataSync();
    const t = performance.now() - t0;
    value.dispose();
    grad.dispose();
    return t;
  };
  once(); // warm-up: kernel compilation, buffers
  return median(Array.from({ length: repeats }, once));
}

function pythonWithScipy(): string | undefined {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import scipy.ndimage, numpy; print(scipy.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return undefined;
}

const PY_EDT = `
import sys, json, time, numpy as np, scipy
from scipy.ndimage import distance_transform_edt
n = int(sys.argv[2])
mask = np.fromfile(sys.argv[1], dtype=np.uint8).reshape(n, n, n).astype(bool)
times = []
for _ in range(int(sys.argv[3])):
    t0 = time.perf_counter(); d = distance_transform_edt(mask); times.append((time.perf_counter() - t0) * 1000)
d.astype(np.float64).tofile(sys.argv[1] + '.edt')
print(json.dumps({"ms": sorted(times)[len(times) // 2], "scipy": scipy.__version__}))
`;

async function main(): Promise<void> {
  const backend = await selectBackend((arg('--backend') ?? 'auto') as BackendRequest);
  const repeats = Number(arg('--repeats') ?? 3);
  const only = arg('--only')?.split(',');
  console.error(`backend: ${backend.description}; logits [${SHAPE.join(', ')}]; median of ${repeats} after a warm-up`);
  console.error('note: timings on a shared 2-core machine are noisy and pessimistic');

  const labelsArr = makeLabels();
  const rng = new Rng(1);
  const logitsArr = new Float32Array(labelsArr.length * 3);
  for (let i = 0; i < labelsArr.length; i++) for (let c = 0; c < 3; c++) logitsArr[i * 3 + c] = rng.normal() + (labelsArr[i] === c ? 1.5 : 0);
  const logits = tf.tensor5d(logitsArr, SHAPE);
  const labels = tf.tensor4d(labelsArr, SHAPE.slice(0, 4) as [number, number, number, number], 'int32');

  const lossMs: Record<string, number> = {};
  for (const id of only ?? LOSS_IDS) {
    lossMs[id] = timeLoss(id, logits, labels, repeats);
    console.error(`${id.padEnd(14)} ${lossMs[id]!.toFixed(1).padStart(9)} ms`);
  }
  logits.dispose();
  labels.dispose();
  const diceceMs = lossMs['dicece'];
  let worst: { id: string; ratio: number } | undefined;
  if (diceceMs !== undefined) {
    for (const [id, ms] of Object.entries(lossMs)) {
      if (BOUNDARY_BASED.has(id)) continue;
      const ratio = ms / diceceMs;
      if (worst === undefined || ratio > worst.ratio) worst = { id, ratio };
    }
    console.error(`slowest non-boundary loss: ${worst!.id} at ${worst!.ratio.toFixed(2)}× dicece (goal ≤ 2)`);
  }

  // EDT on a 128³ mask: a ball plus random blobs.
  const n = 128;
  const mask = new Uint8Array(n * n * n);
  const mrng = new Rng(2);
  const blobs = Array.from({ length: 12 }, () => [mrng.uniform(10, 118), mrng.uniform(10, 118), mrng.uniform(10, 118), mrng.uniform(4, 20)] as const);
  for (let z = 0; z < n; z++) {
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const inBall = (z - 64) ** 2 + (y - 60) ** 2 + (x - 66) ** 2 <= 40 ** 2;
        const inBlob = blobs.some(([bz, by, bx, r]) => (z - bz) ** 2 + (y - by) ** 2 + (x - bx) ** 2 <= r * r);
        mask[(z * n + y) * n + x] = inBall !== inBlob ? 1 : 0;
      }
    }
  }
  let edt = distanceTransformEdt(mask, [n, n, n]);
  const edtTimes: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    edt = distanceTransformEdt(mask, [n, n, n]);
    edtTimes.push(performance.now() - t0);
  }
  const edtMs = median(edtTimes);
  console.error(`EDT 128³ (segloss)  ${edtMs.toFixed(1)} ms`);

  let scipyMs: number | null = null;
  let scipyVersion: string | null = null;
  let maxDiff: number | null = null;
  const py = pythonWithScipy();
  if (py === undefined) {
    console.error('EDT reference skipped: python3 with scipy not found (apt-get install -y python3-scipy)');
  } else {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'segloss-bench-'));
    try {
      const file = path.join(dir, 'mask.u8');
      writeFileSync(file, mask);
      const r = spawnSync(py, ['-c', PY_EDT, file, String(n), '3'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`scipy reference failed: ${r.stderr}`);
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ms: number; scipy: string };
      scipyMs = out.ms;
      scipyVersion = out.scipy;
      if (existsSync(file + '.edt')) {
        const ref = new Float64Array(readFileSync(file + '.edt').buffer.slice(0));
        maxDiff = 0;
        for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref[i]! - edt[i]!));
      }
      console.error(`EDT 128³ (scipy ${scipyVersion}) ${scipyMs.toFixed(1)} ms; max |difference| ${maxDiff}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const result = {
    bench: 'losses',
    backend: backend.backend,
    logits_shape: SHAPE,
    loss_fwd_bwd_ms: Object.fromEntries(Object.entries(lossMs).map(([k, v]) => [k, Number(v.toFixed(2))])),
    dicece_ms: diceceMs === undefined ? null : Number(diceceMs.toFixed(2)),
    slowest_non_boundary: worst === undefined ? null : { id: worst.id, ratio_to_dicece: Number(worst.ratio.toFixed(3)) },
    edt_128_segloss_ms: Number(edtMs.toFixed(2)),
    edt_128_reference_ms: scipyMs === null ? null : Number(scipyMs.toFixed(2)),
    edt_max_abs_difference: maxDiff,
    ratio: scipyMs === null ? null : Number((scipyMs / edtMs).toFixed(3)),
  };
  console.log(JSON.stringify(result));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
