/**
 * 3D convolution and transposed convolution for the U-Net, with gradients, fast on every backend.
 *
 * Tensors are NDHWC: x = [N, D, H, W, Ci]; conv weights w = [kd, kh, kw, Ci, Co]; transposed-conv
 * weights f = [sd, sh, sw, Co, Ci] (the tfjs `conv3dTranspose` layout).
 *
 * Implementations, chosen per backend (see docs/model.md for the derivations):
 * - native (`tensorflow` = tfjs-node / tfjs-node-gpu, `cpu`, and any backend other than wasm):
 *   `tf.conv3d` with its built-in gradients; explicit padding is applied with `tf.pad`.
 * - decomposed (wasm): tfjs-backend-wasm's `tf.conv3d` runs at ≈0.6 GFLOP/s and its
 *   Conv3DBackpropInputV2 returns wrong values (docs/model.md, "Fast 3D convolution"), while its XNNPACK conv2d runs at ≈20.
 *   A stride-1 3D convolution is a sum over kernel depth of 2D convolutions of depth slices:
 *     y[n,d] = Σ_a conv2d(x̂[n, d+a], w[a])                       (x̂ = x zero-padded in D)
 *   Its input gradient is the same operation on dy with the flipped, transposed kernel
 *     dx = conv3d_s1(dy padded by k−1−p, w[k−1−a, k−1−b, k−1−c, co, ci]),
 *   and its filter gradient is ONE conv2d with roles swapped (batch ↔ channels):
 *     dW[a,b,c,ci,co] = Σ_{n,d,h,w} x̂[n,d+a,h+b,w+c,ci]·dy[n,d,h,w,co]
 *                    = conv2d_valid(A, F), A[(a,ci),h,w,(n,d)] = x̂[n,d+a,h,w,ci], F[h,w,(n,d),co] = dy.
 *   A strided convolution becomes a stride-1 one on the space-to-depth input: with x padded to
 *   length s·(Do + k′ − 1) per strided axis (k′ = ⌈k/s⌉), x′[q, (r, c)] = x̂[s·q + r, c] and
 *   w′[u, (r, ci)] = w[s·u + r, ci] (0 where s·u + r ≥ k), y = conv3d_s1_valid(x′, w′).
 *   Autodiff handles the padding, space-to-depth and kernel re-indexing (all cheap tfjs ops).
 * Transposed convolution with kernel = stride (nnU-Net upsampling) is, on every backend,
 *   Y[m, (a,b,c,co)] = Σ_ci X[m, ci]·f[a,b,c,co,ci] (one matMul) followed by depth-to-space,
 * because tfjs-core has no gradient for `conv3dTranspose` on any backend.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../util/errors.js';
import { registerKernels } from './register-kernels.js';

export type Triple = [number, number, number];
export type PadPair = [number, number];
/** 'same' and 'valid' as in tf.conv3d; or explicit [before, after] zero padding per axis (D, H, W). */
export type ConvPadding = 'same' | 'valid' | [PadPair, PadPair, PadPair];

export interface Conv3dOptions {
  /** Compute the gradient w.r.t. x (default true). False for a first layer fed with data. */
  inputGradient?: boolean;
}

/** Size of the dy operand per filter-gradient conv2d call, in floats (see stride1FilterGrad). */
const DW_CHUNK_FLOATS = 1 << 20;

export type ConvImplementation = 'auto' | 'native' | 'decomposed';
let implementationOverride: ConvImplementation = 'auto';

/** Force an implementation (tests, benchmarks); 'auto' picks per backend. */
export function setConvImplementation(impl: ConvImplementation): void {
  implementationOverride = impl;
}

/** The implementation conv3d uses on the current backend. */
export function convImplementation(): 'native' | 'decomposed' {
  if (implementationOverride !== 'auto') return implementationOverride;
  // cpu: its conv2d is a plain JS loop, so tf.conv3d is ≈4× faster than the decomposition there
  // (measured: 5.1 s vs 19.2 s per tiny U-Net step), and its gradients are correct.
  return tf.getBackend() === 'wasm' ? 'decomposed' : 'native';
}

