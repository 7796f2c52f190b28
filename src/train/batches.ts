/**
 * One training or validation batch, built from in-memory cases: sampling with foreground
 * oversampling (./sampler.ts), augmentation for training batches (./augment.ts), the (D, H, W, C)
 * channels-last layout the model takes, and — for boundary losses — the per-class distance maps
 * of the labels (computed here, off the training thread, outside the gradient).
 *
 * Every batch is a pure function of (seed, kind, index): its random generator is derived from
 * them alone. So batches do not depend on which worker made them or in which order, a resumed run
 * sees exactly the batches the uninterrupted run would have seen, and a run repeats with its seed.
 */
import type { Vec3 } from '../util/vec3.js';
import { Rng } from '../util/rng.js';
import { computeDistanceMaps, type DistanceMapKind } from '../losses/distance.js';
import { sampleBatch, type TrainingCase, type Patch } from './sampler.js';
import { augmentPatch, removePadding, type AugmentationParams } from './augment.js';

export interface BatchConfig {
  seed: number;
  batchSize: number;
  /** Network input patch (i, j, k). */
  finalPatch: Vec3;
  /** Enlarged patch the training loader cuts before the spatial transform (i, j, k). */
  loadedPatch: Vec3;
  augmentation: AugmentationParams;
  /** Dummy-2D slice axis (i = 0, j = 1, k = 2) or null for full 3D augmentation. */
  sliceAxis: number | null;
  numClasses: number;
  /** Distance maps to compute per batch, if the loss reads them. */
  distanceMaps?: DistanceMapKind;
  /** Voxel spacing (i, j, k) in mm, for anisotropic distance maps. */
  spacingMm: Vec3;
  /** Per channel: normalised within the non-zero region, so the mask transform applies (plan's use_nonzero_mask). */
  maskChannels?: boolean[];
}

export type BatchKind = 'train' | 'val';

export interface Batch {
  kind: BatchKind;
  index: number;
  /** [B, D, H, W, C] = [B, k, j, i, C]. */
  shape: [number, number, number, number, number];
  image: Float32Array;
  /** [B, D, H, W] labels in [0, numClasses). */
  labels: Int32Array;
  /** [B, D, H, W, C] (or C = 1 for 'penalty') distance maps when configured. */
  distanceMaps?: Float32Array;
  distanceChannels?: number;
  caseIds: string[];
  /** Milliseconds spent making this batch. */
  millis: number;
}

/** The random generator of batch `index` of `kind` (independent of every other batch). */
export function batchRng(seed: number, kind: BatchKind, index: number): Rng {
  return new Rng(seed).fork(`${kind}:${index}`);
}

/** Validation batch `b` of epoch `epoch` gets index epoch·1e6 + b (unique, stable across resumes). */
export function validationIndex(epoch: number, b: number): number {
  return epoch * 1_000_000 + b;
}

/** Build batch `index` of `kind` from `cases` (training cases for 'train', validation cases for 'val'). */
export function makeBatch(cases: readonly TrainingCase[], config: BatchConfig, kind: BatchKind, index: number): Batch {
  const start = performance.now();
  const rng = batchRng(config.seed, kind, index);
  const final = config.finalPatch;
  let patches: Patch[];
  let caseIds: string[];
  if (kind === 'train') {
    const drawn = sampleBatch(cases, config.batchSize, config.loadedPatch, final, rng);
    caseIds = drawn.caseIds;
    patches = drawn.patches.map((p) => augmentPatch(p, final, config.augmentation, config.sliceAxis, rng, config.maskChannels ?? []).patch);
  } else {
    // Validation: the final patch size directly, with the same oversampling, no augmentation.
    const drawn = sampleBatch(cases, config.batchSize, final, final, rng);
    caseIds = drawn.caseIds;
    patches = drawn.patches;
    for (const p of patches) removePadding(p.seg);
  }
  const [fi, fj, fk] = final;
  const nVox = fi * fj * fk;
  const channels = patches[0]?.channels ?? 1;
  const image = new Float32Array(config.batchSize * nVox * channels);
  const labels = new Int32Array(config.batchSize * nVox);
  patches.forEach((p, b) => {
    // Channel-major i-fastest [C][k][j][i] → channels-last [k][j][i][C]: the same voxel order.
    const base = b * nVox;
    for (let q = 0; q < nVox; q++) labels[base + q] = p.seg[q] as number;
    if (channels === 1) image.set(p.image, base);
    else for (let ch = 0; ch < channels; ch++) for (let q = 0; q < nVox; q++) image[(base + q) * channels + ch] = p.image[ch * nVox + q] as number;
  });
  const batch: Batch = { kind, index, shape: [config.batchSize, fk, fj, fi, channels], image, labels, caseIds, millis: 0 };
  if (config.distanceMaps !== undefined) {
    const spacingDhw: [number, number, number] = [config.spacingMm[2], config.spacingMm[1], config.spacingMm[0]];
    batch.distanceMaps = computeDistanceMaps(labels, [config.batchSize, fk, fj, fi], config.numClasses, config.distanceMaps, spacingDhw);
    batch.distanceChannels = config.distanceMaps === 'penalty' ? 1 : config.numClasses;
  }
  batch.millis = performance.now() - start;
  return batch;
}

/** A case with its arrays moved into SharedArrayBuffers, so worker threads read it without copies. */
export function shareCase(c: TrainingCase): TrainingCase {
  const share = <T extends Float32Array | Uint8Array | Int32Array>(a: T, make: (buf: SharedArrayBuffer) => T): T => {
    if (a.buffer instanceof SharedArrayBuffer) return a;
    const out = make(new SharedArrayBuffer(a.byteLength));
    out.set(a as never);
    return out;
  };
  return {
    id: c.id,
    shape: c.shape,
    channels: c.channels,
    image: share(c.image, (b) => new Float32Array(b)),
    seg: share(c.seg, (b) => new Uint8Array(b)),
    classVoxels: c.classVoxels.map((v) => share(v, (b) => new Int32Array(b))),
    ...(c.outside !== undefined ? { outside: share(c.outside, (b) => new Uint8Array(b)) } : {}),
  };
}
