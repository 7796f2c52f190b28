/**
 * NIfTI geometry: voxel-to-world affines from the qform (quaternion) and sform (matrix) header
 * fields, the inverse (affine → quaternion), orientation codes, and building geometry for volumes
 * that segloss creates itself (synthetic data, derived volumes).
 *
 * Reading follows nibabel 5 exactly (the NIfTI standard as nibabel implements it): the codes and
 * pixdim fixes nibabel applies when it loads a header, `get_best_affine` precedence (sform, then
 * qform, then nibabel's centred, x-flipped base affine), `get_qform`'s quaternion maths. Writing
 * uses nifti1.h's nifti_mat44_to_quatern.
 */
import type { Affine, NiftiGeometry } from './volume.js';
import type { Vec3 } from '../util/vec3.js';

/** NIfTI xyzt_units: NIFTI_UNITS_MM (2) | NIFTI_UNITS_SEC (8). */
export const UNITS_MM_SEC = 2 | 8;

/**
 * The qform/sform codes nibabel 5 knows (`xform_codes`): 0 unknown, 1 scanner, 2 aligned,
 * 3 Talairach, 4 MNI-152, 5 template (NIFTI_XFORM_TEMPLATE_OTHER, added to nifti1.h in 2019).
 */
export const MAX_XFORM_CODE = 5;

/**
 * A qform_code or sform_code as nibabel uses it: nibabel's `Nifti1Header._chk_xform_code` resets a
 * code outside 0..5 to 0 when the file is loaded, so such a transform is never used.
 */
export function validXformCode(code: number): number {
  return Number.isInteger(code) && code >= 0 && code <= MAX_XFORM_CODE ? code : 0;
}

/**
 * pixdim as nibabel holds it after loading (the checks run with fix=True):
 * `Nifti1Header._chk_qfac` sets pixdim[0] (qfac) to 1 unless it is exactly ±1, and
 * `AnalyzeHeader._chk_pixdims` makes negative pixdim[1..3] positive and zero ones 1. NaN and ∞ are
 * left as they are (a reader must refuse them where they are used).
 */
export function nibabelPixdim(pixdim: readonly number[]): number[] {
  const out = [...pixdim];
  while (out.length < 8) out.push(0);
  out[0] = out[0] === -1 ? -1 : 1;
  for (let d = 1; d <= 3; d++) {
    const p = out[d] as number;
    out[d] = p < 0 ? -p : p === 0 ? 1 : p;
  }
  return out;
}

/** 1 − (b² + c² + d²): the squared real part `a` of the qform quaternion (negative when not a rotation). */
export function quaternionW2(quatern: readonly number[]): number {
  const [b, c, d] = [quatern[0] ?? 0, quatern[1] ?? 0, quatern[2] ?? 0];
  return 1 - (b * b + c * c + d * d);
}

/**
 * The qform affine as nibabel's `Nifti1Header.get_qform` computes it (nifti1.h METHOD 2):
 *   [x y z]ᵀ = R · [pixdim1·i, pixdim2·j, qfac·pixdim3·k]ᵀ + [qoffset_x, qoffset_y, qoffset_z]ᵀ
 * with pixdim and qfac fixed as in `nibabelPixdim`, a = √(1 − b² − c² − d²) (0 when that is slightly
 * negative: nibabel's `fillpositive`; a reader refuses clearly negative values first, see
 * `quaternionW2`) and R from nibabel's `quat2mat`, which normalises the quaternion.
 */