/** The wasm backend needs its slow layout kernels replaced (./register-kernels.ts) before use. */
export function ensureBackendPatches(): void {
  if (tf.getBackend() === 'wasm') registerKernels('wasm');
}

/** Explicit [before, after] padding per axis for input spatial shape, kernel, stride and padding spec. */
export function resolvePadding(inShape: Triple, kernel: Triple, strides: Triple, pad: ConvPadding): [PadPair, PadPair, PadPair] {
  if (pad === 'valid') return [[0, 0], [0, 0], [0, 0]];
  if (pad === 'same') {
    return inShape.map((n, i) => {
      const s = strides[i] as number;
      const k = kernel[i] as number;
      const out = Math.ceil(n / s);
      const total = Math.max((out - 1) * s + k - n, 0);
      const before = Math.floor(total / 2);
      return [before, total - before];
    }) as [PadPair, PadPair, PadPair];
  }
  return pad;
}

/** Output spatial shape of a convolution. */
export function convOutputShape(inShape: Triple, kernel: Triple, strides: Triple, pads: [PadPair, PadPair, PadPair]): Triple {
  return inShape.map((n, i) => Math.floor((n + pads[i]![0] + pads[i]![1] - kernel[i]!) / strides[i]!) + 1) as Triple;
}

function spatial(t: tf.Tensor5D): Triple {
  return [t.shape[1], t.shape[2], t.shape[3]];
}

function validate(x: tf.Tensor5D, w: tf.Tensor5D, strides: Triple, pads: [PadPair, PadPair, PadPair]): void {
  if (x.rank !== 5 || w.rank !== 5) throw new UsageError(`conv3d: expected rank-5 input and kernel, got ${x.shape} and ${w.shape}`);
  if (x.shape[4] !== w.shape[3]) throw new UsageError(`conv3d: input has ${x.shape[4]} channels but kernel expects ${w.shape[3]}`);
  const out = convOutputShape(spatial(x), [w.shape[0], w.shape[1], w.shape[2]], strides, pads);
  if (out.some((n) => n < 1)) throw new UsageError(`conv3d: input ${x.shape} too small for kernel ${w.shape} with padding ${JSON.stringify(pads)}`);
  if (strides.some((s) => !Number.isInteger(s) || s < 1)) throw new UsageError(`conv3d: strides must be positive integers, got ${strides}`);
  if (pads.some(([a, b]) => a < 0 || b < 0)) throw new UsageError(`conv3d: negative padding ${JSON.stringify(pads)}`);
}

/**
 * 3D convolution y = conv3d(x, w) with `strides` and padding, differentiable w.r.t. x and w.
 * x: [N, D, H, W, Ci], w: [kd, kh, kw, Ci, Co] → [N, Do, Ho, Wo, Co], Do = ⌊(D + pads − kd)/sd⌋ + 1.
 */
export function conv3d(x: tf.Tensor5D, w: tf.Tensor5D, strides: Triple, pad: ConvPadding, options: Conv3dOptions = {}): tf.Tensor5D {
  const kernel: Triple = [w.shape[0], w.shape[1], w.shape[2]];
  const pads = resolvePadding(spatial(x), kernel, strides, pad);
  validate(x, w, strides, pads);
  ensureBackendPatches();
  if (convImplementation() === 'native') return conv3dNative(x, w, strides, pads);
  return conv3dDecomposed(x, w, strides, pads, options.inputGradient ?? true);
}

