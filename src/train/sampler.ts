/**
 * Patch sampling with foreground oversampling, as nnU-Net V1's `DataLoader3D` does it
 * (nnU-Net V1 `DataLoader3D.generate_train_batch`).
 *
 * - Cases are drawn uniformly with replacement.
 * - Sample j of a batch of size B is forced to contain foreground iff j ≥ round(B·(1 − 0.33)) with
 *   Python's round-half-even (B = 2: sample 1 forced, sample 0 random).
 * - Per axis, need = loaded − final (or loaded − size when the case is still too small); lower
 *   corners run over lb = −⌊need/2⌋ … ub = size + ⌊need/2⌋ + need mod 2 − loaded.
 * - Random sample: corner uniform in [lb, ub]. Forced sample: a foreground class present in the case
 *   uniformly, one of its voxels uniformly, corner = max(lb, voxel − ⌊loaded/2⌋) (no upper clamp);
 *   a case without foreground falls back to a random corner.
 * - The in-bounds part is copied; image padding is 0, label padding −1 (and −1 outside the
 *   non-zero region when the case carries that mask, as nnU-Net's cropping stores it).
 *
 * Arrays are in NIfTI order (i fastest, see src/data/volume.ts); images channel-major.
 */
import type { Vec3 } from '../util/vec3.js';
import type { Rng } from '../util/rng.js';

/** A preprocessed case held in memory for sampling. */
export interface TrainingCase {
  id: string;
  /** (ni, nj, nk). */
  shape: Vec3;
  channels: number;
  /** channels × ni·nj·nk, channel-major, i fastest. */
  image: Float32Array;
  /** ni·nj·nk labels in [0, numClasses). */
  seg: Uint8Array;
  /** classVoxels[c − 1]: linear voxel indices of foreground class c (1 … numClasses − 1). */
  classVoxels: Int32Array[];
  /**
   * 1 where the voxel lies outside the case's non-zero region (nnU-Net stores label −1 there),
   * when the plan normalises some channel within that region; absent otherwise.
   */
  outside?: Uint8Array;
}

/** A patch: image channel-major i-fastest, labels with −1 where padded. */
export interface Patch {
  shape: Vec3;
  channels: number;
  image: Float32Array;
  seg: Int8Array;
}

/** Python 3's round(): half to even. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The fraction nnU-Net V1 oversamples (`oversample_foreground_percent`). */
export const OVERSAMPLE_FOREGROUND = 0.33;

/** Whether sample `index` of a batch of `batchSize` is forced to contain foreground. */
export function isForcedForeground(index: number, batchSize: number, percent = OVERSAMPLE_FOREGROUND): boolean {
  return !(index < roundHalfEven(batchSize * (1 - percent)));
}

/** Linear voxel indices of every foreground class (1 … numClasses − 1) of a label map. */
export function classVoxelIndices(seg: Uint8Array, numClasses: number): Int32Array[] {
  const counts = new Int32Array(numClasses);
  for (let n = 0; n < seg.length; n++) {
    const c = seg[n] as number;
    if (c < numClasses) counts[c] = (counts[c] as number) + 1;
  }
  const out: Int32Array[] = [];
  for (let c = 1; c < numClasses; c++) out.push(new Int32Array(counts[c] as number));
  const fill = new Int32Array(numClasses);
  for (let n = 0; n < seg.length; n++) {
    const c = seg[n] as number;
    if (c >= 1 && c < numClasses) {
      (out[c - 1] as Int32Array)[fill[c] as number] = n;
      fill[c] = (fill[c] as number) + 1;
    }
  }
  return out;
}

