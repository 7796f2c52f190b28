/**
 * Fused instance normalisation + LeakyReLU (nnU-Net block: conv → IN(eps 1e-5, affine) → LReLU(0.01)).
 *
 * For x of shape [N, ...spatial, C], with S = number of spatial voxels, per (n, c):
 *   μ = (1/S) Σ_s x,   σ² = (1/S) Σ_s x² − μ²  (biased, as torch.nn.InstanceNorm3d),
 *   x̂ = (x − μ) / √(σ² + eps),   z = γ_c x̂ + β_c,   y = LReLU(z) = z if z > 0 else slope·z.
 * Backward, with g = dy · LReLU′(z) (LReLU′ taken from the sign of the saved output y):
 *   dβ_c = Σ_{n,s} g,   dγ_c = Σ_{n,s} g x̂,
 *   dx = γ_c /√(σ²+eps) · (g − a/S − x̂ b/S)  with a = Σ_s g, b = Σ_s g x̂ (per n, c).
 *
 * On the wasm and cpu backends this runs as two JavaScript kernels working directly on the
 * backend's memory (two passes each, statistics accumulated in float64): about 3× faster than the
 * equivalent chain of tfjs ops, and autodiff through `tf.moments` is slower still (docs/performance.md).
 * On other backends (native TensorFlow, GPU) it is the same formula in tfjs ops with autodiff.
 */
import * as tf from '@tensorflow/tfjs';
import type { DataType, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

const FORWARD = 'SeglossInstanceNormLeakyRelu';
const BACKWARD = 'SeglossInstanceNormLeakyReluGrad';

interface Arrays {
  read(t: TensorInfo): Float32Array;
  /** Allocate outputs; returns their infos and writable arrays (views stay valid until `finish`). */
  alloc(shapes: number[][]): { infos: TensorInfo[]; arrays: Float32Array[]; finish(): TensorInfo[] };
}

interface WasmLike {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}
interface CpuLike {
  readSync(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: DataType, values: Float32Array): TensorInfo;
}

function wasmArrays(backend: WasmLike): Arrays {
  return {
    read: (t) => backend.typedArrayFromHeap(t),
    alloc: (shapes) => {
      const infos = shapes.map((s) => backend.makeOutput(s, 'float32'));
      // views only after all allocations (the heap may grow and detach older views)
      return { infos, arrays: infos.map((i) => backend.typedArrayFromHeap(i)), finish: () => infos };
    },
  };
}

function cpuArrays(backend: CpuLike): Arrays {
  return {
    read: (t) => backend.readSync(t.dataId) as Float32Array,
    alloc: (shapes) => {
      const arrays = shapes.map((s) => new Float32Array(tf.util.sizeFromShape(s)));
      return { infos: [], arrays, finish: () => shapes.map((s, i) => backend.makeTensorInfo(s, 'float32', arrays[i] as Float32Array)) };
    },
  };
}

function dims(shape: readonly number[]): { n: number; s: number; c: number } {
  const n = shape[0] as number;
  const c = shape[shape.length - 1] as number;
  return { n, s: tf.util.sizeFromShape(shape as number[]) / Math.max(1, n * c), c };
}

function get(inputs: NamedTensorInfoMap, name: string): TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`kernel input '${name}' missing`);
  return t;
}

/**
 * Loop order of both kernels: the [S, C] data of one sample is walked in chunks of whole voxels
 * (about 16 KB, so a chunk stays in L1), and inside a chunk channel by channel with the running sums
 * in local variables. Each channel still adds its voxels in voxel order, so the float64 sums are
 * bit-identical to a plain voxel-major loop, which is about 2× slower (it updates a Float64Array
 * per value); walking each channel over the whole sample is as slow once the sample leaves the cache.
 * The four loops are written out: one shared chunk walker calling back per (chunk, channel)
 * measured 20–25 % slower (the callback is not inlined, and the loop body reads captured variables).
 */
function chunkLength(channels: number): number {
  return Math.max(1, Math.floor(4096 / channels)) * channels;
}