/** tf.conv3d with explicit padding (applied by tf.pad unless it equals TF 'same'). */
export function conv3dNative(x: tf.Tensor5D, w: tf.Tensor5D, strides: Triple, pads: [PadPair, PadPair, PadPair]): tf.Tensor5D {
  return tf.tidy(() => {
    const kernel: Triple = [w.shape[0], w.shape[1], w.shape[2]];
    if (pads.every(([a, b]) => a === 0 && b === 0)) return tf.conv3d(x, w, strides, 'valid');
    const same = resolvePadding(spatial(x), kernel, strides, 'same');
    if (JSON.stringify(same) === JSON.stringify(pads)) return tf.conv3d(x, w, strides, 'same');
    const xp = tf.pad(x, [[0, 0], ...pads, [0, 0]]) as tf.Tensor5D;
    return tf.conv3d(xp, w, strides, 'valid');
  });
}

/** Pad (positive) or crop (negative) axis `axis` of x by `before` and `after`. */
function padOrCrop(x: tf.Tensor5D, axis: number, before: number, after: number): tf.Tensor5D {
  let t = x;
  if (before > 0 || after > 0) {
    const p: Array<[number, number]> = [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]];
    p[axis] = [Math.max(0, before), Math.max(0, after)];
    t = tf.pad(t, p);
  }
  if (before < 0 || after < 0) {
    const begin = [0, 0, 0, 0, 0];
    const size = [...t.shape] as number[];
    begin[axis] = Math.max(0, -before);
    size[axis] = (size[axis] as number) - Math.max(0, -before) - Math.max(0, -after);
    t = tf.slice(t, begin, size);
  }
  return t;
}

/** [N, D′sd, H′sh, W′sw, C] → [N, D′, H′, W′, (sd, sh, sw, C)], as two rank-4 transposes. */
export function spaceToDepth3d(x: tf.Tensor5D, s: Triple): tf.Tensor5D {
  const [n, d, h, w, c] = x.shape;
  const [sd, sh, sw] = s;
  if (sd === 1 && sh === 1 && sw === 1) return x;
  const D = d / sd;
  const H = h / sh;
  const W = w / sw;
  const t1 = tf.transpose(tf.reshape(x, [n * D * sd * H, sh, W, sw * c]), [0, 2, 1, 3]);
  const t2 = tf.transpose(tf.reshape(t1, [n * D, sd, H * W, sh * sw * c]), [0, 2, 1, 3]);
  return tf.reshape(t2, [n, D, H, W, sd * sh * sw * c]);
}

/** Inverse of spaceToDepth3d: [N, D, H, W, (sd, sh, sw, C)] → [N, D·sd, H·sh, W·sw, C]. */
export function depthToSpace3d(y: tf.Tensor5D, s: Triple): tf.Tensor5D {
  const [n, d, h, w, cc] = y.shape;
  const [sd, sh, sw] = s;
  if (sd === 1 && sh === 1 && sw === 1) return y;
  const c = cc / (sd * sh * sw);
  const t1 = tf.transpose(tf.reshape(y, [n * d, h * w, sd, sh * sw * c]), [0, 2, 1, 3]);
  const t2 = tf.transpose(tf.reshape(t1, [n * d * sd * h, w, sh, sw * c]), [0, 2, 1, 3]);
  return tf.reshape(t2, [n, d * sd, h * sh, w * sw, c]);
}

/** w [kd,kh,kw,Ci,Co] → w′ [k′d,k′h,k′w,(sd,sh,sw,Ci),Co] with w′[u,(r,ci)] = w[s·u + r, ci] (0 beyond k). */
function strideKernel(w: tf.Tensor5D, s: Triple): tf.Tensor5D {
  const [kd, kh, kw, ci, co] = w.shape;
  const k: Triple = [kd, kh, kw];
  const kp = k.map((ki, i) => Math.ceil(ki / s[i]!)) as Triple;
  const padded = tf.pad(w, [[0, kp[0] * s[0] - kd], [0, kp[1] * s[1] - kh], [0, kp[2] * s[2] - kw], [0, 0], [0, 0]]);
  const split = tf.reshape(padded, [kp[0], s[0], kp[1], s[1], kp[2], s[2], ci, co]);
  const moved = tf.transpose(split, [0, 2, 4, 1, 3, 5, 6, 7]);
  return tf.reshape(moved, [kp[0], kp[1], kp[2], s[0] * s[1] * s[2] * ci, co]);
}

