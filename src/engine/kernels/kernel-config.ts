/**
 * What a kernel file of this folder exports: one `KernelConfig` (tfjs-backend-wasm's convention of
 * one file per kernel, registered from one list — ../register-kernels.ts).
 */
import type { KernelFunction } from '../heap.js';

/** The backends whose memory the kernels address directly (../heap.ts). */
export type KernelBackendName = 'wasm' | 'cpu';

export interface KernelConfig {
  /** The tfjs kernel name (`tf.engine().runKernel(kernelName, …)`, or the stock kernel it replaces). */
  kernelName: string;
  /** The backends it is registered for. */
  backendNames: readonly KernelBackendName[];
  /**
   * Build the kernel function. `registered(name)` is the kernel registered under `name` on the same
   * backend at this moment: for a replacement of a stock kernel, `registered(kernelName)` is the stock
   * kernel it falls back to (strings, empty tensors); a kernel that calls another (SplitV → Slice)
   * gets the one registered before it in the list.
   */
  build(registered: (name: string) => KernelFunction): KernelFunction;
}
