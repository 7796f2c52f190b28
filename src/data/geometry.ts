/**
 * NIfTI geometry: voxel-to-world affines from the qform (quaternion) and sform (matrix) header
 * fields, the inverse (affine → quaternion), orientation codes, and building geometry for volumes
 * that segloss creates itself (synthetic data, derived volumes).
 *
 * Formulas follow nifti1.h (nifti_quatern_to_mat44 / nifti_mat44_to_quatern) and nibabel's
 * `get_best_affine` precedence: sform when sform_code > 0, else qform when qform_code > 0, else a
 * diagonal matrix of pixdim (no origin).
 */
import type { Affine, NiftiGeometry } from './volume.js';
import type { Vec3 } from '../util/vec3.js';

/** NIfTI xyzt_units: NIFTI_UNITS_MM (2) | NIFTI_UNITS_SEC (8). */
export const UNITS_MM_SEC = 2 | 8;

/**
 * qform affine (nifti1.h METHOD 2):
 *   [x y z]ᵀ = R · [pixdim1·i, pixdim2·j, qfac·pixdim3·k]ᵀ + [qoffset_x, qoffset_y, qoffset_z]ᵀ
 * with R from the unit quaternion (a, b, c, d), a = √(1 − b² − c² − d²) (0 when rounding makes the
 * radicand negative, in which case (b, c, d) is renormalised), qfac = −1 when pixdim[0] < 0 else 1,
 * and non-positive pixdims replaced by 1 as nifti1_io does.
 */
export function qformAffine(quatern: readonly number[], pixdim: readonly number[]): Affine {
  let [b, c, d] = [quatern[0] ?? 0, quatern[1] ?? 0, quatern[2] ?? 0];
  const [qx, qy, qz] = [quatern[3] ?? 0, quatern[4] ?? 0, quatern[5] ?? 0];
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    const norm = 1 / Math.sqrt(b * b + c * c + d * d);
    b *= norm;
    c *= norm;
    d *= norm;
    a = 0;
  } else {
    a = Math.sqrt(a);
  }
  const positive = (v: number | undefined) => (v !== undefined && v > 0 ? v : 1);
  const dx = positive(pixdim[1]);
  const dy = positive(pixdim[2]);
  const qfac = (pixdim[0] ?? 1) < 0 ? -1 : 1;
  const dz = positive(pixdim[3]) * qfac;
  const r = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  const row = (n: number, offset: number) => {
    const rn = r[n] as number[];
    return [(rn[0] as number) * dx, (rn[1] as number) * dy, (rn[2] as number) * dz, offset];
  };
  return [row(0, qx), row(1, qy), row(2, qz), [0, 0, 0, 1]];
}

/** Diagonal affine of the voxel spacing, used when neither qform nor sform is set. */
export function pixdimAffine(pixdim: readonly number[]): Affine {
  return [
    [pixdim[1] ?? 1, 0, 0, 0],
    [0, pixdim[2] ?? 1, 0, 0],
    [0, 0, pixdim[3] ?? 1, 0],
    [0, 0, 0, 1],
  ];
}

/** The affine a reader should use (nibabel precedence: sform > qform > pixdim). */
export function bestAffine(g: NiftiGeometry): Affine {
  if (g.sformCode > 0) return [[...g.srow[0]], [...g.srow[1]], [...g.srow[2]], [0, 0, 0, 1]];
  if (g.qformCode > 0) return qformAffine(g.quatern, g.pixdim);
  return pixdimAffine(g.pixdim);
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
