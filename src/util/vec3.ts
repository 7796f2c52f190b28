/**
 * A triple of per-axis values (shape, spacing in mm, patch size, stride…). In files and public APIs
 * the order is NIfTI's voxel axes (i, j, k); see src/data/volume.ts for the axis convention.
 */
export type Vec3 = [number, number, number];
