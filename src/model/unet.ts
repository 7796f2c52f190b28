/**
 * nnU-Net's 3D U-Net (`Generic_UNet` as `nnUNetTrainer.initialize_network` instantiates it; docs/model.md).
 *
 * Stage s (s = 0 … L−1, the last is the bottleneck) has two blocks
 *   block = conv (kernel_s, padding (k−1)/2 per side) → InstanceNorm(eps 1e-5, affine) → LeakyReLU(0.01),
 * the first conv of stage s ≥ 1 having stride stride_s (strided-convolution downsampling).
 * Decoder, from coarse to fine, for s = L−2 … 0:
 *   up = conv3dTranspose(kernel = stride = stride_{s+1}, features_{s+1} → features_s, no bias),
 *   h = concat([up, skip_s], channels), then two blocks (2·features_s → features_s → features_s)
 *   whose kernel is kernel_{s+1} (nnU-Net quirk: the decoder uses the next-coarser stage's kernel).
 * Head: 1×1×1 convolution features_0 → numClasses, no bias, logits out (softmax belongs to the loss).
 * With deep supervision, every decoder stage s gets its own head; outputs are ordered from full
 * resolution (s = 0) down to the coarsest decoder stage (s = L−2).
 *
 * Convolutions carry no bias: a per-channel constant added before instance normalisation is
 * removed exactly by the mean subtraction (nnU-Net's bias there has zero gradient and no effect).
 * Initialisation (InitWeights_He(1e-2)): w ~ N(0, 2/((1 + 0.01²)·fan_in)), fan_in = Ci·kd·kh·kw for
 * convolutions and Co·sd·sh·sw for transposed convolutions (PyTorch's dim-1 rule); γ = 1, β = 0.
 * Deterministic: every weight is drawn from Rng(seed).fork(<weight name>).
 *
 * Axes: the topology is in NIfTI order (i, j, k); tensors are [B, D, H, W, C] with (D, H, W) = (k, j, i).
 */
import * as tf from '@tensorflow/tfjs';
import type { NetworkTopology } from './topology.js';
import type { Vec3 } from '../util/vec3.js';
import { conv3d, conv3dTranspose, type PadPair, type Triple } from '../engine/conv3d.js';
import { instanceNormLeakyRelu } from '../engine/instance-norm.js';
import { Rng } from '../util/rng.js';
import { UsageError } from '../util/errors.js';

export interface UNet3DOptions {
  /** Seed of the weight initialisation. */
  seed: number;
}

export interface NamedVariable {
  /** Stable logical name, e.g. "enc1.conv0.kernel" (used in checkpoints). */
  name: string;
  variable: tf.Variable;
}

interface Block {
  kernel: tf.Variable;
  gamma: tf.Variable;
  beta: tf.Variable;
  kernelSize: Triple;
  stride: Triple;
}

/** (i, j, k) → (D, H, W) = (k, j, i). */
export function toDHW(v: Vec3): Triple {
  return [v[2], v[1], v[0]];
}

const LEAKY_SLOPE = 0.01;
const NORM_EPS = 1e-5;
let instanceCounter = 0;

/** Check a topology for the builder; throws UsageError naming the problem. */
export function validateTopology(t: NetworkTopology): void {
  const bad = (m: string): never => {
    throw new UsageError(`network topology: ${m}`);
  };
  if (!Number.isInteger(t.inChannels) || t.inChannels < 1) bad(`inChannels must be a positive integer, got ${t.inChannels}`);
  if (!Number.isInteger(t.numClasses) || t.numClasses < 2) bad(`numClasses must be ≥ 2 (background included), got ${t.numClasses}`);
  if (!Array.isArray(t.stages) || t.stages.length < 1) bad('at least one stage is needed');
  t.stages.forEach((s, i) => {
    if (!Number.isInteger(s.features) || s.features < 1) bad(`stage ${i}: features must be a positive integer, got ${s.features}`);
    if (s.kernelSize.length !== 3 || s.kernelSize.some((k) => !Number.isInteger(k) || k < 1 || k % 2 === 0)) bad(`stage ${i}: kernelSize must be 3 odd positive integers, got ${s.kernelSize}`);
    if (s.stride.length !== 3 || s.stride.some((k) => !Number.isInteger(k) || k < 1)) bad(`stage ${i}: stride must be 3 positive integers, got ${s.stride}`);
    if (i === 0 && s.stride.some((k) => k !== 1)) bad(`stage 0 must have stride [1, 1, 1], got ${s.stride}`);
  });
}

