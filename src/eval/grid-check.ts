/**
 * Is a prediction on its reference's voxel grid? Same shape, and the same geometry: spacing
 * (pixdim, which the surface distances use, and the affine's column norms), origin (the affine's
 * translation, mm) and direction (its normalised columns). A prediction that is shifted or has a
 * flipped axis overlaps its reference voxel by voxel all the same, so without this check it would
 * be scored as if aligned.
 *
 * Tolerance: numpy's `np.allclose(prediction, reference)` defaults, |p − r| ≤ 1e-8 + 1e-5·|r| per
 * component — what nnU-Net v2's `verify_dataset_integrity` (`check_cases`) uses to compare an
 * image's spacing, origin and direction (SimpleITK) or affine (nibabel) with its segmentation's.
 * nnU-Net stops on a spacing mismatch and only warns on origin and direction; segloss stops on
 * all three, because a misplaced prediction has no meaningful score. The tolerance is far above
 * the float32 round-off of NIfTI headers (~6e-8 relative) and far below any real misplacement.
 */
import type { Affine, Volume } from '../data/volume.js';
import { orientationCode } from '../data/geometry.js';
import { InputError } from '../util/errors.js';

// The comparison rule lives with the geometry (segloss check uses it too).
import { GEOMETRY_ATOL, GEOMETRY_RTOL, affineParts, allClose } from '../data/geometry.js';
export { GEOMETRY_ATOL, GEOMETRY_RTOL, affineParts, allClose };

const mm = (v: readonly number[]) => v.map((x) => Number(x.toPrecision(6))).join(', ');

function directionText(affine: Affine, direction: number[]): string {
  const rows = [0, 1, 2].map((i) => direction.slice(3 * i, 3 * i + 3).map((x) => Number(x.toFixed(4))).join(' '));
  return `${orientationCode(affine)} [${rows.join('; ')}]`;
}

/**
 * Throw an InputError naming the prediction (and, in the message, the reference) when the two are
 * not on the same voxel grid within the tolerance above.
 */
export function checkSameGrid(caseId: string, gt: Volume, gtFile: string, pred: Volume, predFile: string): void {
  const mismatch = (what: string) => new InputError(predFile, `case ${caseId}: ${what} (reference ${gtFile}; tolerance per component ${GEOMETRY_ATOL.toExponential()} + ${GEOMETRY_RTOL.toExponential()}·|reference|, np.allclose)`);
  if (pred.shape.length > 3 && (pred.shape[3] ?? 1) > 1) throw new InputError(predFile, `case ${caseId}: prediction has ${pred.shape[3]} channels, expected a 3D label map`);
  const g = gt.shape.slice(0, 3).join('x');
  const p = pred.shape.slice(0, 3).join('x');
  if (g !== p) throw new InputError(predFile, `case ${caseId}: prediction shape ${p} differs from the reference's ${g} (reference ${gtFile})`);
  if (!allClose(pred.spacingMm, gt.spacingMm)) throw mismatch(`prediction spacing ${pred.spacingMm.join('x')} mm differs from the reference's ${gt.spacingMm.join('x')} mm`);
  const gp = affineParts(gt.affine);
  const pp = affineParts(pred.affine);
  if (!allClose(pp.spacingMm, gp.spacingMm)) throw mismatch(`the prediction's affine has voxel sizes ${mm(pp.spacingMm)} mm, the reference's ${mm(gp.spacingMm)} mm`);
  if (!allClose(pp.direction, gp.direction)) {
    throw mismatch(`prediction axis directions ${directionText(pred.affine, pp.direction)} differ from the reference's ${directionText(gt.affine, gp.direction)}`);
  }
  if (!allClose(pp.originMm, gp.originMm)) throw mismatch(`prediction origin (${mm(pp.originMm)}) mm differs from the reference's (${mm(gp.originMm)}) mm`);
}
