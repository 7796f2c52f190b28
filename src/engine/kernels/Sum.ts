/** Sum (wasm) over merged axes (./merged-reduction.ts: the stock kernel transposes rank-5 inputs first). */
import { mergedReduction } from './merged-reduction.js';
import type { KernelConfig } from './kernel-config.js';

export const sumConfig: KernelConfig = {
  kernelName: 'Sum',
  backendNames: ['wasm'],
  build: (registered) => mergedReduction(registered('Sum'), 'axis'),
};
