/**
 * BatchMatMul and _FusedMatMul (wasm) with `transposeA`/`transposeB` fall back to a naive loop
 * (≈2 GFLOP/s), and autodiff of `matMul` always sets a transpose flag. An explicit transpose (the
 * Transpose kernel registered before, ./Transpose.ts) followed by the flag-free XNNPACK path runs at
 * ≈20 GFLOP/s. Shared by ./BatchMatMul.ts and ./_FusedMatMul.ts.
 */
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import { kernelInput, kernelMemory, type KernelFunction } from '../heap.js';

export function matMulWithoutTransposeFlags(stock: KernelFunction, transposeKernel: KernelFunction): KernelFunction {
  return (args) => {
    const attrs = args.attrs as { transposeA: boolean; transposeB: boolean } & NamedAttrMap;
    if (!attrs.transposeA && !attrs.transposeB) return stock(args);
    const inputs: NamedTensorInfoMap = { ...args.inputs };
    const temps: TensorInfo[] = [];
    const swapLast2 = (t: TensorInfo): TensorInfo => {
      const r = t.shape.length;
      const perm = [...Array(r).keys()];
      perm[r - 2] = r - 1;
      perm[r - 1] = r - 2;
      const res = transposeKernel({ inputs: { x: t }, backend: args.backend, attrs: { perm } }) as TensorInfo;
      temps.push(res);
      return res;
    };
    if (attrs.transposeA) inputs['a'] = swapLast2(kernelInput(args, 'a'));
    if (attrs.transposeB) inputs['b'] = swapLast2(kernelInput(args, 'b'));
    const res = stock({ inputs, backend: args.backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    const memory = kernelMemory(args.backend);
    for (const t of temps) memory.release(t);
    return res;
  };
}
