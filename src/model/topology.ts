/**
 * Network topology: what planning (src/preprocess) decides and the U-Net builder
 * (./unet.ts) constructs. Written to plans.json. Axis order is NIfTI (i, j, k), like every
 * shape in files (see src/data/volume.ts); the builder reverses it for (D, H, W) tensors.
 */
import type { Vec3 } from '../util/vec3.js';

export interface StageTopology {
  /** Output features of both convolutions of this stage. */
  features: number;
  /** Convolution kernel size per axis (i, j, k), 3 or 1 (1 for the coarse axis of anisotropic data). */
  kernelSize: Vec3;
  /** Downsampling stride per axis (i, j, k) into this stage; [1, 1, 1] for the first stage. */
  stride: Vec3;
}

export interface NetworkTopology {
  inChannels: number;
  /** Number of classes including background (softmax outputs). */
  numClasses: number;
  /** Encoder stages from full resolution down to the bottleneck. */
  stages: StageTopology[];
  /** Extra logits at lower decoder resolutions for deep supervision (nnU-Net), off when false. */
  deepSupervision: boolean;
}