/** Forward kernel: outputs y (shape of x) and stats [N, 2, C] = (mean, 1/σ). */
function forwardKernel(io: Arrays, inputs: NamedTensorInfoMap, attrs: NamedAttrMap): TensorInfo[] {
  const xInfo = get(inputs, 'x');
  const { n: N, s: S, c: C } = dims(xInfo.shape);
  const eps = attrs['eps'] as number;
  const slope = attrs['slope'] as number;
  const out = io.alloc([xInfo.shape, [N, 2, C]]);
  const x = io.read(xInfo);
  const gamma = io.read(get(inputs, 'gamma'));
  const beta = io.read(get(inputs, 'beta'));
  const [y, stats] = out.arrays as [Float32Array, Float32Array];
  const sum = new Float64Array(C);
  const sumSq = new Float64Array(C);
  const scale = new Float32Array(C);
  const shift = new Float32Array(C);
  // LReLU(z) = p·z + q·|z| with p = (1+slope)/2, q = (1−slope)/2: branch-free (branches cost ≈3×).
  const p = (1 + slope) / 2;
  const q = (1 - slope) / 2;
  const K = chunkLength(C);
  for (let n = 0; n < N; n++) {
    const base = n * S * C;
    const end = base + S * C;
    sum.fill(0);
    sumSq.fill(0);
    for (let start = base; start < end; start += K) {
      const stop = Math.min(end, start + K);
      for (let c = 0; c < C; c++) {
        let sc = sum[c] as number;
        let sq = sumSq[c] as number;
        for (let i = start + c; i < stop; i += C) {
          const v = x[i] as number;
          sc += v;
          sq += v * v;
        }
        sum[c] = sc;
        sumSq[c] = sq;
      }
    }
    for (let c = 0; c < C; c++) {
      const mean = (sum[c] as number) / S;
      const variance = Math.max(0, (sumSq[c] as number) / S - mean * mean);
      const inv = 1 / Math.sqrt(variance + eps);
      stats[n * 2 * C + c] = mean;
      stats[n * 2 * C + C + c] = inv;
      scale[c] = (gamma[c] as number) * inv;
      shift[c] = (beta[c] as number) - mean * (scale[c] as number);
    }
    for (let start = base; start < end; start += K) {
      const stop = Math.min(end, start + K);
      for (let c = 0; c < C; c++) {
        const sc = scale[c] as number;
        const sh = shift[c] as number;
        for (let i = start + c; i < stop; i += C) {
          const z = (x[i] as number) * sc + sh;
          y[i] = p * z + q * Math.abs(z);
        }
      }
    }
  }
  return out.finish();
}

/** Backward kernel: inputs dy, x, y, gamma, stats; outputs dx, dγ, dβ. */
function backwardKernel(io: Arrays, inputs: NamedTensorInfoMap, attrs: NamedAttrMap): TensorInfo[] {
  const xInfo = get(inputs, 'x');
  const { n: N, s: S, c: C } = dims(xInfo.shape);
  const slope = attrs['slope'] as number;
  const out = io.alloc([xInfo.shape, [C], [C]]);
  const dy = io.read(get(inputs, 'dy'));
  const x = io.read(xInfo);
  const y = io.read(get(inputs, 'y'));
  const yBits = new Int32Array(y.buffer, y.byteOffset, y.length);
  const gamma = io.read(get(inputs, 'gamma'));
  const stats = io.read(get(inputs, 'stats'));
  const [dx, dGamma, dBeta] = out.arrays as [Float32Array, Float32Array, Float32Array];
  const a = new Float64Array(C);
  const bx = new Float64Array(C);
  const dg = new Float64Array(C);
  const db = new Float64Array(C);
  const k1 = new Float32Array(C);
  const kx = new Float32Array(C);
  const k0 = new Float32Array(C);
  // LReLU'(z) from the sign bit of y: 1 for y ≥ +0, slope for y < 0 (and −0).
  const drop = 1 - slope;
  const K = chunkLength(C);
  for (let n = 0; n < N; n++) {
    const base = n * S * C;
    const end = base + S * C;
    a.fill(0);
    bx.fill(0);
    // pass 1: a = Σ g, bx = Σ g·x  (then Σ g·x̂ = inv·(bx − μ·a), in float64)
    for (let start = base; start < end; start += K) {
      const stop = Math.min(end, start + K);
      for (let c = 0; c < C; c++) {
        let ac = a[c] as number;
        let bc = bx[c] as number;
        for (let i = start + c; i < stop; i += C) {
          const g = (dy[i] as number) * (1 - drop * ((yBits[i] as number) >>> 31));
          ac += g;
          bc += g * (x[i] as number);
        }
        a[c] = ac;
        bx[c] = bc;
      }
    }
    for (let c = 0; c < C; c++) {
      const mean = stats[n * 2 * C + c] as number;
      const inv = stats[n * 2 * C + C + c] as number;
      const ac = a[c] as number;
      const b = inv * ((bx[c] as number) - mean * ac);
      db[c] = (db[c] as number) + ac;
      dg[c] = (dg[c] as number) + b;
      // dx = f·(g − a/S − x̂·b/S) = k1·g − kx·x + k0,  f = γ·inv
      const f = (gamma[c] as number) * inv;
      k1[c] = f;
      kx[c] = (f * inv * b) / S;
      k0[c] = (f * inv * b * mean) / S - (f * ac) / S;
    }
    for (let start = base; start < end; start += K) {
      const stop = Math.min(end, start + K);
      for (let c = 0; c < C; c++) {
        const k1c = k1[c] as number;
        const kxc = kx[c] as number;
        const k0c = k0[c] as number;
        for (let i = start + c; i < stop; i += C) {
          const g = (dy[i] as number) * (1 - drop * ((yBits[i] as number) >>> 31));
          dx[i] = k1c * g - kxc * (x[i] as number) + k0c;
        }
      }
    }
  }
  for (let c = 0; c < C; c++) {
    dGamma[c] = dg[c] as number;
    dBeta[c] = db[c] as number;
  }
  return out.finish();
}

