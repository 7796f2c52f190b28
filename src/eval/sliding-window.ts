/**
 * nnU-Net V1 sliding-window inference (docs/evaluation.md,
 * `_internal_predict_3D_3Dconv_tiled` of v1-final):
 *
 * 1. Pad the image with 0 to at least the patch size per axis (floor of the difference below,
 *    the rest above).
 * 2. Window starts per axis: target step = 0.5·patch; n = ceil((size − patch)/target) + 1;
 *    actual step = (size − patch)/(n − 1); start_t = round(actual·t) (numpy's round-half-to-even).
 *    The first window starts at 0, the last ends at the border.
 * 3. Gaussian importance map g(x) = Π_a exp(−½ (x_a − c_a)²/σ_a²), c_a = ⌊patch_a/2⌋,
 *    σ_a = patch_a/8, zero beyond scipy's truncation radius ⌊4σ_a + ½⌋, normalised to 1 at the
 *    centre, float32, zeros replaced by the smallest non-zero value. (This is what
 *    `gaussian_filter` of a centred delta gives: the kernel normalisation cancels in the
 *    division by the maximum.) With a single window the weight is 1 (v1-final).
 * 4. Per window: softmax(logits); with test-time augmentation, the mean over the 8 mirrorings
 *    {none, W, H, HW, D, DW, DH, DHW} of softmax(model(flip(x))) flipped back (probabilities are
 *    averaged, not logits).
 * 5. Aggregate Σ_windows p·g / Σ_windows g per voxel, then remove the padding.
 *
 * Layout: `image` is channel-major with every channel i-fastest (as volumes and preprocessing
 * store it), shape (ni, nj, nk) in NIfTI order, `patchSize` too; the model sees tensors
 * [B, D, H, W, C] with (D, H, W) = (k, j, i). The output is class-major, each class i-fastest.
 */
import * as tf from '@tensorflow/tfjs';
import type { Vec3 } from '../util/vec3.js';
import { gaussianWeights } from '../ndimage/gaussian.js';

export interface PatchPredictor {
  /** Logits [B, D, H, W, numClasses] for an input [B, D, H, W, channels]. */
  predict(x: tf.Tensor5D): tf.Tensor5D;
}

export interface SlidingWindowOptions {
  /** Window step as a fraction of the patch (nnU-Net: 0.5). */
  stepFraction?: number;
  /** Mirroring test-time augmentation over the 8 flips. */
  tta: boolean;
  numClasses: number;
  /** Largest number of voxels (batch × window) per model call when batching mirrored copies (default 2^20). */
  maxBatchVoxels?: number;
  /** Called after each window. */
  onWindow?: (done: number, total: number) => void;
}

/** numpy's np.round (half to even) for the window starts. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Window start offsets along one axis (nnU-Net `compute_steps_for_sliding_window`). */
export function windowStarts(size: number, patch: number, stepFraction = 0.5): number[] {
  if (size < patch) throw new Error(`windowStarts: size ${size} < patch ${patch} (pad first)`);
  const target = patch * stepFraction;
  const n = Math.ceil((size - patch) / target) + 1;
  const actual = n > 1 ? (size - patch) / (n - 1) : 0;
  return Array.from({ length: n }, (_, t) => roundHalfEven(actual * t));
}

/** Gaussian importance map over a patch (i-fastest, patch in (i, j, k) order), float32. */
export function gaussianImportanceMap(patch: Vec3): Float32Array {
  const factors = patch.map((p) => {
    const sigma = p / 8;
    const centre = Math.floor(p / 2);
    const weights = gaussianWeights(sigma); // exp(−d²/2σ²) for |d| ≤ radius, 1 at d = 0
    const radius = (weights.length - 1) / 2;
    return Float64Array.from({ length: p }, (_, x) => (Math.abs(x - centre) <= radius ? (weights[x - centre + radius] as number) : 0));
  }) as [Float64Array, Float64Array, Float64Array];
  const [f0, f1, f2] = factors;
  const g = new Float32Array(patch[0] * patch[1] * patch[2]);
  let o = 0;
  for (let k = 0; k < patch[2]; k++) for (let j = 0; j < patch[1]; j++) for (let i = 0; i < patch[0]; i++) g[o++] = (f0[i] as number) * (f1[j] as number) * (f2[k] as number);
  let minNonZero = Infinity;
  for (let n = 0; n < g.length; n++) if ((g[n] as number) > 0 && (g[n] as number) < minNonZero) minNonZero = g[n] as number;
  for (let n = 0; n < g.length; n++) if (g[n] === 0) g[n] = minNonZero;
  return g;
}

/** The 8 mirrorings as lists of tensor axes (1 = D, 2 = H, 3 = W), nnU-Net's order. */
export const MIRROR_AXES: readonly (readonly number[])[] = [[], [3], [2], [2, 3], [1], [1, 3], [1, 2], [1, 2, 3]];

/**
 * Softmax probabilities of one window [1, D, H, W, C] → channel-last Float32Array, averaged over
 * mirrorings. Mirrored copies go through the model together, up to `maxBatchVoxels` voxels per
 * call (batching the 8 flips is ~1.7× faster on wasm; bounded so large patches stay within memory).
 */
