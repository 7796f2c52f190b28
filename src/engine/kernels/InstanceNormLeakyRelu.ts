/**
 * SeglossInstanceNormLeakyRelu (wasm and cpu): the forward kernel of the fused InstanceNorm +
 * LeakyReLU (formulas and the op: ../instance-norm.ts; loop order: ./instance-norm-layout.ts).
 * Inputs x = [N, ...spatial, C], gamma, beta = [C]; attributes eps, slope. Outputs y (shape of x)
 * and stats [N, 2, C] = (mean, 1/σ) for the gradient kernel.
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import { kernelInput, kernelMemory } from '../heap.js';
import type { KernelConfig } from './kernel-config.js';
import { chunkLength, instanceNormDims } from './instance-norm-layout.js';

export const INSTANCE_NORM_LEAKY_RELU = 'SeglossInstanceNormLeakyRelu';

export const instanceNormLeakyReluConfig: KernelConfig = {
  kernelName: INSTANCE_NORM_LEAKY_RELU,
  backendNames: ['wasm', 'cpu'],
  build: () => (args): TensorInfo[] => {
    const xInfo = kernelInput(args, 'x');
    const { n: N, s: S, c: C } = instanceNormDims(xInfo.shape);
    const attrs = args.attrs ?? {};
    const eps = attrs['eps'] as number;
    const slope = attrs['slope'] as number;
    const memory = kernelMemory(args.backend);
    const out = memory.allocate([xInfo.shape, [N, 2, C]], 'float32');
    const x = memory.readFloat32(xInfo);
    const gamma = memory.readFloat32(kernelInput(args, 'gamma'));
    const beta = memory.readFloat32(kernelInput(args, 'beta'));
    const [y, stats] = out.views as [Float32Array, Float32Array];
    const sum = new Float64Array(C);
    const sumSq = new Float64Array(C);
    const scale = new Float32Array(C);
    const shift = new Float32Array(C);
    // LReLU(z) = p·z + q·|z| with p = (1+slope)/2, q = (1−slope)/2: branch-free (branches cost ≈3×).
    const p = (1 + slope) / 2;
    const q = (1 - slope) / 2;
    const K = chunkLength(C);
    for (let n = 0; n < N; n++) {
      const base = n * S * C;
      const end = base + S * C;
      sum.fill(0);
      sumSq.fill(0);
      for (let start = base; start < end; start += K) {
        const stop = Math.min(end, start + K);
        for (let c = 0; c < C; c++) {
          let sc = sum[c] as number;
          let sq = sumSq[c] as number;
          for (let i = start + c; i < stop; i += C) {
            const v = x[i] as number;
            sc += v;
            sq += v * v;
          }
          sum[c] = sc;
          sumSq[c] = sq;
        }
      }
      for (let c = 0; c < C; c++) {
        const mean = (sum[c] as number) / S;
        const variance = Math.max(0, (sumSq[c] as number) / S - mean * mean);
        const inv = 1 / Math.sqrt(variance + eps);
        stats[n * 2 * C + c] = mean;
        stats[n * 2 * C + C + c] = inv;
        scale[c] = (gamma[c] as number) * inv;
        shift[c] = (beta[c] as number) - mean * (scale[c] as number);
      }
      for (let start = base; start < end; start += K) {
        const stop = Math.min(end, start + K);
        for (let c = 0; c < C; c++) {
          const sc = scale[c] as number;
          const sh = shift[c] as number;
          for (let i = start + c; i < stop; i += C) {
            const z = (x[i] as number) * sc + sh;
            y[i] = p * z + q * Math.abs(z);
          }
        }
      }
    }
    return out.finish();
  },
};