export function qformAffine(quatern: readonly number[], pixdim: readonly number[]): Affine {
  const [b, c, d] = [quatern[0] ?? 0, quatern[1] ?? 0, quatern[2] ?? 0];
  const [qx, qy, qz] = [quatern[3] ?? 0, quatern[4] ?? 0, quatern[5] ?? 0];
  const w2 = quaternionW2(quatern);
  const a = w2 < 0 ? 0 : Math.sqrt(w2);
  const norm = a * a + b * b + c * c + d * d;
  let r: number[][];
  if (norm < Number.EPSILON) {
    r = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  } else {
    const s = 2 / norm;
    const [x2, y2, z2] = [b * s, c * s, d * s];
    const [wx, wy, wz] = [a * x2, a * y2, a * z2];
    const [xx, xy, xz] = [b * x2, b * y2, b * z2];
    const [yy, yz, zz] = [c * y2, c * z2, d * z2];
    r = [
      [1 - (yy + zz), xy - wz, xz + wy],
      [xy + wz, 1 - (xx + zz), yz - wx],
      [xz - wy, yz + wx, 1 - (xx + yy)],
    ];
  }
  const p = nibabelPixdim(pixdim);
  const zooms = [p[1] as number, p[2] as number, (p[3] as number) * (p[0] as number)];
  const row = (n: number, offset: number) => {
    const rn = r[n] as number[];
    return [(rn[0] as number) * zooms[0]!, (rn[1] as number) * zooms[1]!, (rn[2] as number) * zooms[2]!, offset];
  };
  return [row(0, qx), row(1, qy), row(2, qz), [0, 0, 0, 1]];
}

/**
 * The affine used when neither the sform nor the qform is set: nibabel's
 * `AnalyzeHeader.get_base_affine` (`shape_zoom_affine` with x_flip): voxel sizes on the diagonal,
 * x flipped (radiological storage, as Analyze assumed) and the world origin at the centre of the
 * grid. `zoomsMm` are the voxel sizes of the first three axes (1 for axes the file does not have).
 */
export function baseAffine(shape: readonly number[], zoomsMm: readonly number[]): Affine {
  const n = (d: number) => shape[d] ?? 1;
  const z = (d: number) => zoomsMm[d] ?? 1;
  // 0 − x rather than −x: a one-voxel axis gets origin +0, not −0.
  const origin = (d: number, zoom: number) => 0 - ((n(d) - 1) / 2) * zoom;
  return [
    [-z(0), 0, 0, origin(0, -z(0))],
    [0, z(1), 0, origin(1, z(1))],
    [0, 0, z(2), origin(2, z(2))],
    [0, 0, 0, 1],
  ];
}

/**
 * The affine a reader should use, with nibabel's `Nifti1Header.get_best_affine` precedence: the
 * sform when sform_code ≠ 0, else the qform when qform_code ≠ 0, else `baseAffine` of the grid.
 * Codes outside 0..5 count as 0 (`validXformCode`).
 */
export function bestAffine(g: NiftiGeometry, grid: { shape: readonly number[]; spacingMm: readonly number[] }): Affine {
  if (validXformCode(g.sformCode) !== 0) return [[...g.srow[0]], [...g.srow[1]], [...g.srow[2]], [0, 0, 0, 1]];
  if (validXformCode(g.qformCode) !== 0) return qformAffine(g.quatern, g.pixdim);
  return baseAffine(grid.shape, grid.spacingMm);
}

/** Column norms of the 3×3 part of an affine: the voxel spacing it implies (mm). */
export function affineSpacing(affine: Affine): Vec3 {
  const col = (j: number) => Math.hypot(affine[0][j] as number, affine[1][j] as number, affine[2][j] as number);
  return [col(0), col(1), col(2)];
}

/**
 * Inverse of qformAffine (nifti_mat44_to_quatern): the quaternion (b, c, d), offsets, spacing and
 * qfac that represent `affine`. Columns are normalised; a left-handed matrix gets qfac = −1 (third
 * column negated). The matrix is assumed orthogonal up to scaling (true for every affine segloss
 * derives: crops, flips and resampling of a NIfTI grid); shear cannot be represented by a qform.
 */
