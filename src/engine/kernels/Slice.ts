/**
 * Slice (wasm). The stock kernel copies the WHOLE input out of the wasm heap (`readSync`) before
 * taking the slice, and uses a per-element path for rank ≥ 5 (≈640 ms per 1M floats). This one
 * copies the contiguous runs of the box from a heap view (any rank).
 */
import * as tf from '@tensorflow/tfjs';
import { kernelInput, kernelMemory, type HeapArray } from '../heap.js';
import { copyRuns, strides } from './copy-runs.js';
import type { KernelConfig } from './kernel-config.js';

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

export const sliceConfig: KernelConfig = {
  kernelName: 'Slice',
  backendNames: ['wasm'],
  build: (registered) => {
    const stock = registered('Slice');
    return (args) => {
      const x = kernelInput(args, 'x');
      if (x.dtype === 'string') return stock(args);
      const attrs = args.attrs as { begin: number | number[]; size?: number | number[] };
      const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, attrs.begin, attrs.size);
      const memory = kernelMemory(args.backend);
      const out = memory.allocate([size], x.dtype);
      if (tf.util.sizeFromShape(size) === 0) return out.finish()[0] as tf.TensorInfo;
      copySlice(memory.read(x), x.shape, begin, size, out.views[0] as HeapArray);
      return out.finish()[0] as tf.TensorInfo;
    };
  },
};
