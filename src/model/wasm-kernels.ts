/**
 * Kernel patches for @tensorflow/tfjs-backend-wasm 4.22 (see docs/model.md, "wasm kernel patches", and docs/performance.md).
 *
 * The stock wasm backend has layout kernels that are slow enough to dominate a 3D U-Net step:
 * - `Slice` copies the WHOLE input out of the wasm heap (`readSync`) before taking the slice, and
 *   uses a per-element path for rank ≥ 5 (≈640 ms per 1M floats). Replaced by a heap-view copy of
 *   contiguous runs (any rank).
 * - `Transpose` of rank ≥ 5 runs a generic per-element C++ loop, and any transpose that moves the
 *   innermost axis is an untiled loop. Replaced by: merge axes that stay adjacent (and drop size-1
 *   axes); a tiled JS copy when the innermost axis moves; else the stock C++ kernel when the merged
 *   rank is ≤ 4, else a JS loop that copies contiguous runs.
 * - Reductions (`Sum`, `Mean`, `Max`, `Min`) over non-innermost axes first transpose the input with
 *   the slow rank-5 path. Replaced by: merge adjacent axes of equal role first (e.g. a sum over
 *   axes [0,1,2,3] of [N,D,H,W,C] becomes a sum over axis 0 of [N·D·H·W, C]).
 * - `SplitV` (the gradient of `concat`, e.g. of every U-Net skip connection) calls the stock Slice
 *   directly (≈0.5 s for a [2,32³,16] split). Replaced by the patched Slice.
 * - `PadV2`: a generic C++ loop (≈1.3 ms per [2,32³,8] pad). Replaced by fill + contiguous-run copy.
 * - `Reverse` (the flipped kernel of every conv3d input gradient, and its gradient): a generic
 *   per-element loop (4.6 ms for a [3,3,3,64,64] kernel; 7 % of a toy training step). Replaced by a
 *   copy of contiguous runs in reversed order.
 * - `Concat` copies every inner block with `subarray` + `set` (2.4 ms for the channel concatenation
 *   of a [2,32,32,16,8] skip connection). Replaced by a scalar loop for short blocks.
 * - `Identity` (used by tfjs to clone every tensor saved for backprop) copies the data. Replaced by
 *   a reference-counted share of the same memory (what tfjs-backend-cpu does).
 * - `BatchMatMul` / `_FusedMatMul` with `transposeA`/`transposeB` fall back to a naive loop
 *   (≈2 GFLOP/s); autodiff of `matMul` always sets a transpose flag. Replaced by an explicit
 *   transpose followed by the XNNPACK (≈20 GFLOP/s) path.
 *
 * The patches are semantics-preserving (same values, same shapes) and are installed once, after the
 * wasm backend is initialised (the stock kernels' setup functions must have run).
 */
import * as tf from '@tensorflow/tfjs';
import type { DataType, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

type HeapArray = Float32Array | Int32Array | Uint8Array;

/** The part of tfjs-backend-wasm's BackendWasm that the JS kernels use. */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): HeapArray;
  disposeData(dataId: object): boolean;
  incRef(dataId: object): void;
}

interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: WasmBackendLike;
  attrs?: NamedAttrMap;
}
type WasmKernel = (args: KernelArgs) => TensorInfo | TensorInfo[];

let installed = false;

function input(args: KernelArgs, name: string): TensorInfo {
  const t = args.inputs[name];
  if (t === undefined) throw new Error(`kernel input '${name}' missing`);
  return t;
}

function stockKernel(name: string): WasmKernel {
  const config = tf.getKernel(name, 'wasm');
  if (config === undefined) throw new Error(`wasm kernel ${name} not registered`);
  return config.kernelFunc as unknown as WasmKernel;
}

function replaceKernel(name: string, kernelFunc: WasmKernel): void {
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc });
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = (s[i + 1] as number) * (shape[i + 1] as number);
  return s;
}

/** Copy src[from, from + length) to dst[to, …): `TypedArray.set` for long runs, a scalar loop for short ones (where `set`'s call overhead dominates). */
function copyRun(src: HeapArray, from: number, dst: HeapArray, to: number, length: number): void {
  if (length >= 64) dst.set(src.subarray(from, from + length), to);
  else for (let k = 0; k < length; k++) dst[to + k] = src[from + k] as number;
}

/**
 * Copy a contiguous run of `run` elements at every position of an odometer over `counts`
 * (outermost axis first). The source offset starts at `srcStart` and moves by `srcSteps[a]` per
 * step of axis a; the destination offset likewise. Slicing, padding and reversing are this copy
 * with different starts and steps.
 */
