/**
 * segloss's kernels, registered from one list (tfjs-backend-wasm's `register_all_kernels.ts`
 * convention; one file per kernel in ./kernels/, each reading and writing tensor memory through
 * ./heap.ts). See docs/model.md, "Kernels", and docs/performance.md.
 *
 * Two kinds:
 * - replacements of stock tfjs-backend-wasm 4.22 kernels whose layout code is slow enough to
 *   dominate a 3D U-Net step (Slice, SplitV, PadV2, Identity, Transpose, Reverse, Concat, the
 *   reductions, matMul with transpose flags). They return the same values and shapes and fall back
 *   to the stock kernel for what they do not handle (strings, empty tensors). They can only be
 *   installed once the wasm backend is initialised (the stock kernels' setup functions must have run).
 * - kernels tfjs does not have (the fused InstanceNorm + LeakyReLU and its gradient), on wasm and cpu.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc } from '@tensorflow/tfjs';
import type { KernelFunction } from './heap.js';
import type { KernelBackendName, KernelConfig } from './kernels/kernel-config.js';
import { sliceConfig } from './kernels/Slice.js';
import { splitVConfig } from './kernels/SplitV.js';
import { padV2Config } from './kernels/PadV2.js';
import { identityConfig } from './kernels/Identity.js';
import { transposeConfig } from './kernels/Transpose.js';
import { reverseConfig } from './kernels/Reverse.js';
import { concatConfig } from './kernels/Concat.js';
import { sumConfig } from './kernels/Sum.js';
import { meanConfig } from './kernels/Mean.js';
import { maxConfig } from './kernels/Max.js';
import { minConfig } from './kernels/Min.js';
import { batchMatMulConfig } from './kernels/BatchMatMul.js';
import { fusedMatMulConfig } from './kernels/_FusedMatMul.js';
import { instanceNormLeakyReluConfig } from './kernels/InstanceNormLeakyRelu.js';
import { instanceNormLeakyReluGradConfig } from './kernels/InstanceNormLeakyReluGrad.js';

/**
 * Registration order matters where a kernel calls another: SplitV uses the Slice registered before
 * it, BatchMatMul and _FusedMatMul the Transpose.
 */
const KERNEL_CONFIGS: readonly KernelConfig[] = [
  sliceConfig,
  splitVConfig,
  padV2Config,
  identityConfig,
  transposeConfig,
  reverseConfig,
  concatConfig,
  sumConfig,
  meanConfig,
  maxConfig,
  minConfig,
  batchMatMulConfig,
  fusedMatMulConfig,
  instanceNormLeakyReluConfig,
  instanceNormLeakyReluGradConfig,
];

const registeredOn = new Set<string>();

function registeredKernel(backendName: string): (name: string) => KernelFunction {
  return (name) => {
    const config = tf.getKernel(name, backendName);
    if (config === undefined) throw new Error(`${backendName} kernel ${name} not registered`);
    return config.kernelFunc as unknown as KernelFunction;
  };
}

/**
 * Register segloss's kernels for `backendName` ('wasm' after the backend is initialised, or
 * 'cpu'); idempotent, and a no-op for other backends (native TensorFlow, GPU).
 */
export function registerKernels(backendName: string): void {
  if (registeredOn.has(backendName) || (backendName !== 'wasm' && backendName !== 'cpu')) return;
  const registered = registeredKernel(backendName);
  for (const config of KERNEL_CONFIGS) {
    if (!config.backendNames.includes(backendName as KernelBackendName)) continue;
    const kernelFunc = config.build(registered) as unknown as KernelFunc;
    if (tf.getKernel(config.kernelName, backendName) !== undefined) tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel({ kernelName: config.kernelName, backendName, kernelFunc });
  }
  registeredOn.add(backendName);
}

/** The names of the kernels segloss registers on `backendName`, in registration order. */
export function kernelNames(backendName: KernelBackendName): string[] {
  return KERNEL_CONFIGS.filter((c) => c.backendNames.includes(backendName)).map((c) => c.kernelName);
}
