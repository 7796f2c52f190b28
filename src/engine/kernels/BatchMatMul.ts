/** BatchMatMul (wasm) with transpose flags through an explicit transpose (./matmul-without-transpose.ts). */
import { matMulWithoutTransposeFlags } from './matmul-without-transpose.js';
import type { KernelConfig } from './kernel-config.js';

export const batchMatMulConfig: KernelConfig = {
  kernelName: 'BatchMatMul',
  backendNames: ['wasm'],
  build: (registered) => matMulWithoutTransposeFlags(registered('BatchMatMul'), registered('Transpose')),
};