/** The decomposed convolution (any backend; the default on wasm and cpu). */
export function conv3dDecomposed(x: tf.Tensor5D, w: tf.Tensor5D, strides: Triple, pads: [PadPair, PadPair, PadPair], inputGradient = true): tf.Tensor5D {
  return tf.tidy(() => {
    const kernel: Triple = [w.shape[0], w.shape[1], w.shape[2]];
    let xs = x;
    const corePads: [PadPair, PadPair, PadPair] = [[0, 0], [0, 0], [0, 0]];
    const out = convOutputShape(spatial(x), kernel, strides, pads);
    for (let i = 0; i < 3; i++) {
      const k = kernel[i]!;
      const [before, after] = pads[i]!;
      if (strides[i]! > 1) {
        // pad/crop so that the strided axis has exactly s·(Do + k′ − 1) samples starting at −before
        const s = strides[i]!;
        const target = s * (out[i]! + Math.ceil(k / s) - 1);
        xs = padOrCrop(xs, i + 1, before, target - x.shape[i + 1]! - before);
      } else {
        // the core handles padding ≤ k − 1 itself (its input gradient needs k − 1 − p ≥ 0)
        const inCore: PadPair = [Math.min(before, k - 1), Math.min(after, k - 1)];
        corePads[i] = inCore;
        if (before > inCore[0] || after > inCore[1]) xs = padOrCrop(xs, i + 1, before - inCore[0], after - inCore[1]);
      }
    }
    if (strides.some((s) => s > 1)) {
      xs = spaceToDepth3d(xs, strides);
      return conv3dStride1(xs, strideKernel(w, strides), corePads, inputGradient);
    }
    return conv3dStride1(xs, w, corePads, inputGradient);
  });
}

/** Forward of the stride-1 decomposition: Σ_a conv2d(depth slice a, w[a]). Pads ≥ 0. */
function stride1Forward(x: tf.Tensor5D, w: tf.Tensor5D, pads: [PadPair, PadPair, PadPair]): tf.Tensor5D {
  const [n, d, h, wd, c] = x.shape;
  const [kd, kh, kw, , co] = w.shape;
  const [[pd0, pd1], [ph0, ph1], [pw0, pw1]] = pads;
  const xp = pd0 > 0 || pd1 > 0 ? (tf.pad(x, [[0, 0], [pd0, pd1], [0, 0], [0, 0], [0, 0]]) as tf.Tensor5D) : x;
  const dOut = d + pd0 + pd1 - kd + 1;
  const hOut = h + ph0 + ph1 - kh + 1;
  const wOut = wd + pw0 + pw1 - kw + 1;
  const pad2d: 'valid' | [[number, number], [number, number], [number, number], [number, number]] =
    ph0 > 0 || ph1 > 0 || pw0 > 0 || pw1 > 0 ? [[0, 0], [ph0, ph1], [pw0, pw1], [0, 0]] : 'valid';
  const terms: tf.Tensor4D[] = [];
  for (let a = 0; a < kd; a++) {
    const slab = kd === 1 && xp.shape[1] === dOut ? xp : tf.slice(xp, [0, a, 0, 0, 0], [n, dOut, h, wd, c]);
    const wa = tf.reshape(kd === 1 ? w : tf.slice(w, [a, 0, 0, 0, 0], [1, kh, kw, c, co]), [kh, kw, c, co]) as tf.Tensor4D;
    terms.push(tf.conv2d(tf.reshape(slab, [n * dOut, h, wd, c]) as tf.Tensor4D, wa, 1, pad2d));
  }
  const y = terms.length === 1 ? terms[0]! : tf.addN(terms);
  return tf.reshape(y, [n, dOut, hOut, wOut, co]);
}

