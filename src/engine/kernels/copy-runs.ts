/**
 * The copy the layout kernels share: contiguous runs of a row-major array, at every position of an
 * odometer over the leading axes. Slice, PadV2 and Reverse are this copy with different starts and
 * steps; Concat uses the single-run copy.
 */
import type { HeapArray } from '../heap.js';

/** Row-major strides of `shape` (in elements). */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = (s[i + 1] as number) * (shape[i + 1] as number);
  return s;
}

/** Copy src[from, from + length) to dst[to, …): `TypedArray.set` for long runs, a scalar loop for short ones (where `set`'s call overhead dominates). */
export function copyRun(src: HeapArray, from: number, dst: HeapArray, to: number, length: number): void {
  if (length >= 64) dst.set(src.subarray(from, from + length), to);
  else for (let k = 0; k < length; k++) dst[to + k] = src[from + k] as number;
}

/**
 * Copy a contiguous run of `run` elements at every position of an odometer over `counts`
 * (outermost axis first). The source offset starts at `srcStart` and moves by `srcSteps[a]` per
 * step of axis a; the destination offset likewise. Slicing, padding and reversing are this copy
 * with different starts and steps.
 */
export function copyRuns(
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