export function affineToQuatern(affine: Affine): { quatern: [number, number, number, number, number, number]; spacingMm: Vec3; qfac: 1 | -1 } {
  const spacing = affineSpacing(affine).map((v) => (v === 0 ? 1 : v)) as Vec3;
  const m = [0, 1, 2].map((i) => [0, 1, 2].map((j) => ((affine[i] as number[])[j] as number) / spacing[j]!)) as number[][];
  const at = (i: number, j: number) => (m[i] as number[])[j] as number;
  const det =
    at(0, 0) * (at(1, 1) * at(2, 2) - at(1, 2) * at(2, 1)) -
    at(0, 1) * (at(1, 0) * at(2, 2) - at(1, 2) * at(2, 0)) +
    at(0, 2) * (at(1, 0) * at(2, 1) - at(1, 1) * at(2, 0));
  let qfac: 1 | -1 = 1;
  if (det < 0) {
    qfac = -1;
    for (let i = 0; i < 3; i++) (m[i] as number[])[2] = -at(i, 2);
  }
  const [r11, r12, r13, r21, r22, r23, r31, r32, r33] = [at(0, 0), at(0, 1), at(0, 2), at(1, 0), at(1, 1), at(1, 2), at(2, 0), at(2, 1), at(2, 2)];
  let a = r11 + r22 + r33 + 1;
  let b: number;
  let c: number;
  let d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r32 - r23)) / a;
    c = (0.25 * (r13 - r31)) / a;
    d = (0.25 * (r21 - r12)) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33);
    const yd = 1 + r22 - (r11 + r33);
    const zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r12 + r21)) / b;
      d = (0.25 * (r13 + r31)) / b;
      a = (0.25 * (r32 - r23)) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r12 + r21)) / c;
      d = (0.25 * (r23 + r32)) / c;
      a = (0.25 * (r13 - r31)) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r13 + r31)) / d;
      c = (0.25 * (r23 + r32)) / d;
      a = (0.25 * (r21 - r12)) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return {
    quatern: [b, c, d, affine[0][3] as number, affine[1][3] as number, affine[2][3] as number],
    spacingMm: spacing,
    qfac,
  };
}

/**
 * Geometry for a volume segloss creates or derives: sform = qform = `affine` (code 1, scanner
 * anatomical, unless other codes are given), pixdim from the affine's column norms, units mm/s.
 */
export function geometryFromAffine(affine: Affine, options: { qformCode?: number; sformCode?: number; pixdimExtra?: readonly number[] } = {}): NiftiGeometry {
  const q = affineToQuatern(affine);
  const extra = options.pixdimExtra ?? [0, 0, 0, 0];
  return {
    qformCode: options.qformCode ?? 1,
    sformCode: options.sformCode ?? 1,
    quatern: q.quatern,
    pixdim: [q.qfac, q.spacingMm[0], q.spacingMm[1], q.spacingMm[2], extra[0] ?? 0, extra[1] ?? 0, extra[2] ?? 0, extra[3] ?? 0],
    srow: [[...affine[0]], [...affine[1]], [...affine[2]]],
    xyztUnits: UNITS_MM_SEC,
  };
}

/** Diagonal affine for a spacing and origin (RAS: i → Right, j → Anterior, k → Superior). */
export function diagonalAffine(spacingMm: Vec3, originMm: Vec3 = [0, 0, 0]): Affine {
  return [
    [spacingMm[0], 0, 0, originMm[0]],
    [0, spacingMm[1], 0, originMm[1]],
    [0, 0, spacingMm[2], originMm[2]],
    [0, 0, 0, 1],
  ];
}

/** True when two affines agree within `relTol` of the largest entry (float32 header round-off). */
export function affinesClose(a: Affine, b: Affine, relTol = 1e-6): boolean {
  let scale = 1;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) scale = Math.max(scale, Math.abs(a[i]![j]!), Math.abs(b[i]![j]!));
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) if (Math.abs(a[i]![j]! - b[i]![j]!) > relTol * scale) return false;
  return true;
}