/** Input gradient of the stride-1 decomposition: full correlation with the flipped kernel. */
function stride1InputGrad(dy: tf.Tensor5D, w: tf.Tensor5D, pads: [PadPair, PadPair, PadPair]): tf.Tensor5D {
  const k = [w.shape[0], w.shape[1], w.shape[2]];
  const flipped = tf.transpose(tf.reverse(w, [0, 1, 2]), [0, 1, 2, 4, 3]) as tf.Tensor5D;
  const gradPads = pads.map(([a, b], i) => [k[i]! - 1 - a, k[i]! - 1 - b]) as [PadPair, PadPair, PadPair];
  return stride1Forward(dy, flipped, gradPads);
}

/** Filter gradient of the stride-1 decomposition: one role-swapped conv2d (or a matMul for 1×1 in H, W). */
function stride1FilterGrad(x: tf.Tensor5D, dy: tf.Tensor5D, kernel: Triple, pads: [PadPair, PadPair, PadPair]): tf.Tensor5D {
  const [n, , , , c] = x.shape;
  const [, dOut, hOut, wOut, co] = dy.shape;
  const [kd, kh, kw] = kernel;
  const anyPad = pads.some(([a, b]) => a > 0 || b > 0);
  const xp = anyPad ? (tf.pad(x, [[0, 0], ...pads, [0, 0]]) as tf.Tensor5D) : x;
  const [, , hp, wp] = xp.shape;
  const slab = (a: number): tf.Tensor5D => (kd === 1 && xp.shape[1] === dOut ? xp : tf.slice(xp, [0, a, 0, 0, 0], [n, dOut, hp, wp, c]));
  if (kh === 1 && kw === 1) {
    // dW[a] = X_aᵀ·dY with X_a = [n·dOut·h·w, c]; explicit transpose keeps wasm on XNNPACK
    const dy2 = tf.reshape(dy, [-1, co]);
    const parts: tf.Tensor2D[] = [];
    for (let a = 0; a < kd; a++) parts.push(tf.matMul(tf.transpose(tf.reshape(slab(a), [-1, c])) as tf.Tensor2D, dy2 as tf.Tensor2D));
    return tf.reshape(parts.length === 1 ? parts[0]! : tf.stack(parts), [kd, 1, 1, c, co]);
  }
  // One transpose puts (n, d) innermost: T[ci, h, w, n, d′] = x̂[n, d′, h, w, ci]; the depth-shifted
  // operands A_a are then slices with contiguous runs (cheaper than one transpose per shift).
  const dp = xp.shape[1];
  const T = tf.reshape(tf.transpose(tf.reshape(xp, [n, dp, hp * wp, c]), [3, 2, 0, 1]), [c, hp, wp, n, dp]) as tf.Tensor5D;
  const Fall = tf.reshape(tf.transpose(tf.reshape(dy, [n, dOut, hOut * wOut, co]), [2, 0, 1, 3]), [hOut, wOut, n, dOut, co]) as tf.Tensor5D;
  const nd = n * dOut;
  const parts: tf.Tensor4D[] = [];
  for (let a = 0; a < kd; a++) parts.push(tf.reshape(tf.slice(T, [0, 0, 0, 0, a], [c, hp, wp, n, dOut]), [c, hp, wp, nd]) as tf.Tensor4D);
  const A = parts.length === 1 ? parts[0]! : tf.concat(parts, 0); // [kd·c, hp, wp, n·dOut]
  const F = tf.reshape(Fall, [hOut, wOut, nd, co]) as tf.Tensor4D;
  // K-blocking: XNNPACK streams the packed "filter" F once per row tile of the output, so one call
  // contracting over everything is memory-bound for big layers. Chunks of R output rows of dy
  // (≤ DW_CHUNK_FLOATS floats of F, with the kh − 1 overlapping rows of A) keep it cache-sized;
  // both slices are contiguous copies (≈10% less CPU time on a [2,64³,32→16] layer).
  const rows = Math.max(1, Math.floor(DW_CHUNK_FLOATS / (wOut * nd * co)));
  const partials: tf.Tensor4D[] = [];
  if (rows >= hOut) partials.push(tf.conv2d(A, F, 1, 'valid'));
  else {
    for (let h0 = 0; h0 < hOut; h0 += rows) {
      const r = Math.min(rows, hOut - h0);
      const Ac = tf.slice(A, [0, h0, 0, 0], [kd * c, r + kh - 1, wp, nd]);
      const Fc = tf.slice(F, [h0, 0, 0, 0], [r, wOut, nd, co]);
      partials.push(tf.conv2d(Ac, Fc, 1, 'valid'));
    }
  }
  const r = partials.length === 1 ? partials[0]! : tf.addN(partials);
  return tf.transpose(tf.reshape(r, [kd, c, kh, kw, co]), [0, 2, 3, 1, 4]);
}