function predictWindow(model: PatchPredictor, x: tf.Tensor5D, tta: boolean, maxBatchVoxels: number): Float32Array {
  const flips = tta ? MIRROR_AXES : [[]];
  const windowVoxels = x.shape[1] * x.shape[2] * x.shape[3];
  const batch = Math.max(1, Math.min(flips.length, Math.floor(maxBatchVoxels / windowVoxels)));
  const mean = tf.tidy(() => {
    let sum: tf.Tensor | undefined;
    for (let start = 0; start < flips.length; start += batch) {
      const group = flips.slice(start, start + batch);
      const inputs = group.map((axes) => (axes.length > 0 ? tf.reverse(x, [...axes]) : x));
      const input = inputs.length === 1 ? (inputs[0] as tf.Tensor5D) : tf.concat(inputs, 0);
      const probs = tf.softmax(model.predict(input as tf.Tensor5D));
      const parts = group.length === 1 ? [probs] : tf.split(probs, group.length, 0);
      group.forEach((axes, g) => {
        const p = axes.length > 0 ? tf.reverse(parts[g] as tf.Tensor, [...axes]) : (parts[g] as tf.Tensor);
        sum = sum === undefined ? p : tf.add(sum, p);
      });
    }
    return tf.mul(sum as tf.Tensor, 1 / flips.length);
  });
  const data = mean.dataSync() as Float32Array;
  mean.dispose();
  return data;
}

/**
 * Class probabilities (class-major, each class i-fastest, shape `shape`) of `image` by sliding
 * windows of `patchSize` (see the module comment).
 */
export function slidingWindowPredict(model: PatchPredictor, image: Float32Array, channels: number, shape: Vec3, patchSize: Vec3, options: SlidingWindowOptions): Float32Array {
  const [ni, nj, nk] = shape;
  const nVox = ni * nj * nk;
  if (image.length !== nVox * channels) throw new Error(`slidingWindowPredict: ${image.length} values for ${channels} channel(s) of shape ${shape.join('x')}`);
  const C = options.numClasses;
  // 1. padding
  const padded: Vec3 = [Math.max(ni, patchSize[0]), Math.max(nj, patchSize[1]), Math.max(nk, patchSize[2])];
  const below: Vec3 = [0, 1, 2].map((a) => Math.floor(((padded[a] as number) - (shape[a] as number)) / 2)) as Vec3;
  const [pi, pj, pk] = padded;
  const nPad = pi * pj * pk;
  // channel-last padded image [pk, pj, pi, channels] (the model's [D, H, W, C])
  const input = new Float32Array(nPad * channels);
  for (let c = 0; c < channels; c++) {
    for (let k = 0; k < nk; k++) for (let j = 0; j < nj; j++) {
      let src = c * nVox + ni * (j + nj * k);
      let dst = (below[0] + pi * (j + below[1] + pj * (k + below[2]))) * channels + c;
      for (let i = 0; i < ni; i++, src++, dst += channels) input[dst] = image[src] as number;
    }
  }
  // 2. windows
  const step = options.stepFraction ?? 0.5;
  const starts = [0, 1, 2].map((a) => windowStarts(padded[a] as number, patchSize[a] as number, step)) as [number[], number[], number[]];
  const total = starts[0].length * starts[1].length * starts[2].length;
  // 3. importance
  const [qi, qj, qk] = patchSize;
  const weight = total > 1 ? gaussianImportanceMap(patchSize) : new Float32Array(qi * qj * qk).fill(1);
  const aggregated = new Float32Array(nPad * C); // channel-last [pk, pj, pi, C]
  const weightSum = new Float32Array(nPad);
  const image5 = tf.tensor5d(input, [1, pk, pj, pi, channels]);
  let done = 0;
  try {
    for (const sk of starts[2]) for (const sj of starts[1]) for (const si of starts[0]) {
      const window = tf.slice(image5, [0, sk, sj, si, 0], [1, qk, qj, qi, channels]);
      let probs: Float32Array;
      try {
        probs = predictWindow(model, window, options.tta, options.maxBatchVoxels ?? 2 ** 20);
      } finally {
        window.dispose();
      }
      if (probs.length !== qi * qj * qk * C) throw new Error(`slidingWindowPredict: the model returned ${probs.length} values, expected ${qi * qj * qk}×${C}`);
      // 4–5. accumulate p·g and g
      let w = 0;
      for (let k = 0; k < qk; k++) for (let j = 0; j < qj; j++) {
        let dst = si + pi * (sj + j + pj * (sk + k));
        for (let i = 0; i < qi; i++, w++, dst++) {
          const g = weight[w] as number;
          weightSum[dst] = (weightSum[dst] as number) + g;
          const src = w * C;
          const out = dst * C;
          for (let c = 0; c < C; c++) aggregated[out + c] = (aggregated[out + c] as number) + (probs[src + c] as number) * g;
        }
      }
      options.onWindow?.(++done, total);
    }
  } finally {
    image5.dispose();
  }
  // normalise and un-pad into class-major i-fastest
  const out = new Float32Array(nVox * C);
  for (let k = 0; k < nk; k++) for (let j = 0; j < nj; j++) {
    let src = below[0] + pi * (j + below[1] + pj * (k + below[2]));
    let dst = ni * (j + nj * k);
    for (let i = 0; i < ni; i++, src++, dst++) {
      const g = weightSum[src] as number;
      for (let c = 0; c < C; c++) out[c * nVox + dst] = (aggregated[src * C + c] as number) / g;
    }
  }
  return out;
}

/** Argmax over classes of class-major probabilities → uint8 labels (first maximum wins, as numpy). */
export function argmaxClasses(probabilities: Float32Array, numClasses: number): Uint8Array {
  const n = probabilities.length / numClasses;
  const labels = new Uint8Array(n);
  const best = probabilities.slice(0, n);
  for (let c = 1; c < numClasses; c++) {
    const base = c * n;
    for (let v = 0; v < n; v++) {
      const p = probabilities[base + v] as number;
      if (p > (best[v] as number)) {
        best[v] = p;
        labels[v] = c;
      }
    }
  }
  return labels;
}