export class UNet3D {
  readonly topology: NetworkTopology;
  readonly variables: tf.Variable[] = [];
  private readonly named: NamedVariable[] = [];
  private readonly encoder: Block[][] = [];
  private readonly decoder: Block[][] = [];
  private readonly up: tf.Variable[] = [];
  private readonly heads: tf.Variable[] = [];
  private readonly prefix: string;
  private disposed = false;

  constructor(topology: NetworkTopology, options: UNet3DOptions) {
    validateTopology(topology);
    this.topology = structuredClone(topology);
    instanceCounter += 1;
    this.prefix = `segloss_unet${instanceCounter}`;
    const rng = new Rng(options.seed);
    const stages = this.topology.stages;
    const L = stages.length;
    let cin = this.topology.inChannels;
    for (let s = 0; s < L; s++) {
      const st = stages[s]!;
      const k = toDHW(st.kernelSize);
      this.encoder.push([
        this.block(rng, `enc${s}.conv0`, cin, st.features, k, toDHW(st.stride)),
        this.block(rng, `enc${s}.conv1`, st.features, st.features, k, [1, 1, 1]),
      ]);
      cin = st.features;
    }
    for (let s = 0; s < L - 1; s++) {
      const f = stages[s]!.features;
      const fUp = stages[s + 1]!.features;
      const stride = toDHW(stages[s + 1]!.stride);
      const k = toDHW(stages[s + 1]!.kernelSize);
      this.up.push(this.weight(rng, `up${s}.kernel`, [...stride, f, fUp], f * stride[0] * stride[1] * stride[2]));
      this.decoder.push([this.block(rng, `dec${s}.conv0`, 2 * f, f, k, [1, 1, 1]), this.block(rng, `dec${s}.conv1`, f, f, k, [1, 1, 1])]);
    }
    const headStages = this.topology.deepSupervision ? Math.max(1, L - 1) : 1;
    for (let s = 0; s < headStages; s++) {
      const f = stages[s]!.features;
      this.heads.push(this.weight(rng, `head${s}.kernel`, [1, 1, 1, f, this.topology.numClasses], f));
    }
  }

  private weight(rng: Rng, name: string, shape: number[], fanIn: number): tf.Variable {
    const std = Math.sqrt(2 / (1 + LEAKY_SLOPE * LEAKY_SLOPE)) / Math.sqrt(fanIn);
    const r = rng.fork(name);
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = r.normal() * std;
    return this.register(name, tf.tensor(values, shape));
  }

  private register(name: string, init: tf.Tensor): tf.Variable {
    const v = tf.variable(init, true, `${this.prefix}/${name}`);
    init.dispose();
    this.variables.push(v);
    this.named.push({ name, variable: v });
    return v;
  }

  private block(rng: Rng, name: string, ci: number, co: number, kernelSize: Triple, stride: Triple): Block {
    return {
      kernel: this.weight(rng, `${name}.kernel`, [...kernelSize, ci, co], ci * kernelSize[0] * kernelSize[1] * kernelSize[2]),
      gamma: this.register(`${name}.gamma`, tf.ones([co])),
      beta: this.register(`${name}.beta`, tf.zeros([co])),
      kernelSize,
      stride,
    };
  }

  /** Weights with their stable names, in creation order (checkpoints). */
  namedVariables(): NamedVariable[] {
    return [...this.named];
  }