/** Stride-1 convolution with padding ≤ k − 1 per side, as a tf.customGrad op. */
function conv3dStride1(x: tf.Tensor5D, w: tf.Tensor5D, pads: [PadPair, PadPair, PadPair], inputGradient: boolean): tf.Tensor5D {
  const kernel: Triple = [w.shape[0], w.shape[1], w.shape[2]];
  if (inputGradient) {
    const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [xIn, wIn, save] = args as [tf.Tensor5D, tf.Tensor5D, tf.GradSaveFunc];
      save([xIn, wIn]);
      return {
        value: stride1Forward(xIn, wIn, pads),
        // tfjs runs gradFuncs outside any tidy: without this, every temporary lives until backprop ends
        gradFunc: (dy: tf.Tensor5D, saved: tf.Tensor[]) =>
          tf.tidy(() => {
            const [sx, sw] = saved as [tf.Tensor5D, tf.Tensor5D];
            return [stride1InputGrad(dy, sw, pads), stride1FilterGrad(sx, dy, kernel, pads)];
          }),
      };
    });
    return op(x, w);
  }
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [wIn, save] = args as [tf.Tensor5D, tf.GradSaveFunc];
    save([x, wIn]);
    return {
      value: stride1Forward(x, wIn, pads),
      gradFunc: (dy: tf.Tensor5D, saved: tf.Tensor[]) => tf.tidy(() => stride1FilterGrad(saved[0] as tf.Tensor5D, dy, kernel, pads)),
    };
  });
  return op(w);
}

/**
 * Transposed 3D convolution with kernel = stride (nnU-Net's upsampling, e.g. 2×2×2 or 1×2×2),
 * differentiable w.r.t. x and f. x: [N, D, H, W, Ci], f: [sd, sh, sw, Co, Ci] → [N, D·sd, H·sh, W·sw, Co].
 * Equal to tf.conv3dTranspose(x, f, outShape, strides, 'valid').
 */
export function conv3dTranspose(x: tf.Tensor5D, f: tf.Tensor5D, strides: Triple): tf.Tensor5D {
  const [sd, sh, sw, co, ci] = f.shape;
  if (sd !== strides[0] || sh !== strides[1] || sw !== strides[2]) {
    throw new UsageError(`conv3dTranspose: kernel ${[sd, sh, sw]} must equal strides ${strides} (nnU-Net upsampling)`);
  }
  if (x.shape[4] !== ci) throw new UsageError(`conv3dTranspose: input has ${x.shape[4]} channels but kernel expects ${ci}`);
  ensureBackendPatches();
  return tf.tidy(() => {
    const [n, d, h, w] = x.shape;
    const wm = tf.reshape(tf.transpose(f, [4, 0, 1, 2, 3]), [ci, sd * sh * sw * co]) as tf.Tensor2D;
    const y = tf.matMul(tf.reshape(x, [n * d * h * w, ci]) as tf.Tensor2D, wm);
    return depthToSpace3d(tf.reshape(y, [n, d, h, w, sd * sh * sw * co]), strides);
  });
}
