/**
 * segloss's U-Net (src/model/unet.ts) under nnU-Net V1's `Generic_UNet` parameter names
 * (nnunet/network_architecture/generic_UNet.py, as nnUNetTrainerV2.initialize_network builds it:
 * convolutional pooling and upsampling, two convolutions per stage, InstanceNorm3d(affine),
 * LeakyReLU(0.01), no dropout); docs/export.md has the table.
 *
 *   conv_blocks_context.{d}.blocks.{m}.{conv,instnorm}.{weight,bias}   encoder stage d < L−1 (enc{d}.conv{m})
 *   conv_blocks_context.{L−1}.{m}.blocks.0.…                           bottleneck (enc{L−1}.conv{m})
 *   tu.{u}.weight                                                      up{s}, s = L−2−u (coarsest first)
 *   conv_blocks_localization.{u}.{m}.blocks.0.…                        dec{s}.conv{m}
 *   seg_outputs.{u}.weight                                             head{s}
 *
 * Layouts: a segloss convolution kernel [kd, kh, kw, Ci, Co] becomes PyTorch's Conv3d weight
 * [Co, Ci, kd, kh, kw]; a transposed-convolution kernel [sd, sh, sw, Co, Ci] becomes ConvTranspose3d's
 * [Ci, Co, sd, sh, sw] — the same axis permutation (4, 3, 0, 1, 2) for both. (D, H, W) is the
 * (k, j, i) order of NIfTI, which is nnU-Net's (z, y, x) array order.
 *
 * Generic_UNet's convolutions before an instance norm carry a bias, which the normalisation's mean
 * subtraction cancels exactly: segloss has none, the export writes zeros. Without deep supervision
 * segloss has only the full-resolution head; Generic_UNet always builds one per decoder stage and
 * then returns only the last: the others are written as zeros and change no output.
 */
import type { NetworkTopology } from '../model/topology.js';
import { toDHW } from '../model/unet.js';
import { UsageError } from '../util/errors.js';

/** Where a Generic_UNet parameter's values come from. */
export type ParameterSource =
  | { kind: 'weight'; seglossName: string; permutation: readonly number[] }
  | { kind: 'copy'; seglossName: string }
  | { kind: 'zeros'; reason: 'conv-bias' | 'unused-head' };

export interface GenericUnetParameter {
  /** The state_dict key. */
  name: string;
  /** PyTorch shape. */
  shape: number[];
  source: ParameterSource;
}

/** segloss kernel axes → PyTorch (Conv3d: [Co, Ci, kd, kh, kw]; ConvTranspose3d: [Ci, Co, sd, sh, sw]). */
export const KERNEL_TO_TORCH = [4, 3, 0, 1, 2] as const;

/**
 * The keyword arguments of `Generic_UNet(...)` that rebuild the network (Python names; the class
 * objects as strings), as nnUNetTrainerV2.initialize_network passes them.
 */
export interface GenericUnetKwargs {
  input_channels: number;
  base_num_features: number;
  num_classes: number;
  num_pool: number;
  num_conv_per_stage: 2;
  feat_map_mul_on_downscale: 2;
  conv_op: 'nn.Conv3d';
  norm_op: 'nn.InstanceNorm3d';
  norm_op_kwargs: { eps: number; affine: true };
  dropout_op: 'nn.Dropout3d';
  dropout_op_kwargs: { p: 0; inplace: true };
  nonlin: 'nn.LeakyReLU';
  nonlin_kwargs: { negative_slope: number; inplace: true };
  deep_supervision: boolean;
  dropout_in_localization: false;
  final_nonlin: 'lambda x: x';
  weightInitializer: 'InitWeights_He(1e-2)';
  /** Strides into stages 1 … L−1, (D, H, W) = (z, y, x). */
  pool_op_kernel_sizes: number[][];
  /** Kernels of stages 0 … L−1, (D, H, W). */
  conv_kernel_sizes: number[][];
  upscale_logits: false;
  convolutional_pooling: true;
  convolutional_upsampling: true;
  max_num_features: number;
}

/** Generic_UNet's constructor arguments for a topology; a UsageError when Generic_UNet cannot build it. */
export function genericUnetKwargs(t: NetworkTopology): GenericUnetKwargs {
  const L = t.stages.length;
  if (L < 2) throw new UsageError('export: Generic_UNet needs at least one downsampling stage (the topology has one stage)');
  const features = t.stages.map((s) => s.features);
  const base = features[0] as number;
  const max = Math.max(...features);
  // Generic_UNet: features_s = min(round(features_{s−1} · 2), max_num_features).
  let expected = base;
  features.forEach((f, s) => {
    if (s > 0) expected = Math.min(Math.round(expected * 2), max);
    if (f !== expected) throw new UsageError(`export: stage features ${features.join(', ')} do not double from ${base} up to a cap, as Generic_UNet builds them`);
  });
  t.stages.forEach((s, i) => {
    if (s.kernelSize.some((k) => k !== 1 && k !== 3)) throw new UsageError(`export: stage ${i} kernel ${s.kernelSize}: Generic_UNet pads 1 for kernel 3 and 0 otherwise, so only kernels 1 and 3 match segloss's padding`);
  });
  return {
    input_channels: t.inChannels,
    base_num_features: base,
    num_classes: t.numClasses,
    num_pool: L - 1,
    num_conv_per_stage: 2,
    feat_map_mul_on_downscale: 2,
    conv_op: 'nn.Conv3d',
    norm_op: 'nn.InstanceNorm3d',
    norm_op_kwargs: { eps: 1e-5, affine: true },
    dropout_op: 'nn.Dropout3d',
    dropout_op_kwargs: { p: 0, inplace: true },
    nonlin: 'nn.LeakyReLU',
    nonlin_kwargs: { negative_slope: 0.01, inplace: true },
    deep_supervision: t.deepSupervision,
    dropout_in_localization: false,
    final_nonlin: 'lambda x: x',
    weightInitializer: 'InitWeights_He(1e-2)',
    pool_op_kernel_sizes: t.stages.slice(1).map((s) => [...toDHW(s.stride)]),
    conv_kernel_sizes: t.stages.map((s) => [...toDHW(s.kernelSize)]),
    upscale_logits: false,
    convolutional_pooling: true,
    convolutional_upsampling: true,
    max_num_features: max,
  };
}