/**
 * Orientation code of an affine, as nibabel's `aff2axcodes`: for each voxel axis, the world axis
 * its direction is closest to, with the letter of the direction it points to (R/L, A/P, S/I).
 * The standard NIfTI orientation is 'RAS'; DICOM-derived CT is often 'LPS'.
 */
export function orientationCode(affine: Affine): string {
  const positive = ['R', 'A', 'S'];
  const negative = ['L', 'P', 'I'];
  const used = new Set<number>();
  let code = '';
  for (let j = 0; j < 3; j++) {
    let best = -1;
    let bestAbs = -1;
    for (let i = 0; i < 3; i++) {
      const v = Math.abs(affine[i]![j]!);
      if (!used.has(i) && v > bestAbs) {
        best = i;
        bestAbs = v;
      }
    }
    if (best < 0 || bestAbs === 0) {
      code += '?';
      continue;
    }
    used.add(best);
    code += (affine[best]![j]! >= 0 ? positive : negative)[best];
  }
  return code;
}

/**
 * Tolerance of grid comparisons: numpy's `np.allclose(actual, reference)` defaults,
 * |a − r| ≤ 1e-8 + 1e-5·|r| per component — what nnU-Net v2's `verify_dataset_integrity`
 * (`check_cases`) uses to compare an image's spacing, origin and direction with its segmentation's.
 * Far above the float32 round-off of NIfTI headers (~6e-8 relative), far below any real misplacement.
 */
export const GEOMETRY_RTOL = 1e-5;
export const GEOMETRY_ATOL = 1e-8;

/** `np.allclose(actual, reference)` with numpy's default tolerances. */
export function allClose(actual: readonly number[], reference: readonly number[]): boolean {
  if (actual.length !== reference.length) return false;
  return actual.every((a, i) => Math.abs(a - (reference[i] as number)) <= GEOMETRY_ATOL + GEOMETRY_RTOL * Math.abs(reference[i] as number));
}

/** Origin (mm), spacing (mm, column norms) and direction (unit columns, row-major 3×3) of an affine. */
export function affineParts(affine: Affine): { originMm: number[]; spacingMm: number[]; direction: number[] } {
  const spacingMm = affineSpacing(affine);
  const direction: number[] = [];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) direction.push(((affine[i] as number[])[j] as number) / ((spacingMm[j] as number) || 1));
  return { originMm: [0, 1, 2].map((i) => (affine[i] as number[])[3] as number), spacingMm, direction };
}

const mmText = (v: readonly number[]) => v.map((x) => Number(x.toPrecision(6))).join(', ');

function directionText(affine: Affine, direction: readonly number[]): string {
  const rows = [0, 1, 2].map((i) => direction.slice(3 * i, 3 * i + 3).map((x) => Number(x.toFixed(4))).join(' '));
  return `${orientationCode(affine)} [${rows.join('; ')}]`;
}

/**
 * How `actual`'s affine differs from `reference`'s (spacing, then axis directions, then origin,
 * each with `allClose`), or null when they agree: the words of a problem line, e.g.
 * "origin (50, 0, 0) mm differs from the image's (0, 0, 0) mm". `what` names the reference.
 */
export function affineMismatch(actual: Affine, reference: Affine, what = "the reference's"): string | null {
  const a = affineParts(actual);
  const r = affineParts(reference);
  if (!allClose(a.spacingMm, r.spacingMm)) return `voxel sizes (${mmText(a.spacingMm)}) mm differ from ${what} (${mmText(r.spacingMm)}) mm`;
  if (!allClose(a.direction, r.direction)) return `axis directions ${directionText(actual, a.direction)} differ from ${what} ${directionText(reference, r.direction)}`;
  if (!allClose(a.originMm, r.originMm)) return `origin (${mmText(a.originMm)}) mm differs from ${what} (${mmText(r.originMm)}) mm`;
  return null;
}
