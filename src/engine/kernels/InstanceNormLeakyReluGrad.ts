/**
 * SeglossInstanceNormLeakyReluGrad (wasm and cpu): the backward kernel of the fused InstanceNorm +
 * LeakyReLU (formulas and the op: ../instance-norm.ts; loop order: ./instance-norm-layout.ts).
 * Inputs dy, x, y (the forward output), gamma, stats (the forward's [N, 2, C]); attribute slope.
 * Outputs dx, dγ, dβ.
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import { kernelInput, kernelMemory } from '../heap.js';
import type { KernelConfig } from './kernel-config.js';
import { chunkLength, instanceNormDims } from './instance-norm-layout.js';

export const INSTANCE_NORM_LEAKY_RELU_GRAD = 'SeglossInstanceNormLeakyReluGrad';

export const instanceNormLeakyReluGradConfig: KernelConfig = {
  kernelName: INSTANCE_NORM_LEAKY_RELU_GRAD,
  backendNames: ['wasm', 'cpu'],
  build: () => (args): TensorInfo[] => {
    const xInfo = kernelInput(args, 'x');
    const { n: N, s: S, c: C } = instanceNormDims(xInfo.shape);
    const slope = (args.attrs ?? {})['slope'] as number;
    const memory = kernelMemory(args.backend);
    const out = memory.allocate([xInfo.shape, [C], [C]], 'float32');
    const dy = memory.readFloat32(kernelInput(args, 'dy'));
    const x = memory.readFloat32(xInfo);
    const y = memory.readFloat32(kernelInput(args, 'y'));
    const yBits = new Int32Array(y.buffer, y.byteOffset, y.length);
    const gamma = memory.readFloat32(kernelInput(args, 'gamma'));
    const stats = memory.readFloat32(kernelInput(args, 'stats'));
    const [dx, dGamma, dBeta] = out.views as [Float32Array, Float32Array, Float32Array];
    const a = new Float64Array(C);
    const bx = new Float64Array(C);
    const dg = new Float64Array(C);
    const db = new Float64Array(C);
    const k1 = new Float32Array(C);
    const kx = new Float32Array(C);
    const k0 = new Float32Array(C);
    // LReLU'(z) from the sign bit of y: 1 for y ≥ +0, slope for y < 0 (and −0).
    const drop = 1 - slope;
    const K = chunkLength(C);
    for (let n = 0; n < N; n++) {
      const base = n * S * C;
      const end = base + S * C;
      a.fill(0);
      bx.fill(0);
      // pass 1: a = Σ g, bx = Σ g·x  (then Σ g·x̂ = inv·(bx − μ·a), in float64)
      for (let start = base; start < end; start += K) {
        const stop = Math.min(end, start + K);
        for (let c = 0; c < C; c++) {
          let ac = a[c] as number;
          let bc = bx[c] as number;
          for (let i = start + c; i < stop; i += C) {
            const g = (dy[i] as number) * (1 - drop * ((yBits[i] as number) >>> 31));
            ac += g;
            bc += g * (x[i] as number);
          }
          a[c] = ac;
          bx[c] = bc;
        }
      }
      for (let c = 0; c < C; c++) {
        const mean = stats[n * 2 * C + c] as number;
        const inv = stats[n * 2 * C + C + c] as number;
        const ac = a[c] as number;
        const b = inv * ((bx[c] as number) - mean * ac);
        db[c] = (db[c] as number) + ac;
        dg[c] = (dg[c] as number) + b;
        // dx = f·(g − a/S − x̂·b/S) = k1·g − kx·x + k0,  f = γ·inv
        const f = (gamma[c] as number) * inv;
        k1[c] = f;
        kx[c] = (f * inv * b) / S;
        k0[c] = (f * inv * b * mean) / S - (f * ac) / S;
      }
      for (let start = base; start < end; start += K) {
        const stop = Math.min(end, start + K);
        for (let c = 0; c < C; c++) {
          const k1c = k1[c] as number;
          const kxc = kx[c] as number;
          const k0c = k0[c] as number;
          for (let i = start + c; i < stop; i += C) {
            const g = (dy[i] as number) * (1 - drop * ((yBits[i] as number) >>> 31));
            dx[i] = k1c * g - kxc * (x[i] as number) + k0c;
          }
        }
      }
    }
    for (let c = 0; c < C; c++) {
      dGamma[c] = dg[c] as number;
      dBeta[c] = db[c] as number;
    }
    return out.finish();
  },
};
