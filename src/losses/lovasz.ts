/**
 * Lovász-Softmax, paper Eqs. 11–13, as released (`LovaszSoftmax`, reduction 'mean').
 *
 * All B·V voxels of the batch are flattened together (no per-image mode). For every class c,
 * background and absent classes included (no 'present' filter): e_i = |1[y_i = c] − x_{c,i}|,
 * sorted in decreasing order; loss_c = Σ_j e_(j) · ΔJ_j with ΔJ the discrete derivative of the
 * Jaccard loss of the sorted ground truth (`lovasz_grad`); L = mean_c loss_c.
 *
 * The released trainer feeds the raw logits as x (`input: 'logits'`, the default, kept for
 * fidelity); Berman et al. and paper Eq. 11 use softmax probabilities (`input: 'softmax'`).
 *
 * tfjs has no gradient for TopK (and gather has none on wasm), so the permutation is applied to the
 * constant side: inside `noGradient` the errors are read back, sorted on the CPU (LSD radix sort of
 * the float bits, linear time), ΔJ is accumulated in float64 and written back in voxel order as
 * weights w; then L = mean_c Σ_i e_{c,i} w_{c,i}, whose gradient is exactly the Lovász gradient.
 * Ties in the errors do not change the value; torch's order among equal errors is unspecified too.
 */
import * as tf from '@tensorflow/tfjs';
import { noGradient } from './common.js';

export type LovaszInput = 'logits' | 'softmax';

const RADIX_BITS = 11;
const RADIX = 1 << RADIX_BITS;

/**
 * Indices 0..n−1 ordered by decreasing key (keys are float32 bit patterns of non-negative numbers,
 * whose unsigned order is the numeric order). Stable LSD radix sort in three 11-bit passes.
 */
function orderByDecreasing(keys: Uint32Array, n: number, scratch: { a: Uint32Array; b: Uint32Array; k: Uint32Array; k2: Uint32Array }): Uint32Array {
  let idx = scratch.a;
  let tmp = scratch.b;
  let key = scratch.k;
  let tmpKey = scratch.k2;
  for (let i = 0; i < n; i++) {
    idx[i] = i;
    key[i] = ~keys[i]! >>> 0; // decreasing order = increasing complement
  }
  const count = new Uint32Array(RADIX);
  for (let shift = 0; shift < 32; shift += RADIX_BITS) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[(key[i]! >>> shift) & (RADIX - 1)]++;
    let sum = 0;
    for (let r = 0; r < RADIX; r++) {
      const c = count[r]!;
      count[r] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = key[i]!;
      const pos = count[(k >>> shift) & (RADIX - 1)]++;
      tmp[pos] = idx[i]!;
      tmpKey[pos] = k;
    }
    [idx, tmp] = [tmp, idx];
    [key, tmpKey] = [tmpKey, key];
  }
  return idx;
}

/**
 * Lovász weights in voxel order: errors and labels are [N, C] / [N]; returns w [N, C] with
 * w_{i,c} = ΔJ_c at the rank of voxel i in the decreasing order of e_{·,c}.
 */
export function lovaszWeights(errors: Float32Array, labels: ArrayLike<number>, numClasses: number): Float32Array {
  const c = numClasses;
  const n = labels.length;
  const out = new Float32Array(n * c);
  const column = new Float32Array(n);
  const bits = new Uint32Array(column.buffer);
  const scratch = { a: new Uint32Array(n), b: new Uint32Array(n), k: new Uint32Array(n), k2: new Uint32Array(n) };
  for (let cls = 0; cls < c; cls++) {
    let gts = 0;
    for (let i = 0; i < n; i++) {
      column[i] = errors[i * c + cls]!;
      if (labels[i] === cls) gts++;
    }
    const order = orderByDecreasing(bits, n, scratch);
    let cumFg = 0;
    let cumBg = 0;
    let previous = 0;
    for (let j = 0; j < n; j++) {
      const i = order[j]!;
      if (labels[i] === cls) cumFg++;
      else cumBg++;
      const jaccard = 1 - (gts - cumFg) / (gts + cumBg);
      out[i * c + cls] = jaccard - previous;
      previous = jaccard;
    }
  }
  return out;
}

/** Lovász loss from flattened logits z [B, V, C], one-hot g [B, V, C] and the label map. */
export function lovaszLoss(z: tf.Tensor3D, g: tf.Tensor3D, labels: tf.Tensor, input: LovaszInput): tf.Scalar {
  return tf.tidy(() => {
    const c = z.shape[2];
    const x = input === 'softmax' ? tf.softmax(z) : z;
    const e = tf.abs(tf.sub(g, x)) as tf.Tensor3D;
    const w = noGradient(e, (errors) => tf.tensor(lovaszWeights(errors.dataSync() as Float32Array, labels.dataSync(), c), errors.shape, 'float32'));
    return tf.div(tf.sum(tf.mul(e, w)), c) as tf.Scalar;
  });
}
