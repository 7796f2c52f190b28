/**
 * Identity (wasm) shares the input's memory (reference count) instead of copying it, as
 * tfjs-backend-cpu does. tfjs clones (= Identity) every tensor a kernel saves for its gradient, so
 * the stock copy doubled the memory of all saved activations and cost a full memcpy each.
 */
import { kernelInput, kernelMemory } from '../heap.js';
import type { KernelConfig } from './kernel-config.js';

export const identityConfig: KernelConfig = {
  kernelName: 'Identity',
  backendNames: ['wasm'],
  build: (registered) => {
    const stock = registered('Identity');
    return (args) => {
      const x = kernelInput(args, 'x');
      if (x.dtype === 'string') return stock(args);
      return kernelMemory(args.backend).share(x);
    };
  },
};
