/**
 * A toy abdomen: organ shapes as smoothly deformed ellipsoids and tubes, carved into a voxel grid
 * with an exact voxel count per organ (so foreground:background ratios match the paper's Table 1).
 *
 * Shapes are defined in a "metric voxel" space p = (i, j, 1.5·k) of a 48×48×24 reference grid
 * (voxelPoint maps the voxels of a coarser grid into it): the in-plane voxel is 0.8 mm and
 * the slice 2.5 mm, so a slice step is about three in-plane steps; weighting k by 1.5 instead of
 * 3.1 keeps the toy organs several slices thick (they are much smaller than real organs).
 *
 * Each organ has an implicit "shape distance" f(p) (< 1 inside the nominal shape); an organ with a
 * target count n takes the n free candidate voxels with the smallest f. Small organs are carved
 * first so that their counts are always met; larger organs fill around them.
 */
import type { Rng } from '../../util/rng.js';

export const K_WEIGHT = 1.5;

/**
 * Shape-space point of voxel (i, j, k) of a grid `scale` times as fine per axis as the reference
 * 48×48×24 grid the organ shapes are defined on (scale 2/3 for the 32×32×16 toy volume): voxel
 * centres map to the reference grid's coordinates, so the same anatomy fills any grid size.
 */
export function voxelPoint(i: number, j: number, k: number, scale = 1): Point {
  return [(i + 0.5) / scale - 0.5, (j + 0.5) / scale - 0.5, K_WEIGHT * ((k + 0.5) / scale - 0.5)];
}

export type OrganName =
  | 'liver'
  | 'spleen'
  | 'kidney_left'
  | 'kidney_right'
  | 'gallbladder'
  | 'esophagus'
  | 'stomach'
  | 'pancreas'
  | 'duodenum';

/** Organ index in the anatomy map (0 = none); also the carving order (small first). */
export const ORGANS: readonly OrganName[] = ['gallbladder', 'esophagus', 'pancreas', 'duodenum', 'kidney_left', 'kidney_right', 'spleen', 'stomach', 'liver'];

export type Point = [number, number, number];

/** Smooth random displacement: a sum of two plane waves per axis, amplitude `amp` (metric voxels). */
export interface Warp {
  dirs: Point[];
  freqs: number[];
  phases: number[];
  amps: number[];
}

export function randomWarp(rng: Rng, amp: number, wavelength: number): Warp {
  const warp: Warp = { dirs: [], freqs: [], phases: [], amps: [] };
  for (let n = 0; n < 6; n++) {
    const d: Point = [rng.normal(), rng.normal(), rng.normal()];
    const len = Math.hypot(...d) || 1;
    warp.dirs.push([d[0] / len, d[1] / len, d[2] / len]);
    warp.freqs.push((2 * Math.PI) / (wavelength * rng.uniform(0.7, 1.4)));
    warp.phases.push(rng.uniform(0, 2 * Math.PI));
    warp.amps.push(amp * rng.uniform(0.5, 1));
  }
  return warp;
}

/** Displacement of point p: component a gets waves 2a and 2a+1. */
export function warpPoint(w: Warp, p: Point): Point {
  const out: Point = [p[0], p[1], p[2]];
  for (let n = 0; n < 6; n++) {
    const d = w.dirs[n] as Point;
    const s = (w.amps[n] as number) * Math.sin((w.freqs[n] as number) * (d[0] * p[0] + d[1] * p[1] + d[2] * p[2]) + (w.phases[n] as number));
    out[n >> 1] += s;
  }
  return out;
}

export interface EllipsoidShape {
  kind: 'ellipsoid';
  center: Point;
  /** Semi-axes (metric voxels); only their ratios matter for carving by count. */
  radii: Point;
  /** Rotation about k (radians). */
  angle: number;
  warp: Warp;
}

export interface TubeShape {
  kind: 'tube';
  /** Polyline the tube follows (metric voxels). */
  path: Point[];
  /** Radius at the first and last point, linearly interpolated along the path. */
  radius: [number, number];
  warp: Warp;
}

