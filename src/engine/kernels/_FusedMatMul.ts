/** _FusedMatMul (wasm) with transpose flags through an explicit transpose (./matmul-without-transpose.ts). */
import { matMulWithoutTransposeFlags } from './matmul-without-transpose.js';
import type { KernelConfig } from './kernel-config.js';

export const fusedMatMulConfig: KernelConfig = {
  kernelName: '_FusedMatMul',
  backendNames: ['wasm'],
  build: (registered) => matMulWithoutTransposeFlags(registered('_FusedMatMul'), registered('Transpose')),
};
