/**
 * Transpose (wasm). The stock kernel of rank ≥ 5 runs a generic per-element C++ loop, and any
 * transpose that moves the innermost axis is an untiled loop. This one first merges axes that stay
 * adjacent (and drops size-1 axes); then a tiled copy when the innermost axis moves; else the stock
 * C++ kernel when the merged rank is ≤ 4, else a loop that copies contiguous runs.
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { kernelInput, kernelMemory, type HeapArray } from '../heap.js';
import { strides } from './copy-runs.js';
import type { KernelConfig } from './kernel-config.js';

/**
 * Simplify a transpose: drop size-1 axes and merge input axes that stay adjacent and in order in
 * the output. Returns the merged input shape and the permutation over merged axes.
 */
export function mergeTransposeAxes(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const keep = perm.filter((p) => (shape[p] as number) !== 1);
  // groups of consecutive input axes, in output order
  const groups: number[][] = [];
  for (const p of keep) {
    const last = groups[groups.length - 1];
    if (last !== undefined && nextKeptAxis(shape, last[last.length - 1] as number) === p) last.push(p);
    else groups.push([p]);
  }
  const byInput = [...groups].sort((a, b) => (a[0] as number) - (b[0] as number));
  const mergedShape = byInput.map((g) => g.reduce((acc, p) => acc * (shape[p] as number), 1));
  const mergedPerm = groups.map((g) => byInput.indexOf(g));
  return { shape: mergedShape, perm: mergedPerm };
}

function nextKeptAxis(shape: readonly number[], axis: number): number {
  let a = axis + 1;
  while (a < shape.length && shape[a] === 1) a++;
  return a;
}

/** Generic transpose on typed arrays (used for merged rank > 4); copies contiguous runs when possible. */
export function transposeArray(src: HeapArray, shape: readonly number[], perm: readonly number[], dst: HeapArray): void {
  const rank = shape.length;
  const inSt = strides(shape);
  const outShape = perm.map((p) => shape[p] as number);
  const srcStride = perm.map((p) => inSt[p] as number);
  const last = rank - 1;
  const n = outShape[last] as number;
  const s = srcStride[last] as number;
  const total = dst.length;
  const idx = new Array<number>(rank).fill(0);
  let o = 0;
  let off = 0;
  while (o < total) {
    if (s === 1 && n >= 64) {
      dst.set(src.subarray(off, off + n), o);
    } else {
      for (let k = 0, q = off; k < n; k++, q += s) dst[o + k] = src[q] as number;
    }
    o += n;
    let a = last - 1;
    while (a >= 0) {
      idx[a] = (idx[a] as number) + 1;
      off += srcStride[a] as number;
      if ((idx[a] as number) < (outShape[a] as number)) break;
      off -= (outShape[a] as number) * (srcStride[a] as number);
      idx[a] = 0;
      a--;
    }
  }
}

/**
 * Transpose that moves the innermost input axis away from the innermost position (e.g. the
 * [N·D, H·W, C] → [C, H·W, N·D] reversal that builds the filter-gradient operand). Copies 16×16
 * tiles of (input-last axis × output-last axis) so both reads and writes stay in cache: ≈4× faster
 * than the stock C++ loop on [132, 4356, 32].
 */
export function transposeTiled(src: HeapArray, shape: readonly number[], perm: readonly number[], dst: HeapArray): void {
  const r = shape.length;
  const inSt = strides(shape);
  const outShape = perm.map((p) => shape[p] as number);
  const outSt = strides(outShape);
  const lastIn = perm[r - 1] as number; // contiguous in the output
  const j = perm.indexOf(r - 1); // output position of the input's contiguous axis
  const nA = shape[lastIn] as number;
  const sA = inSt[lastIn] as number;
  const nC = shape[r - 1] as number;
  const oC = outSt[j] as number;
  const others = [...Array(r).keys()].filter((q) => q !== j && q !== r - 1);
  const oShape = others.map((q) => outShape[q] as number);
  const oIn = others.map((q) => inSt[perm[q] as number] as number);
  const oOut = others.map((q) => outSt[q] as number);
  const total = oShape.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(others.length).fill(0);
  const TILE = 16;
  let inBase = 0;
  let outBase = 0;
  for (let it = 0; it < total; it++) {
    for (let a0 = 0; a0 < nA; a0 += TILE) {
      const a1 = Math.min(nA, a0 + TILE);
      for (let c0 = 0; c0 < nC; c0 += TILE) {
        const c1 = Math.min(nC, c0 + TILE);
        for (let c = c0; c < c1; c++) {
          const o = outBase + c * oC;
          const i = inBase + c;
          for (let a = a0; a < a1; a++) dst[o + a] = src[i + a * sA] as number;
        }
      }
    }
    let q = others.length - 1;
    while (q >= 0) {
      idx[q] = (idx[q] as number) + 1;
      inBase += oIn[q] as number;
      outBase += oOut[q] as number;
      if ((idx[q] as number) < (oShape[q] as number)) break;
      inBase -= (oShape[q] as number) * (oIn[q] as number);
      outBase -= (oShape[q] as number) * (oOut[q] as number);
      idx[q] = 0;
      q--;
    }
  }
}

export const transposeConfig: KernelConfig = {
  kernelName: 'Transpose',
  backendNames: ['wasm'],
  build: (registered) => {
    const stock = registered('Transpose');
    return (args) => {
      const x = kernelInput(args, 'x');
      const perm = (args.attrs as { perm: number[] }).perm;
      const outShape = perm.map((p) => x.shape[p] as number);
      if (x.dtype === 'string') return stock(args);
      const merged = mergeTransposeAxes(x.shape, perm);
      const mr = merged.shape.length;
      if (mr >= 2 && merged.perm[mr - 1] !== mr - 1 && tf.util.sizeFromShape(merged.shape) >= 4096) {
        const memory = kernelMemory(args.backend);
        const out = memory.allocate([outShape], x.dtype);
        transposeTiled(memory.read(x), merged.shape, merged.perm, out.views[0] as HeapArray);
        return out.finish()[0] as TensorInfo;
      }
      if (merged.shape.length <= 4) {
        const res = stock({ inputs: { x: { dataId: x.dataId, shape: merged.shape, dtype: x.dtype } }, backend: args.backend, attrs: { perm: merged.perm } }) as TensorInfo;
        (res as { shape: number[] }).shape = outShape;
        return res;
      }
      const memory = kernelMemory(args.backend);
      const out = memory.allocate([outShape], x.dtype);
      transposeArray(memory.read(x), merged.shape, merged.perm, out.views[0] as HeapArray);
      return out.finish()[0] as TensorInfo;
    };
  },
};
