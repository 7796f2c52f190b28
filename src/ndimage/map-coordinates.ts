/**
 * Interpolation at arbitrary points, as `scipy.ndimage.map_coordinates(input, coordinates, order,
 * mode='constant', cval)` on an i-fastest 3D volume (order 1 or 3). Used by augmentation's spatial
 * transform (src/train/augment.ts).
 */
import type { Vec3 } from '../util/vec3.js';
import { cubicBSplineWeights } from './bspline.js';

/** Index of x in the whole-sample mirrored extension of 0 … n − 1 (scipy's 'mirror'). */
function mirrorIndex(x: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n - 2;
  let m = x % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

/**
 * Sample a volume at `coords` (3 × N, voxel coordinates (i, j, k) into `dims`), writing
 * out[outOffset + p] for point p. A point outside [0, n − 1] on any axis gets `cval` (scipy's
 * 'constant': no interpolation beyond the edges). Order 1 is trilinear on `src`; order 3 evaluates
 * the cubic B-spline whose coefficients `src` holds (the output of `splineFilter(…, 'mirror')`,
 * ./bspline.ts), with mirrored neighbours.
 */
export function mapCoordinates(src: Float32Array, dims: Vec3, coords: Float32Array, order: 1 | 3, cval: number, out: Float32Array, outOffset = 0): void {
  const [ni, nj, nk] = dims;
  const n = coords.length / 3;
  for (let p = 0; p < n; p++) {
    const x = coords[p] as number;
    const y = coords[n + p] as number;
    const z = coords[2 * n + p] as number;
    if (x < 0 || y < 0 || z < 0 || x > ni - 1 || y > nj - 1 || z > nk - 1) {
      out[outOffset + p] = cval;
      continue;
    }
    if (order === 1) {
      const x0 = Math.min(Math.floor(x), ni - 1);
      const y0 = Math.min(Math.floor(y), nj - 1);
      const z0 = Math.min(Math.floor(z), nk - 1);
      const fx = x - x0;
      const fy = y - y0;
      const fz = z - z0;
      const x1 = Math.min(x0 + 1, ni - 1);
      const y1 = Math.min(y0 + 1, nj - 1);
      const z1 = Math.min(z0 + 1, nk - 1);
      const r00 = ni * (y0 + nj * z0);
      const r10 = ni * (y1 + nj * z0);
      const r01 = ni * (y0 + nj * z1);
      const r11 = ni * (y1 + nj * z1);
      const c00 = (src[r00 + x0] as number) * (1 - fx) + (src[r00 + x1] as number) * fx;
      const c10 = (src[r10 + x0] as number) * (1 - fx) + (src[r10 + x1] as number) * fx;
      const c01 = (src[r01 + x0] as number) * (1 - fx) + (src[r01 + x1] as number) * fx;
      const c11 = (src[r11 + x0] as number) * (1 - fx) + (src[r11 + x1] as number) * fx;
      out[outOffset + p] = (c00 * (1 - fy) + c10 * fy) * (1 - fz) + (c01 * (1 - fy) + c11 * fy) * fz;
    } else {
      const xi = Math.floor(x);
      const yi = Math.floor(y);
      const zi = Math.floor(z);
      const wx = cubicBSplineWeights(x - xi, 'highest-power-first');
      const wy = cubicBSplineWeights(y - yi, 'highest-power-first');
      const wz = cubicBSplineWeights(z - zi, 'highest-power-first');
      let acc = 0;
      for (let c = 0; c < 4; c++) {
        const kk = mirrorIndex(zi - 1 + c, nk);
        for (let b = 0; b < 4; b++) {
          const jj = mirrorIndex(yi - 1 + b, nj);
          const row = ni * (jj + nj * kk);
          const w = (wz[c] as number) * (wy[b] as number);
          for (let a = 0; a < 4; a++) acc += w * (wx[a] as number) * (src[row + mirrorIndex(xi - 1 + a, ni)] as number);
        }
      }
      out[outOffset + p] = acc;
    }
  }
}
