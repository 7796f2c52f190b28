/**
 * `npm run bench:preprocess`: resample a 512×512×100 int16 CT volume from 0.7×0.7×5 mm
 * to 0.8×0.8×2.5 mm (image cubic + a 3-label map, nnU-Net's separate-z path since 5/0.7 > 3) with
 * segloss, and the same volume with the nnU-Net procedure built from scipy (per-slice
 * `zoom(order=3)`, per-label linear masks, nearest along z) in the same run; compare the outputs.
 * Last line: JSON with the times, ratio = reference / segloss, peak memory and the agreement.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Vec3 } from '../src/util/vec3.js';
import { resampleImage, resampleLabels, resampledShape, separateZAxis } from '../src/preprocess/resample.js';

const PYTHON = '/usr/bin/python3';
const HERE = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE_SCRIPT = path.resolve(HERE, '..', '..', 'bench', 'preprocess_reference.py');

const shapeIn: Vec3 = [512, 512, 100];
const spacingIn: Vec3 = [0.7, 0.7, 5];
const spacingOut: Vec3 = [0.8, 0.8, 2.5];
const shapeOut = resampledShape(shapeIn, spacingIn, spacingOut);
const axis = separateZAxis(spacingIn, spacingOut);
const mb = (bytes: number) => Number((bytes / 2 ** 20).toFixed(1));

const rss0 = process.memoryUsage().rss;
// A CT-like volume: air −1000, an elliptic body with smooth structure and noise, three organs.
const [ni, nj, nk] = shapeIn;
const image = new Int16Array(ni * nj * nk);
const labels = new Uint8Array(ni * nj * nk);
let seed = 12345;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
for (let k = 0, x = 0; k < nk; k++)
  for (let j = 0; j < nj; j++)
    for (let i = 0; i < ni; i++, x++) {
      const u = (i - 256) / 220;
      const v = (j - 256) / 160;
      const body = u * u + v * v < 1;
      image[x] = body ? Math.round(40 + 60 * Math.sin(i / 17) * Math.cos(j / 23 + k / 9) + 20 * (rnd() - 0.5)) : Math.round(-1000 + 10 * (rnd() - 0.5));
      const d1 = ((i - 200) / 80) ** 2 + ((j - 230) / 60) ** 2 + ((k - 50) / 30) ** 2;
      const d2 = ((i - 330) / 40) ** 2 + ((j - 280) / 35) ** 2 + ((k - 40) / 20) ** 2;
      const d3 = ((i - 260) / 15) ** 2 + ((j - 330) / 15) ** 2 + ((k - 60) / 25) ** 2;
      labels[x] = d3 < 1 ? 3 : d2 < 1 ? 2 : d1 < 1 ? 1 : 0;
    }

const t0 = performance.now();
const outImage = resampleImage(image, shapeIn, shapeOut, { order: 3, separateZAxis: axis });
const t1 = performance.now();
const outLabels = resampleLabels(labels, shapeIn, shapeOut, { separateZAxis: axis });
const t2 = performance.now();
const peakBytes = process.resourceUsage().maxRSS * 1024 - rss0;
const inputFloat32Bytes = ni * nj * nk * 4;
const seglossMs = t2 - t0;
console.log(`segloss: ${shapeIn.join('×')} @ ${spacingIn.join('×')} mm → ${shapeOut.join('×')} @ ${spacingOut.join('×')} mm (separate z axis ${String(axis)})`);
console.log(`segloss: image ${(t1 - t0).toFixed(0)} ms, labels ${(t2 - t1).toFixed(0)} ms, peak memory ${mb(peakBytes)} MB (limit 4 × float32 input = ${mb(4 * inputFloat32Bytes)} MB)`);

const result: Record<string, unknown> = {
  bench: 'preprocess',
  shape_in: shapeIn,
  shape_out: shapeOut,
  segloss_ms: Math.round(seglossMs),
  segloss_image_ms: Math.round(t1 - t0),
  segloss_labels_ms: Math.round(t2 - t1),
  peak_memory_mb: mb(peakBytes),
  peak_memory_over_input_f32: Number((peakBytes / inputFloat32Bytes).toFixed(2)),
  reference_ms: null,
  ratio: null,
};

if (!existsSync(PYTHON) || spawnSync(PYTHON, ['-c', 'import scipy, numpy'], { encoding: 'utf8' }).status !== 0) {
  console.log(`reference skipped: ${PYTHON} with numpy and scipy is not available`);
} else {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'segloss-bench-preprocess-'));
  try {
    writeFileSync(path.join(dir, 'image.i16'), new Uint8Array(image.buffer));
    writeFileSync(path.join(dir, 'label.u8'), labels);
    const args = [REFERENCE_SCRIPT, path.join(dir, 'image.i16'), path.join(dir, 'label.u8'), ...shapeIn.map(String), ...shapeOut.map(String), path.join(dir, 'ref')];
    const r = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`reference failed: ${r.stderr}`);
    const ref = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { image_ms: number; labels_ms: number; peak_rss_mb: number };
    const referenceMs = ref.image_ms + ref.labels_ms;
    const refImage = new Float32Array(readFileSync(path.join(dir, 'ref_image.f32')).buffer.slice(0));
    const refLabels = readFileSync(path.join(dir, 'ref_label.u8'));
    let maxAbs = 0;
    let scale = 0;
    for (let x = 0; x < refImage.length; x++) {
      maxAbs = Math.max(maxAbs, Math.abs((outImage[x] as number) - (refImage[x] as number)));
      scale = Math.max(scale, Math.abs(refImage[x] as number));
    }
    let labelMismatch = 0;
    for (let x = 0; x < refLabels.length; x++) if (refLabels[x] !== outLabels[x]) labelMismatch++;
    console.log(`reference (scipy, nnU-Net procedure): image ${ref.image_ms.toFixed(0)} ms, labels ${ref.labels_ms.toFixed(0)} ms, peak RSS ${ref.peak_rss_mb.toFixed(0)} MB`);
    console.log(`agreement: max |Δ| image ${maxAbs.toExponential(2)} (relative ${(maxAbs / scale).toExponential(2)}), label mismatches ${labelMismatch} of ${refLabels.length}`);
    Object.assign(result, {
      reference_ms: Math.round(referenceMs),
      reference_image_ms: Math.round(ref.image_ms),
      reference_labels_ms: Math.round(ref.labels_ms),
      reference_peak_rss_mb: Math.round(ref.peak_rss_mb),
      ratio: Number((referenceMs / seglossMs).toFixed(2)),
      max_rel_diff_image: Number((maxAbs / scale).toExponential(2)),
      label_mismatches: labelMismatch,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(JSON.stringify(result));