  /** Each spatial axis (D, H, W) of the input must be a multiple of these (product of strides). */
  divisibility(): Triple {
    const d: Triple = [1, 1, 1];
    for (const st of this.topology.stages) {
      const s = toDHW(st.stride);
      for (let i = 0; i < 3; i++) d[i] = d[i]! * s[i]!;
    }
    return d;
  }

  private runBlock(x: tf.Tensor5D, b: Block, inputGradient: boolean): tf.Tensor5D {
    const pads = b.kernelSize.map((k) => [(k - 1) / 2, (k - 1) / 2]) as [PadPair, PadPair, PadPair];
    const y = conv3d(x, b.kernel as unknown as tf.Tensor5D, b.stride, pads, { inputGradient });
    return instanceNormLeakyRelu(y, b.gamma as unknown as tf.Tensor1D, b.beta as unknown as tf.Tensor1D, NORM_EPS, LEAKY_SLOPE);
  }

  private checkInput(x: tf.Tensor5D): void {
    if (this.disposed) throw new UsageError('UNet3D: model was disposed');
    if (x.rank !== 5 || x.shape[4] !== this.topology.inChannels) {
      throw new UsageError(`UNet3D: expected input [B, D, H, W, ${this.topology.inChannels}], got [${x.shape}]`);
    }
    const div = this.divisibility();
    for (let i = 0; i < 3; i++) {
      if (x.shape[i + 1]! % div[i]! !== 0) {
        throw new UsageError(`UNet3D: input spatial shape (D,H,W) = ${x.shape.slice(1, 4)} must be divisible by ${div} (product of strides)`);
      }
    }
  }

  private forward(x: tf.Tensor5D, allHeads: boolean): tf.Tensor5D[] {
    this.checkInput(x);
    return tf.tidy(() => {
      const L = this.encoder.length;
      const skips: tf.Tensor5D[] = [];
      let h = x;
      for (let s = 0; s < L; s++) {
        const [b0, b1] = this.encoder[s] as [Block, Block];
        h = this.runBlock(h, b0, s > 0);
        h = this.runBlock(h, b1, true);
        skips.push(h);
      }
      const outputs: tf.Tensor5D[] = [];
      const head = (t: tf.Tensor5D, s: number): tf.Tensor5D => conv3d(t, this.heads[s] as unknown as tf.Tensor5D, [1, 1, 1], 'valid');
      if (L === 1) return [head(h, 0)];
      for (let s = L - 2; s >= 0; s--) {
        const stride = toDHW(this.topology.stages[s + 1]!.stride);
        const up = conv3dTranspose(h, this.up[s] as unknown as tf.Tensor5D, stride);
        h = tf.concat([up, skips[s]!], 4);
        const [b0, b1] = this.decoder[s] as [Block, Block];
        h = this.runBlock(h, b0, true);
        h = this.runBlock(h, b1, true);
        if (s === 0 || (allHeads && s < this.heads.length)) outputs.push(head(h, s));
      }
      return outputs.reverse();
    });
  }

  /**
   * Logits for a batch x = [B, D, H, W, inChannels]: [0] at full resolution [B, D, H, W, numClasses],
   * then (deep supervision) one per decoder stage at decreasing resolution. `training` is accepted
   * for API symmetry: the network has no dropout or batch statistics, so both modes compute the same.
   */
  apply(x: tf.Tensor5D, training: boolean): tf.Tensor5D[] {
    void training;
    return this.forward(x, true);
  }

  /** Full-resolution logits only. */
  predict(x: tf.Tensor5D): tf.Tensor5D {
    return this.forward(x, false)[0]!;
  }

  /** Number of trainable scalars. */
  parameterCount(): number {
    return this.variables.reduce((n, v) => n + v.size, 0);
  }

  dispose(): void {
    if (this.disposed) return;
    for (const v of this.variables) v.dispose();
    this.disposed = true;
  }
}
