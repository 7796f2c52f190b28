/**
 * In-memory image volume: the contract between NIfTI I/O, preprocessing, training and evaluation.
 *
 * Axis convention (used throughout segloss):
 * - Everything a user sees or a file stores (shapes, spacings, patch sizes, kernel sizes, strides
 *   in plans.json) is in NIfTI voxel-axis order (i, j, k).
 * - Voxel data is stored as NIfTI stores it: i varies fastest, then j, then k, then channel.
 *   As a row-major tensor this is exactly [k, j, i] (channel-first for 4D files: [c, k, j, i]),
 *   so a 3D volume becomes a tfjs tensor [D, H, W] = [nk, nj, ni] without any copy.
 * - Only tensors inside src/model, src/losses and src/train use (D, H, W) = (k, j, i) order.
 */
import type { Vec3 } from '../util/vec3.js';

export type VoxelArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

/** 4×4 voxel-to-world (RAS+ mm) affine, row-major: world = A · [i, j, k, 1]. */
export type Affine = [number[], number[], number[], number[]];

export interface Volume {
  /** [ni, nj, nk] for 3D, [ni, nj, nk, nc] for multi-channel (4D) volumes. */
  shape: number[];
  /** Voxel size in mm along i, j, k (pixdim[1..3]). */
  spacingMm: Vec3;
  /** Voxel-to-world affine (sform when set, else qform, else from pixdim). */
  affine: Affine;
  /** Voxel values, i fastest (see above). Scaling (scl_slope/scl_inter) already applied for images. */
  data: VoxelArray;
  /** Header fields needed to write the volume back with exactly the input's geometry. */
  geometry: NiftiGeometry;
}

/** The parts of a NIfTI header that define geometry; copied verbatim when a derived volume is written. */
export interface NiftiGeometry {
  qformCode: number;
  sformCode: number;
  /** quatern_b, quatern_c, quatern_d, qoffset_x, qoffset_y, qoffset_z */
  quatern: [number, number, number, number, number, number];
  /** pixdim[0..7]; pixdim[0] is qfac. */
  pixdim: number[];
  /** srow_x, srow_y, srow_z (each 4 numbers). */
  srow: [number[], number[], number[]];
  xyztUnits: number;
}

/** Number of voxels of one channel. */
export function voxelCount(shape: readonly number[]): number {
  return (shape[0] ?? 1) * (shape[1] ?? 1) * (shape[2] ?? 1);
}

/** Linear index of voxel (i, j, k) in a volume of shape [ni, nj, nk]. */
export function voxelIndex(shape: readonly number[], i: number, j: number, k: number): number {
  return i + (shape[0] as number) * (j + (shape[1] as number) * k);
}
