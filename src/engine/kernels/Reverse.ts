/**
 * Reverse (wasm): the flipped kernel of every conv3d input gradient, and its gradient. The stock
 * kernel is a generic per-element loop (rank 5: ≈25 M floats/s; 4.6 ms for a [3,3,3,64,64] kernel,
 * 7 % of a toy training step); this one copies contiguous runs in reversed order.
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { kernelInput, kernelMemory, type HeapArray } from '../heap.js';
import { copyRuns, strides } from './copy-runs.js';
import type { KernelConfig } from './kernel-config.js';

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

export const reverseConfig: KernelConfig = {
  kernelName: 'Reverse',
  backendNames: ['wasm'],
  build: (registered) => {
    const stock = registered('Reverse');
    return (args) => {
      const x = kernelInput(args, 'x');
      if (x.dtype === 'string' || x.shape.length === 0 || tf.util.sizeFromShape(x.shape) === 0) return stock(args);
      const axes = tf.util.parseAxisParam((args.attrs as { dims: number | number[] }).dims, x.shape);
      const memory = kernelMemory(args.backend);
      const out = memory.allocate([[...x.shape]], x.dtype);
      copyReversed(memory.read(x), x.shape, axes, out.views[0] as HeapArray);
      return out.finish()[0] as TensorInfo;
    };
  },
};