export type Shape = EllipsoidShape | TubeShape;

/** Shape distance f(p): < 1 inside the nominal shape, growing outwards. */
export function shapeDistance(shape: Shape, p0: Point): number {
  return unwarpedDistance(shape, warpPoint(shape.warp, p0));
}

/**
 * An upper bound on how much the warp can change f: the largest displacement (per axis the sum
 * of its two wave amplitudes) divided by the smallest radius. Lets carve skip far voxels cheaply.
 */
export function warpSlack(shape: Shape): number {
  const a = shape.warp.amps;
  const disp = Math.hypot((a[0] ?? 0) + (a[1] ?? 0), (a[2] ?? 0) + (a[3] ?? 0), (a[4] ?? 0) + (a[5] ?? 0));
  const minRadius = shape.kind === 'ellipsoid' ? Math.min(...shape.radii) : Math.min(...shape.radius);
  return disp / minRadius;
}

/** f without the warp. */
export function unwarpedDistance(shape: Shape, p: Point): number {
  if (shape.kind === 'ellipsoid') {
    const dx = p[0] - shape.center[0];
    const dy = p[1] - shape.center[1];
    const dz = p[2] - shape.center[2];
    const c = Math.cos(shape.angle);
    const s = Math.sin(shape.angle);
    const u = (c * dx + s * dy) / shape.radii[0];
    const v = (-s * dx + c * dy) / shape.radii[1];
    const w = dz / shape.radii[2];
    return Math.sqrt(u * u + v * v + w * w);
  }
  // Tube: distance to the polyline divided by the local radius.
  const segments = shape.path.length - 1;
  let best = Infinity;
  for (let n = 0; n < segments; n++) {
    const a = shape.path[n] as Point;
    const b = shape.path[n + 1] as Point;
    const ab: Point = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    const ap: Point = [p[0] - a[0], p[1] - a[1], p[2] - a[2]];
    const len2 = ab[0] * ab[0] + ab[1] * ab[1] + ab[2] * ab[2];
    const t = Math.min(1, Math.max(0, (ap[0] * ab[0] + ap[1] * ab[1] + ap[2] * ab[2]) / (len2 || 1)));
    const dist = Math.hypot(ap[0] - t * ab[0], ap[1] - t * ab[1], ap[2] - t * ab[2]);
    const along = (n + t) / segments;
    const r = shape.radius[0] + (shape.radius[1] - shape.radius[0]) * along;
    best = Math.min(best, dist / r);
  }
  return best;
}

/**
 * Carve `count` voxels for organ `index` into `anatomy`: the free candidates (anatomy 0 and
 * `allowed` true) with the smallest shape distance (at voxelPoint with `scale`). Only voxels with f < `maxDistance` are
 * considered, which bounds the work and keeps the organ compact. Returns the number carved.
 */
export function carve(
  anatomy: Uint8Array,
  shape: readonly [number, number, number],
  index: number,
  organ: Shape,
  count: number,
  allowed: (n: number) => boolean,
  maxDistance = 3,
  scale = 1,
): number {
  const [ni, nj, nk] = shape;
  // For an ellipsoid f is a norm of the (linearly scaled) displacement, so f changes by at most
  // |warp| / min radius; for tubes the same bound holds up to the radius taper.
  const slack = warpSlack(organ) * 1.5;
  const candidates: number[] = [];
  const distances: number[] = [];
  for (let k = 0, n = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++, n++) {
        if (anatomy[n] !== 0 || !allowed(n)) continue;
        const p = voxelPoint(i, j, k, scale);
        if (unwarpedDistance(organ, p) > maxDistance + slack) continue;
        const f = shapeDistance(organ, p);
        if (f < maxDistance) {
          candidates.push(n);
          distances.push(f);
        }
      }
    }
  }
  const order = candidates.map((_, m) => m).sort((a, b) => (distances[a] as number) - (distances[b] as number) || a - b);
  const take = Math.min(count, order.length);
  for (let m = 0; m < take; m++) anatomy[candidates[order[m] as number] as number] = index;
  return take;
}