function copyRuns(
  src: HeapArray, srcStart: number, srcSteps: readonly number[],
  dst: HeapArray, dstStart: number, dstSteps: readonly number[],
  counts: readonly number[], run: number,
): void {
  const axes = counts.length;
  const total = counts.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(axes).fill(0);
  let from = srcStart;
  let to = dstStart;
  for (let r = 0; r < total; r++) {
    copyRun(src, from, dst, to, run);
    let a = axes - 1;
    while (a >= 0) {
      idx[a] = (idx[a] as number) + 1;
      from += srcSteps[a] as number;
      to += dstSteps[a] as number;
      if ((idx[a] as number) < (counts[a] as number)) break;
      from -= (counts[a] as number) * (srcSteps[a] as number);
      to -= (counts[a] as number) * (dstSteps[a] as number);
      idx[a] = 0;
      a--;
    }
  }
}

/**
 * Copy the box `begin..begin+size` of a row-major array of `shape` into `dst` (row-major `size`).
 * Trailing axes that are fully covered merge into one contiguous run.
 */
export function copySlice(src: HeapArray, shape: readonly number[], begin: readonly number[], size: readonly number[], dst: HeapArray): void {
  const rank = shape.length;
  let axis = rank - 1;
  while (axis >= 0 && begin[axis] === 0 && size[axis] === shape[axis]) axis--;
  const st = strides(shape);
  if (axis < 0) {
    dst.set(src.subarray(0, dst.length));
    return;
  }
  let base = 0;
  for (let i = 0; i <= axis; i++) base += (begin[i] as number) * (st[i] as number);
  copyRuns(src, base, st.slice(0, axis), dst, 0, strides(size).slice(0, axis), size.slice(0, axis), (size[axis] as number) * (st[axis] as number));
}

/**
 * Reverse the row-major array `src` of `shape` along `axes` into `dst`. The axes after the last
 * reversed one are copied as one contiguous run per position of the leading axes (e.g. a 3×3×3
 * kernel flipped in its spatial axes: 27 runs of Ci·Co floats).
 */
export function copyReversed(src: HeapArray, shape: readonly number[], axes: readonly number[], dst: HeapArray): void {
  const rank = shape.length;
  const reversed = new Array<boolean>(rank).fill(false);
  for (const a of axes) reversed[a] = true;
  let last = rank - 1;
  while (last >= 0 && !reversed[last]) last--;
  if (last < 0) {
    dst.set(src.subarray(0, dst.length));
    return;
  }
  const st = strides(shape);
  const run = st[last] as number;
  // Source offset of output position 0 and the source step per output step along each leading axis.
  let off = 0;
  const step = new Array<number>(last + 1);
  for (let a = 0; a <= last; a++) {
    if (reversed[a]) {
      off += ((shape[a] as number) - 1) * (st[a] as number);
      step[a] = -(st[a] as number);
    } else {
      step[a] = st[a] as number;
    }
  }
  copyRuns(src, off, step, dst, 0, st.slice(0, last + 1), shape.slice(0, last + 1), run);
}

/**
 * Concat along any axis: for each position of the axes before it, each input's inner block in
 * turn. The stock kernel does this with a `subarray` + `set` per block, which for the channel
 * concatenation of a skip connection (blocks of 8–32 floats) costs more than the copy; short
 * blocks are copied by a scalar loop here.
 */
function makeConcat(stock: WasmKernel): WasmKernel {
  return (args) => {
    const inputs = Object.values(args.inputs) as TensorInfo[];
    const first = inputs[0];
    if (first === undefined || first.dtype === 'string') return stock(args);
    const axis = tf.util.parseAxisParam((args.attrs as { axis: number | number[] }).axis, first.shape)[0] as number;
    const parts = inputs.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
    if (parts.length <= 1) return stock(args);
    const outShape = [...first.shape];
    outShape[axis] = inputs.reduce((sum, t) => sum + (t.shape[axis] as number), 0);
    const out = args.backend.makeOutput(outShape, first.dtype);
    // Views are taken after makeOutput: allocation may grow (and detach) the heap buffer.
    const dst = args.backend.typedArrayFromHeap(out);
    const blocks = parts.map((t) => ({ src: args.backend.typedArrayFromHeap(t), inner: tf.util.sizeFromShape(t.shape.slice(axis)) }));
    const outer = tf.util.sizeFromShape(first.shape.slice(0, axis));
    let o = 0;
    for (let b = 0; b < outer; b++) {
      for (const { src, inner } of blocks) {
        copyRun(src, b * inner, dst, o, inner);
        o += inner;
      }
    }
    return out;
  };
}