/** Lower-corner range [lb, ub] per axis for a case of `size` and the loaded/final patch sizes. */
export function cornerBounds(size: Vec3, loaded: Vec3, final: Vec3): { lb: Vec3; ub: Vec3 } {
  const lb: number[] = [];
  const ub: number[] = [];
  for (let d = 0; d < 3; d++) {
    const s = size[d] as number;
    const l = loaded[d] as number;
    let need = l - (final[d] as number);
    if (s + need < l) need = l - s;
    lb.push(-Math.floor(need / 2));
    ub.push(s + Math.floor(need / 2) + (need % 2) - l);
  }
  return { lb: lb as Vec3, ub: ub as Vec3 };
}

/** Choose the lower corner of one sample. */
export function chooseCorner(c: TrainingCase, loaded: Vec3, final: Vec3, forced: boolean, rng: Rng): Vec3 {
  const { lb, ub } = cornerBounds(c.shape, loaded, final);
  if (forced) {
    const present: number[] = [];
    c.classVoxels.forEach((v, idx) => {
      if (v.length > 0) present.push(idx);
    });
    if (present.length > 0) {
      const voxels = c.classVoxels[present[rng.int(present.length)] as number] as Int32Array;
      const n = voxels[rng.int(voxels.length)] as number;
      const [ni, nj] = c.shape;
      const voxel = [n % ni, Math.floor(n / ni) % nj, Math.floor(n / (ni * nj))];
      return [0, 1, 2].map((d) => Math.max(lb[d] as number, (voxel[d] as number) - Math.floor((loaded[d] as number) / 2))) as Vec3;
    }
  }
  return [0, 1, 2].map((d) => (lb[d] as number) + rng.int((ub[d] as number) - (lb[d] as number) + 1)) as Vec3;
}

/** Cut the patch of `size` at lower corner `corner` (may lie outside the case), padding 0 / −1. */
export function cropPatch(c: TrainingCase, corner: Vec3, size: Vec3): Patch {
  const [pi, pj, pk] = size;
  const [ni, nj, nk] = c.shape;
  const nPatch = pi * pj * pk;
  const nCase = ni * nj * nk;
  const image = new Float32Array(c.channels * nPatch);
  const seg = new Int8Array(nPatch).fill(-1);
  const i0 = Math.max(0, corner[0]);
  const i1 = Math.min(ni, corner[0] + pi);
  for (let k = Math.max(0, corner[2]); k < Math.min(nk, corner[2] + pk); k++) {
    for (let j = Math.max(0, corner[1]); j < Math.min(nj, corner[1] + pj); j++) {
      const src = i0 + ni * (j + nj * k);
      const dst = i0 - corner[0] + pi * (j - corner[1] + pj * (k - corner[2]));
      const len = i1 - i0;
      if (len <= 0) continue;
      for (let n = 0; n < len; n++) seg[dst + n] = c.seg[src + n] as number;
      if (c.outside !== undefined) for (let n = 0; n < len; n++) if (c.outside[src + n] === 1 && seg[dst + n] === 0) seg[dst + n] = -1;
      for (let ch = 0; ch < c.channels; ch++) {
        image.set(c.image.subarray(ch * nCase + src, ch * nCase + src + len), ch * nPatch + dst);
      }
    }
  }
  return { shape: [pi, pj, pk], channels: c.channels, image, seg };
}

/** Draw a batch: case indices (uniform with replacement) and patches of the loaded size. */
export function sampleBatch(cases: readonly TrainingCase[], batchSize: number, loaded: Vec3, final: Vec3, rng: Rng): { caseIds: string[]; patches: Patch[]; forced: boolean[] } {
  const caseIds: string[] = [];
  const patches: Patch[] = [];
  const forced: boolean[] = [];
  const picks: number[] = [];
  for (let b = 0; b < batchSize; b++) picks.push(rng.int(cases.length));
  for (let b = 0; b < batchSize; b++) {
    const c = cases[picks[b] as number] as TrainingCase;
    const f = isForcedForeground(b, batchSize);
    const corner = chooseCorner(c, loaded, final, f, rng);
    caseIds.push(c.id);
    patches.push(cropPatch(c, corner, loaded));
    forced.push(f);
  }
  return { caseIds, patches, forced };
}
