/**
 * The reductions Sum, Mean, Max and Min (wasm) over non-innermost axes: the stock kernels first
 * transpose the input with the slow rank-5 path. Merging adjacent axes of equal role first (e.g. a
 * sum over axes [0,1,2,3] of [N,D,H,W,C] becomes a sum over axis 0 of [N·D·H·W, C]) hands the stock
 * kernel a low-rank problem. Shared by ./Sum.ts, ./Mean.ts, ./Max.ts, ./Min.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { kernelInput, type KernelFunction } from '../heap.js';

/** `axisAttr`: the attribute holding the axes ('reductionIndices' for Max, 'axis' otherwise). */
export function mergedReduction(stock: KernelFunction, axisAttr: string): KernelFunction {
  return (args) => {
    const x = kernelInput(args, 'x');
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