/** Reverse through copyReversed: the stock kernel's generic per-element loop (rank 5: ≈25 M floats/s). */
function makeReverse(stock: WasmKernel): WasmKernel {
  return (args) => {
    const x = input(args, 'x');
    if (x.dtype === 'string' || x.shape.length === 0 || tf.util.sizeFromShape(x.shape) === 0) return stock(args);
    const axes = tf.util.parseAxisParam((args.attrs as { dims: number | number[] }).dims, x.shape);
    const out = args.backend.makeOutput([...x.shape], x.dtype);
    // Views are taken after makeOutput: allocation may grow (and detach) the heap buffer.
    copyReversed(args.backend.typedArrayFromHeap(x), x.shape, axes, args.backend.typedArrayFromHeap(out));
    return out;
  };
}

/**
 * Copy src (row-major `srcShape`) into the box of dst (row-major `dstShape`) starting at `dstBegin`
 * (the inverse of copySlice; used by Pad). Trailing axes where the box spans dst fully merge into
 * one contiguous run.
 */
export function copyInto(src: HeapArray, srcShape: readonly number[], dst: HeapArray, dstShape: readonly number[], dstBegin: readonly number[]): void {
  const rank = srcShape.length;
  let axis = rank - 1;
  while (axis >= 0 && dstBegin[axis] === 0 && srcShape[axis] === dstShape[axis]) axis--;
  const st = strides(dstShape);
  if (axis < 0) {
    dst.set(src.subarray(0, src.length));
    return;
  }
  let base = 0;
  for (let i = 0; i <= axis; i++) base += (dstBegin[i] as number) * (st[i] as number);
  copyRuns(src, 0, strides(srcShape).slice(0, axis), dst, base, st.slice(0, axis), srcShape.slice(0, axis), (srcShape[axis] as number) * (st[axis] as number));
}

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

function makeSlice(stock: WasmKernel): WasmKernel {
  return (args) => {
    const x = input(args, 'x');
    if (x.dtype === 'string') return stock(args);
    const attrs = args.attrs as { begin: number | number[]; size?: number | number[] };
    const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, attrs.begin, attrs.size);
    const out = args.backend.makeOutput(size, x.dtype);
    if (tf.util.sizeFromShape(size) === 0) return out;
    // Views are taken after makeOutput: allocation may grow (and detach) the heap buffer.
    copySlice(args.backend.typedArrayFromHeap(x), x.shape, begin, size, args.backend.typedArrayFromHeap(out));
    return out;
  };
}

/**
 * Identity shares the input's memory (reference count) instead of copying it, as tfjs-backend-cpu
 * does. tfjs clones (= Identity) every tensor a kernel saves for its gradient, so the stock copy
 * doubled the memory of all saved activations and cost a full memcpy each.
 */
function makeIdentity(stock: WasmKernel): WasmKernel {
  return (args) => {
    const x = input(args, 'x');
    if (x.dtype === 'string') return stock(args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}

/** PadV2: fill with the constant, then copy the input's contiguous runs into place. */
function makePad(stock: WasmKernel): WasmKernel {
  return (args) => {
    const x = input(args, 'x');
    if (x.dtype === 'string' || tf.util.sizeFromShape(x.shape) === 0) return stock(args);
    const { paddings, constantValue } = args.attrs as { paddings: Array<[number, number]>; constantValue: number };
    const outShape = paddings.map((p, i) => p[0] + (x.shape[i] as number) + p[1]);
    const out = args.backend.makeOutput(outShape, x.dtype);
    const dst = args.backend.typedArrayFromHeap(out);
    dst.fill(constantValue);
    copyInto(args.backend.typedArrayFromHeap(x), x.shape, dst, outShape, paddings.map((p) => p[0]));
    return out;
  };
}

/** SplitV (the gradient of concat) through the heap-view slice; the stock one calls the stock Slice. */
function makeSplitV(slice: WasmKernel): WasmKernel {
  return (args) => {
    const x = input(args, 'x');
    const attrs = args.attrs as { numOrSizeSplits: number | number[]; axis: number | number[] };
    const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0] as number;
    const sizes = tf.backend_util.prepareSplitSize(x, attrs.numOrSizeSplits, axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[axis] = s;
      const piece = slice({ inputs: { x }, backend: args.backend, attrs: { begin: [...begin], size } }) as TensorInfo;
      begin[axis] = (begin[axis] as number) + s;
      return piece;
    });
  };
}

