/**
 * Random smooth fields and separable smoothing for the synthetic CT generator. Everything is a
 * Float32Array in NIfTI voxel order (i fastest), shape [ni, nj, nk].
 */
import type { Rng } from '../../util/rng.js';
import { correlate1d } from '../../ndimage/correlate.js';

/**
 * A smooth random field with zero mean and unit standard deviation: independent normals on a
 * coarse lattice with one node every `cellVoxels` voxels (per axis), trilinearly interpolated.
 * The correlation length is therefore about `cellVoxels` voxels.
 */
export function smoothField(shape: readonly [number, number, number], cellVoxels: readonly [number, number, number], rng: Rng): Float32Array {
  const [ni, nj, nk] = shape;
  const ci = Math.ceil(ni / cellVoxels[0]) + 2;
  const cj = Math.ceil(nj / cellVoxels[1]) + 2;
  const ck = Math.ceil(nk / cellVoxels[2]) + 2;
  const coarse = new Float64Array(ci * cj * ck);
  for (let n = 0; n < coarse.length; n++) coarse[n] = rng.normal();
  // Random sub-cell phase, so lattice nodes do not sit at the same voxels in every field.
  const oi = rng.next();
  const oj = rng.next();
  const ok = rng.next();
  const out = new Float32Array(ni * nj * nk);
  let sum = 0;
  let sumSq = 0;
  let p = 0;
  for (let k = 0; k < nk; k++) {
    const zk = k / cellVoxels[2] + ok;
    const k0 = Math.floor(zk);
    const fk = zk - k0;
    for (let j = 0; j < nj; j++) {
      const yj = j / cellVoxels[1] + oj;
      const j0 = Math.floor(yj);
      const fj = yj - j0;
      for (let i = 0; i < ni; i++, p++) {
        const xi = i / cellVoxels[0] + oi;
        const i0 = Math.floor(xi);
        const fi = xi - i0;
        const at = (a: number, b: number, c: number) => coarse[a + ci * (b + cj * c)] as number;
        const c00 = at(i0, j0, k0) * (1 - fi) + at(i0 + 1, j0, k0) * fi;
        const c10 = at(i0, j0 + 1, k0) * (1 - fi) + at(i0 + 1, j0 + 1, k0) * fi;
        const c01 = at(i0, j0, k0 + 1) * (1 - fi) + at(i0 + 1, j0, k0 + 1) * fi;
        const c11 = at(i0, j0 + 1, k0 + 1) * (1 - fi) + at(i0 + 1, j0 + 1, k0 + 1) * fi;
        const v = (c00 * (1 - fj) + c10 * fj) * (1 - fk) + (c01 * (1 - fj) + c11 * fj) * fk;
        out[p] = v;
        sum += v;
        sumSq += v * v;
      }
    }
  }
  const mean = sum / out.length;
  const sd = Math.sqrt(Math.max(sumSq / out.length - mean * mean, 1e-12));
  for (let n = 0; n < out.length; n++) out[n] = ((out[n] as number) - mean) / sd;
  return out;
}

/**
 * Separable 3-tap smoothing [w, 1 − 2w, w] along each axis (edges replicate: scipy `correlate1d`
 * with mode 'nearest', src/ndimage/correlate.ts), in place. Models the partial-volume blur of a CT
 * scanner; `weights` is w per axis (i, j, k), and an axis with w = 0 is left alone.
 */
export function blur3(data: Float32Array, shape: readonly [number, number, number], weights: readonly [number, number, number]): void {
  for (let axis = 0; axis < 3; axis++) {
    const w = weights[axis] as number;
    if (w === 0) continue;
    correlate1d(data, shape, axis, Float64Array.of(w, 1 - 2 * w, w), 'nearest');
  }
}
