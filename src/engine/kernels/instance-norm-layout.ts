/**
 * Layout and loop order shared by the fused InstanceNorm + LeakyReLU kernels
 * (./InstanceNormLeakyRelu.ts, ./InstanceNormLeakyReluGrad.ts; the formulas: ../instance-norm.ts).
 *
 * Loop order of both kernels: the [S, C] data of one sample is walked in chunks of whole voxels
 * (about 16 KB, so a chunk stays in L1), and inside a chunk channel by channel with the running sums
 * in local variables. Each channel still adds its voxels in voxel order, so the float64 sums are
 * bit-identical to a plain voxel-major loop, which is about 2× slower (it updates a Float64Array
 * per value); walking each channel over the whole sample is as slow once the sample leaves the cache.
 * The loops are written out in each kernel: one shared chunk walker calling back per (chunk, channel)
 * measured 20–25 % slower (the callback is not inlined, and the loop body reads captured variables).
 */
import * as tf from '@tensorflow/tfjs';

/** Samples N, spatial voxels S and channels C of x = [N, ...spatial, C]. */
export function instanceNormDims(shape: readonly number[]): { n: number; s: number; c: number } {
  const n = shape[0] as number;
  const c = shape[shape.length - 1] as number;
  return { n, s: tf.util.sizeFromShape(shape as number[]) / Math.max(1, n * c), c };
}

/** Elements per chunk: whole voxels, about 4096 floats (16 KB). */
export function chunkLength(channels: number): number {
  return Math.max(1, Math.floor(4096 / channels)) * channels;
}