function makeTranspose(stock: WasmKernel): WasmKernel {
  return (args) => {
    const x = input(args, 'x');
    const perm = (args.attrs as { perm: number[] }).perm;
    const outShape = perm.map((p) => x.shape[p] as number);
    if (x.dtype === 'string') return stock(args);
    const merged = mergeTransposeAxes(x.shape, perm);
    const mr = merged.shape.length;
    if (mr >= 2 && merged.perm[mr - 1] !== mr - 1 && tf.util.sizeFromShape(merged.shape) >= 4096) {
      const out = args.backend.makeOutput(outShape, x.dtype);
      transposeTiled(args.backend.typedArrayFromHeap(x), merged.shape, merged.perm, args.backend.typedArrayFromHeap(out));
      return out;
    }
    if (merged.shape.length <= 4) {
      const res = stock({ inputs: { x: { dataId: x.dataId, shape: merged.shape, dtype: x.dtype } }, backend: args.backend, attrs: { perm: merged.perm } }) as TensorInfo;
      (res as { shape: number[] }).shape = outShape;
      return res;
    }
    const out = args.backend.makeOutput(outShape, x.dtype);
    transposeArray(args.backend.typedArrayFromHeap(x), merged.shape, merged.perm, args.backend.typedArrayFromHeap(out));
    return out;
  };
}

/** `axisAttr`: the attribute holding the axes ('reductionIndices' for Max, 'axis' otherwise). */
function makeReduce(stock: WasmKernel, axisAttr: string): WasmKernel {
  return (args) => {
    const x = input(args, 'x');
    const attrs = args.attrs as { keepDims: boolean } & NamedAttrMap;
    const axes = tf.util.parseAxisParam(attrs[axisAttr] as number | number[], x.shape);
    if (x.shape.length < 3 || axes.length === 0) return stock(args);
    const reduced = new Set(axes);
    // merge runs of adjacent axes with the same role (reduced or kept); drop size-1 axes
    const mShape: number[] = [];
    const mReduced: boolean[] = [];
    for (let i = 0; i < x.shape.length; i++) {
      const d = x.shape[i] as number;
      if (d === 1) continue;
      const r = reduced.has(i);
      if (mShape.length > 0 && mReduced[mReduced.length - 1] === r) mShape[mShape.length - 1] = (mShape[mShape.length - 1] as number) * d;
      else {
        mShape.push(d);
        mReduced.push(r);
      }
    }
    const outShape = x.shape.map((d, i) => (reduced.has(i) ? 1 : d));
    const finalShape = attrs.keepDims ? outShape : x.shape.filter((_, i) => !reduced.has(i));
    if (mShape.length === 0) {
      mShape.push(1);
      mReduced.push(true);
    }
    const mAxes = mReduced.flatMap((r, i) => (r ? [i] : []));
    if (mAxes.length === 0) {
      // only size-1 axes reduced: the values are unchanged
      const res = stock({ inputs: { x: { dataId: x.dataId, shape: mShape, dtype: x.dtype } }, backend: args.backend, attrs: { [axisAttr]: [], keepDims: false } }) as TensorInfo;
      (res as { shape: number[] }).shape = finalShape;
      return res;
    }
    const res = stock({ inputs: { x: { dataId: x.dataId, shape: mShape, dtype: x.dtype } }, backend: args.backend, attrs: { [axisAttr]: mAxes, keepDims: false } }) as TensorInfo;
    (res as { shape: number[] }).shape = finalShape;
    return res;
  };
}

function makeMatMul(stock: WasmKernel, transposeKernel: WasmKernel): WasmKernel {
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
    if (attrs.transposeA) inputs['a'] = swapLast2(input(args, 'a'));
    if (attrs.transposeB) inputs['b'] = swapLast2(input(args, 'b'));
    const res = stock({ inputs, backend: args.backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    for (const t of temps) args.backend.disposeData(t.dataId);
    return res;
  };
}

/** Install the patches (idempotent). Call after `tf.setBackend('wasm')` has resolved. */
export function installWasmKernelPatches(): void {
  if (installed) return;
  const stockTranspose = stockKernel('Transpose');
  const transpose = makeTranspose(stockTranspose);
  const slice = makeSlice(stockKernel('Slice'));
  replaceKernel('Slice', slice);
  replaceKernel('SplitV', makeSplitV(slice));
  replaceKernel('PadV2', makePad(stockKernel('PadV2')));
  replaceKernel('Identity', makeIdentity(stockKernel('Identity')));
  replaceKernel('Transpose', transpose);
  replaceKernel('Reverse', makeReverse(stockKernel('Reverse')));
  replaceKernel('Concat', makeConcat(stockKernel('Concat')));
  for (const name of ['Sum', 'Mean', 'Max', 'Min']) replaceKernel(name, makeReduce(stockKernel(name), name === 'Max' ? 'reductionIndices' : 'axis'));
  for (const name of ['BatchMatMul', '_FusedMatMul']) replaceKernel(name, makeMatMul(stockKernel(name), transpose));
  installed = true;
}

export function wasmKernelPatchesInstalled(): boolean {
  return installed;
}
