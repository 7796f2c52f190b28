/**
 * Inference-time preprocessing and the way back (nnU-Net V1 `preprocess_patient` and `save_segmentation_nifti_from_softmax`):
 * a raw image goes through exactly the training preprocessing with the plan's statistics; class
 * probabilities predicted on the preprocessed grid are resampled back to the cropped original grid
 * (v1-final: linear, nearest along the separate-z axis; no one-hot trick) and pasted into the
 * original volume, with background probability 1 outside the crop box.
 */
import type { Volume } from '../data/volume.js';
import type { Vec3 } from '../util/vec3.js';
import { InputError } from '../util/errors.js';
import { caseMetaOf, preprocessArrays, type CaseMeta } from './case.js';
import { pasteArray } from './crop.js';
import { resampleImage } from './resample.js';
import type { InterpolationOrder } from '../ndimage/zoom.js';
import type { Plans } from './plans.js';
import { casePlanOf } from './plans.js';

export interface InferenceInput {
  /** Channel-major, each channel i-fastest. */
  image: Float32Array;
  shape: Vec3;
  channels: number;
  meta: CaseMeta;
}

/** Split a 3D or 4D volume into its channels (views, no copy). */
export function volumeChannels(volume: Volume): ArrayLike<number>[] {
  const n = (volume.shape[0] as number) * (volume.shape[1] as number) * (volume.shape[2] as number);
  const c = volume.shape[3] ?? 1;
  return Array.from({ length: c }, (_, k) => volume.data.subarray(k * n, (k + 1) * n));
}

/**
 * Preprocess a raw image (3D, or 4D with channels on the 4th axis) for prediction with `plans`.
 * A volume without any non-zero voxel is refused (nothing to segment).
 */
export function preprocessForInference(plans: Plans, image: Volume, id = 'case'): InferenceInput {
  const channels = volumeChannels(image);
  if (channels.length !== plans.modalities.length) {
    throw new InputError(undefined, `${id}: image has ${channels.length} channel(s), the plan expects ${plans.modalities.length} (${plans.modalities.join(', ')})`);
  }
  const shape = image.shape.slice(0, 3) as Vec3;
  const r = preprocessArrays(channels, undefined, shape, image.spacingMm, casePlanOf(plans));
  if (r === null) throw new InputError(undefined, `${id}: the image has no non-zero voxel`);
  return {
    image: r.image,
    shape: r.shape,
    channels: r.channels,
    meta: caseMetaOf(id, image, r, plans.target_spacing_mm),
  };
}

export interface RestoreOptions {
  /** Interpolation order of the probabilities (v1-final 1; the 2019 CV export used 3). */
  order?: InterpolationOrder;
}

/**
 * Class probabilities on the preprocessed grid (class-major, each class i-fastest, `shape`) →
 * the original grid (class-major, `meta.originalShape`): each class is resampled to the cropped
 * shape, then pasted at the crop box; outside the box class 0 has probability 1.
 */
export function restoreToOriginal(probabilities: Float32Array, numClasses: number, shape: Vec3, meta: CaseMeta, options: RestoreOptions = {}): Float32Array {
  const n = shape[0] * shape[1] * shape[2];
  if (probabilities.length !== n * numClasses) {
    throw new InputError(undefined, `restoreToOriginal: ${probabilities.length} values for ${numClasses} classes of shape [${shape.join(', ')}]`);
  }
  const orig = meta.originalShape;
  const nOrig = orig[0] * orig[1] * orig[2];
  const out = new Float32Array(nOrig * numClasses);
  out.fill(1, 0, nOrig);
  const order = options.order ?? 1;
  for (let c = 0; c < numClasses; c++) {
    const channel = probabilities.subarray(c * n, (c + 1) * n);
    const r = resampleImage(channel, shape, meta.shapeAfterCrop, { order, separateZAxis: meta.separateZAxis });
    pasteArray(r, meta.cropBox, out.subarray(c * nOrig, (c + 1) * nOrig), orig);
  }
  return out;
}