let registered = false;
function registerKernels(): void {
  if (registered) return;
  for (const backendName of ['wasm', 'cpu']) {
    const io = (backend: unknown): Arrays => (backendName === 'wasm' ? wasmArrays(backend as WasmLike) : cpuArrays(backend as CpuLike));
    const fwd = ((args: { inputs: NamedTensorInfoMap; backend: unknown; attrs: NamedAttrMap }) =>
      forwardKernel(io(args.backend), args.inputs, args.attrs)) as unknown as KernelFunc;
    const bwd = ((args: { inputs: NamedTensorInfoMap; backend: unknown; attrs: NamedAttrMap }) =>
      backwardKernel(io(args.backend), args.inputs, args.attrs)) as unknown as KernelFunc;
    tf.registerKernel({ kernelName: FORWARD, backendName, kernelFunc: fwd });
    tf.registerKernel({ kernelName: BACKWARD, backendName, kernelFunc: bwd });
  }
  registered = true;
}

function usesJsKernels(): boolean {
  const b = tf.getBackend();
  return b === 'wasm' || b === 'cpu';
}

/** Reference formulation in tfjs ops (autodiff); used on native/GPU backends and in tests. */
export function instanceNormLeakyReluOps<T extends tf.Tensor>(x: T, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5, slope = 0.01): T {
  return tf.tidy(() => {
    const axes = [...Array(x.rank - 2).keys()].map((i) => i + 1);
    const { mean, variance } = tf.moments(x, axes, true);
    const z = tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta);
    return tf.leakyRelu(z, slope) as T;
  });
}

/**
 * y = LeakyReLU(InstanceNorm(x)·γ + β) for x = [N, ...spatial, C], γ, β = [C]. Differentiable
 * w.r.t. x, γ and β. Spatial size 1 gives σ² = 0 and y = LReLU(β) (as PyTorch).
 */
export function instanceNormLeakyRelu<T extends tf.Tensor>(x: T, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5, slope = 0.01): T {
  if (!usesJsKernels() || x.dtype !== 'float32') return instanceNormLeakyReluOps(x, gamma, beta, eps, slope);
  registerKernels();
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [y, stats] = tf.engine().runKernel(FORWARD, { x: xIn, gamma: g, beta: b }, { eps, slope }) as tf.Tensor[];
    save([xIn, y as tf.Tensor, g, stats as tf.Tensor]);
    return {
      value: y as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [sx, sy, sg, sStats] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
          return tf.engine().runKernel(BACKWARD, { dy, x: sx, y: sy, gamma: sg, stats: sStats }, { slope }) as tf.Tensor[];
        }),
    };
  });
  return op(x, gamma, beta) as T;
}