/** The four parameters of one ConvDropoutNormNonlin (conv, instnorm) from segloss block `block` (e.g. "enc0.conv1"). */
function convBlock(prefix: string, block: string, ci: number, co: number, kernelDHW: readonly number[]): GenericUnetParameter[] {
  return [
    { name: `${prefix}.conv.weight`, shape: [co, ci, ...kernelDHW], source: { kind: 'weight', seglossName: `${block}.kernel`, permutation: KERNEL_TO_TORCH } },
    { name: `${prefix}.conv.bias`, shape: [co], source: { kind: 'zeros', reason: 'conv-bias' } },
    { name: `${prefix}.instnorm.weight`, shape: [co], source: { kind: 'copy', seglossName: `${block}.gamma` } },
    { name: `${prefix}.instnorm.bias`, shape: [co], source: { kind: 'copy', seglossName: `${block}.beta` } },
  ];
}

/**
 * Every Generic_UNet parameter of a topology, in state_dict order (the ModuleLists are registered
 * in the order conv_blocks_localization, conv_blocks_context, td, tu, seg_outputs), with its shape
 * and where its values come from.
 */
export function genericUnetParameters(t: NetworkTopology): GenericUnetParameter[] {
  genericUnetKwargs(t);
  const L = t.stages.length;
  const f = t.stages.map((s) => s.features);
  const kernel = t.stages.map((s) => toDHW(s.kernelSize));
  const stride = t.stages.map((s) => toDHW(s.stride));
  const heads = t.deepSupervision ? L - 1 : 1;
  const localization: GenericUnetParameter[] = [];
  const tu: GenericUnetParameter[] = [];
  const seg: GenericUnetParameter[] = [];
  for (let u = 0; u < L - 1; u++) {
    const s = L - 2 - u;
    const k = kernel[s + 1] as number[];
    localization.push(
      ...convBlock(`conv_blocks_localization.${u}.0.blocks.0`, `dec${s}.conv0`, 2 * (f[s] as number), f[s] as number, k),
      ...convBlock(`conv_blocks_localization.${u}.1.blocks.0`, `dec${s}.conv1`, f[s] as number, f[s] as number, k),
    );
    tu.push({ name: `tu.${u}.weight`, shape: [f[s + 1] as number, f[s] as number, ...(stride[s + 1] as number[])], source: { kind: 'weight', seglossName: `up${s}.kernel`, permutation: KERNEL_TO_TORCH } });
    seg.push({
      name: `seg_outputs.${u}.weight`,
      shape: [t.numClasses, f[s] as number, 1, 1, 1],
      source: s < heads ? { kind: 'weight', seglossName: `head${s}.kernel`, permutation: KERNEL_TO_TORCH } : { kind: 'zeros', reason: 'unused-head' },
    });
  }
  const context: GenericUnetParameter[] = [];
  let cin = t.inChannels;
  for (let d = 0; d < L; d++) {
    const k = kernel[d] as number[];
    const fd = f[d] as number;
    if (d < L - 1) {
      context.push(...convBlock(`conv_blocks_context.${d}.blocks.0`, `enc${d}.conv0`, cin, fd, k), ...convBlock(`conv_blocks_context.${d}.blocks.1`, `enc${d}.conv1`, fd, fd, k));
    } else {
      context.push(...convBlock(`conv_blocks_context.${d}.0.blocks.0`, `enc${d}.conv0`, cin, fd, k), ...convBlock(`conv_blocks_context.${d}.1.blocks.0`, `enc${d}.conv1`, fd, fd, k));
    }
    cin = fd;
  }
  return [...localization, ...context, ...tu, ...seg];
}

/** Transpose row-major `data` of `shape` by `permutation` (output axis a = input axis permutation[a]). */
export function permuteAxes(data: Float32Array, shape: readonly number[], permutation: readonly number[]): { data: Float32Array; shape: number[] } {
  const rank = shape.length;
  const outShape = permutation.map((p) => shape[p] as number);
  const inStrides = new Array<number>(rank).fill(1);
  for (let a = rank - 2; a >= 0; a--) inStrides[a] = (inStrides[a + 1] as number) * (shape[a + 1] as number);
  const strideOfOut = permutation.map((p) => inStrides[p] as number);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let a = 0; a < rank; a++) src += (index[a] as number) * (strideOfOut[a] as number);
    out[o] = data[src] as number;
    for (let a = rank - 1; a >= 0; a--) {
      index[a] = (index[a] as number) + 1;
      if ((index[a] as number) < (outShape[a] as number)) break;
      index[a] = 0;
    }
  }
  return { data: out, shape: outShape };
}
