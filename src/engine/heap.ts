/**
 * The heap adapter: how segloss's JavaScript kernels (./kernels/) read their inputs and write their
 * outputs on the two backends whose memory JavaScript can address directly.
 *
 * - wasm: tensors live in the WebAssembly heap; `typedArrayFromHeap` gives a view of a tensor's
 *   bytes, `makeOutput` allocates an output there. An allocation may grow the heap, which detaches
 *   every view taken before it — so a kernel allocates all its outputs first and reads its inputs
 *   after (`allocate`, then `read`).
 * - cpu: tensors are JavaScript typed arrays; `readSync` returns the array itself (no copy), and an
 *   output is a new array handed to the backend when the kernel finishes (`finish`).
 *
 * Every kernel goes through this module, so the rule above is stated (and kept) in one place.
 */
import * as tf from '@tensorflow/tfjs';
import type { DataType, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

/** The typed arrays a numeric tensor's values come in (float32, int32, bool). */
export type HeapArray = Float32Array | Int32Array | Uint8Array;

/** The part of tfjs-backend-wasm's BackendWasm that the kernels use. */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): HeapArray;
  disposeData(dataId: object): boolean;
  incRef(dataId: object): void;
}

/** The part of tfjs-backend-cpu's MathBackendCPU that the kernels use. */
export interface CpuBackendLike {
  readSync(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: DataType, values: HeapArray): TensorInfo;
  disposeData(dataId: object): boolean;
  incRef(dataId: object): void;
}

/** What tfjs passes to a kernel function. */
export interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: unknown;
  attrs?: NamedAttrMap;
}

/** A kernel function as tfjs registers it (typed for the kernels of this folder). */
export type KernelFunction = (args: KernelArgs) => TensorInfo | TensorInfo[];

/** Outputs allocated by `KernelMemory.allocate`. */
export interface KernelOutputs {
  /** Writable arrays of the outputs' values, in the order of the requested shapes. */
  views: HeapArray[];
  /** The outputs' tensor infos, to return from the kernel once the views are written. */
  finish(): TensorInfo[];
}

/** A kernel's access to its backend's memory (see the module comment for the order of calls). */
export interface KernelMemory {
  /** Allocate outputs of `dtype`. On wasm, views taken before this call are invalid after it. */
  allocate(shapes: number[][], dtype: DataType): KernelOutputs;
  /** The values of an input, without copying: call after `allocate`. */
  read(t: TensorInfo): HeapArray;
  /** `read` for a float32 input (throws for any other dtype). */
  readFloat32(t: TensorInfo): Float32Array;
  /** A second tensor on the same memory, reference-counted (no copy). */
  share(t: TensorInfo): TensorInfo;
  /** Free a temporary output. */
  release(t: TensorInfo): void;
}

function isWasm(backend: unknown): backend is WasmBackendLike {
  return typeof (backend as Partial<WasmBackendLike>).typedArrayFromHeap === 'function';
}

function float32(values: HeapArray, t: TensorInfo): Float32Array {
  if (!(values instanceof Float32Array)) throw new Error(`kernel input of dtype ${t.dtype}, float32 expected`);
  return values;
}

function wasmMemory(backend: WasmBackendLike): KernelMemory {
  return {
    allocate: (shapes, dtype) => {
      const infos = shapes.map((s) => backend.makeOutput(s, dtype));
      // views only after all allocations (the heap may grow and detach older views)
      return { views: infos.map((i) => backend.typedArrayFromHeap(i)), finish: () => infos };
    },
    read: (t) => backend.typedArrayFromHeap(t),
    readFloat32: (t) => float32(backend.typedArrayFromHeap(t), t),
    share: (t) => {
      backend.incRef(t.dataId);
      return { dataId: t.dataId, shape: [...t.shape], dtype: t.dtype };
    },
    release: (t) => {
      backend.disposeData(t.dataId);
    },
  };
}

function cpuMemory(backend: CpuBackendLike): KernelMemory {
  return {
    allocate: (shapes, dtype) => {
      const views = shapes.map((s) => tf.util.getTypedArrayFromDType(dtype as 'float32' | 'int32' | 'bool', tf.util.sizeFromShape(s)) as HeapArray);
      return { views, finish: () => shapes.map((s, i) => backend.makeTensorInfo(s, dtype, views[i] as HeapArray)) };
    },
    read: (t) => backend.readSync(t.dataId) as HeapArray,
    readFloat32: (t) => float32(backend.readSync(t.dataId) as HeapArray, t),
    share: (t) => {
      backend.incRef(t.dataId);
      return { dataId: t.dataId, shape: [...t.shape], dtype: t.dtype };
    },
    release: (t) => {
      backend.disposeData(t.dataId);
    },
  };
}

/** The memory of the backend a kernel was called with (wasm or cpu). */
export function kernelMemory(backend: unknown): KernelMemory {
  return isWasm(backend) ? wasmMemory(backend) : cpuMemory(backend as CpuBackendLike);
}

/** A kernel input by name (tfjs passes them in a map). */
export function kernelInput(args: KernelArgs, name: string): TensorInfo {
  const t = args.inputs[name];
  if (t === undefined) throw new Error(`kernel input '${name}' missing`);
  return t;
}
