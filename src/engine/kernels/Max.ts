/** Max (wasm) over merged axes (./merged-reduction.ts: the stock kernel transposes rank-5 inputs first). */
import { mergedReduction } from './merged-reduction.js';
import type { KernelConfig } from './kernel-config.js';

export const maxConfig: KernelConfig = {
  kernelName: 'Max',
  backendNames: ['wasm'],
  build: (registered) => mergedReduction(registered('Max'), 'reductionIndices'),
};
