/**
 * SplitV (wasm): the gradient of `concat`, e.g. of every U-Net skip connection. The stock kernel
 * calls the stock Slice directly (≈0.5 s for a [2,32³,16] split); this one calls the Slice kernel
 * registered before it (./Slice.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { kernelInput } from '../heap.js';
import type { KernelConfig } from './kernel-config.js';

export const splitVConfig: KernelConfig = {
  kernelName: 'SplitV',
  backendNames: ['wasm'],
  build: (registered) => {
    const slice = registered('Slice');
    return (args) => {
      const x = kernelInput(args, 'x');
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
  },
};
