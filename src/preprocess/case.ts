/**
 * One case through nnU-Net's preprocessing (`GenericPreprocessor.resample_and_normalize`; docs/preprocessing.md): crop to the non-zero
 * region → resample to the target spacing (images cubic, labels one-hot linear, separate z for
 * anisotropic data) → normalise each channel. Pure: typed arrays in, typed arrays out; used both
 * for the training cache and for inference (`preprocessForInference`).
 */
import type { Affine, NiftiGeometry, Volume } from '../data/volume.js';
import type { Vec3 } from '../util/vec3.js';
import { cropToNonzero, type CropBox } from './crop.js';
import { resampleImage, resampleLabels, resampledShape, separateZAxis } from './resample.js';
import { normalizeCT, normalizeZScore } from './normalize.js';
import type { IntensityStats } from './fingerprint.js';

/** Normalisation scheme per channel: nnU-Net "CT" or per-image z-score ("nonCT"). */
export type NormalizationScheme = 'CT' | 'zscore';

export interface NormalizationPlan {
  /** Per input channel. */
  schemes: NormalizationScheme[];
  /** Per channel: z-score within the non-zero region (seg ≥ 0), outside set to 0. */
  use_nonzero_mask: boolean[];
}

/** What a case needs from the plan. */
export interface CasePlan {
  targetSpacingMm: Vec3;
  normalization: NormalizationPlan;
  /** Per channel; required for CT channels. */
  intensity?: (IntensityStats | null)[];
}

/** Where a preprocessed case came from; everything needed to map predictions back. */
export interface CaseMeta {
  id: string;
  /** Crop box in the original voxel grid, [lo, hi) per axis (i, j, k). */
  cropBox: CropBox;
  originalShape: Vec3;
  originalSpacingMm: Vec3;
  shapeAfterCrop: Vec3;
  shapeAfterResample: Vec3;
  spacingAfterResampleMm: Vec3;
  /** The axis resampled separately with nearest neighbour (anisotropic data), or null. */
  separateZAxis: number | null;
  /** Original voxel-to-world affine and NIfTI geometry (to write predictions back). */
  affine: Affine;
  geometry: NiftiGeometry;
  /** Label values present after cropping (−1 = outside the non-zero region), as nnU-Net records. */
  classes: number[];
}

export interface PreprocessedArrays {
  /** Channel-major, each channel i-fastest, shape `shape`. */
  image: Float32Array;
  channels: number;
  /** Labels with −1 outside the non-zero region (int16), shape `shape`. */
  seg: Int16Array;
  shape: Vec3;
  cropBox: CropBox;
  shapeAfterCrop: Vec3;
  separateZAxis: number | null;
  classes: number[];
}

/**
 * Crop, resample and normalise one case. Returns null when the non-zero region is empty.
 * `label` is undefined at inference time.
 */
export function preprocessArrays(
  channels: readonly ArrayLike<number>[],
  label: ArrayLike<number> | undefined,
  shape: Vec3,
  spacingMm: Vec3,
  plan: CasePlan,
): PreprocessedArrays | null {
  const cropped = cropToNonzero(channels, label, shape);
  if (cropped === null) return null;
  const classes = [...new Set(cropped.seg)].sort((a, b) => a - b);
  const target = plan.targetSpacingMm;
  const outShape = resampledShape(cropped.shape, spacingMm, target);
  const axis = separateZAxis(spacingMm, target);
  const n = outShape[0] * outShape[1] * outShape[2];
  const seg = resampleLabels(cropped.seg, cropped.shape, outShape, { separateZAxis: axis });
  const image = new Float32Array(n * channels.length);
  cropped.channels.forEach((ch, c) => {
    const r = resampleImage(ch, cropped.shape, outShape, { order: 3, separateZAxis: axis });
    const scheme = plan.normalization.schemes[c];
    if (scheme === 'CT') {
      const stats = plan.intensity?.[c];
      if (stats === undefined || stats === null) throw new Error(`channel ${c} is CT but the plan has no intensity statistics`);
      normalizeCT(r, stats);
    } else {
      normalizeZScore(r, plan.normalization.use_nonzero_mask[c] === true ? seg : undefined);
    }
    image.set(r, c * n);
  });
  return { image, channels: channels.length, seg, shape: outShape, cropBox: cropped.box, shapeAfterCrop: cropped.shape, separateZAxis: axis, classes };
}

/**
 * What a preprocessed case remembers of its raw image (crop box, original grid, geometry) so that
 * predictions can be resampled back and un-cropped: the same record for the cache and inference.
 */
export function caseMetaOf(id: string, image: Volume, r: PreprocessedArrays, targetSpacingMm: readonly number[]): CaseMeta {
  return {
    id,
    cropBox: r.cropBox,
    originalShape: image.shape.slice(0, 3) as Vec3,
    originalSpacingMm: [...image.spacingMm] as Vec3,
    shapeAfterCrop: r.shapeAfterCrop,
    shapeAfterResample: r.shape,
    spacingAfterResampleMm: [...targetSpacingMm] as Vec3,
    separateZAxis: r.separateZAxis,
    affine: image.affine.map((row) => [...row]) as CaseMeta['affine'],
    geometry: image.geometry,
    classes: r.classes,
  };
}
