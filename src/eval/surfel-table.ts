/**
 * Surface-element ("surfel") areas of the 256 neighbour codes, derived from the geometry of
 * marching cubes — the table DeepMind's surface-distance library uses
 * (`create_table_neighbour_code_to_surface_area`), computed here rather than pasted.
 *
 * A neighbour code describes the 2×2×2 voxels around one corner of the voxel grid. Corner offset
 * (a, b, c) ∈ {0,1}³ along array axes (0, 1, 2) contributes bit `1 << (7 − (4a + 2b + c))`, so
 * offset (0,0,0) is bit 128 and (1,1,1) is bit 1 (DeepMind's kernel [[[128,64],[32,16]],[[8,4],[2,1]]]).
 *
 * Geometry (unit cube in index space, Lorensen marching cubes at iso-level ½):
 * 1. Inside set S = the set bits; when more than 4 bits are set, S is the complement (marching
 *    cubes draws the surface of the smaller side, which is what makes the table
 *    complement-symmetric: area[c] = area[255 − c]).
 * 2. Vertices: the midpoint of every cube edge with one end in S and one outside.
 * 3. Polygons: on every cube face, marching squares joins the crossing edges, cutting off each
 *    S corner separately when S occupies a face diagonal (the ambiguous face is never joined
 *    through the middle), cutting off the single outside corner when S has three corners of the
 *    face, and splitting the face parallel to the S edge when S has two adjacent corners. Every
 *    vertex lies on two faces, so these segments form disjoint cycles: the polygons.
 * 4. Triangulation: planar polygons (triangle, rectangle, square, regular hexagon) have the same
 *    area under any triangulation; the two non-planar ones (the pentagon of an L of three corners
 *    and the twisted hexagon of a three-edge path) are triangulated the way Lorensen's table does
 *    it, which is the triangulation of MAXIMAL total area in index space. (Checked: this gives
 *    DeepMind's table for all 256 codes at spacings (1,1,1), (0.8,0.8,2.5) and (1.1,0.9,1.7) to
 *    ≤1e-15; the minimal-area triangulation would give 1.1217 instead of 1.1495 for the L.)
 * 5. Spacing: a triangle with index-space area vector n = ½ (v1 − v0) × (v2 − v0) has, under
 *    voxel spacing (s0, s1, s2), the area ‖(n0·s1·s2, n1·s0·s2, n2·s0·s1)‖ (cofactor scaling);
 *    a code's area is the sum over its triangles.
 *
 * Reference values at spacing 1: one corner √3/8 ≈ 0.2165; two corners along an edge √2/2;
 * a flat face of four 1.0; an isolated voxel (8 codes) √3.
 */
import type { Vec3 } from '../util/vec3.js';

type Point = readonly [number, number, number];
type Corner = readonly [0 | 1, 0 | 1, 0 | 1];
type Edge = readonly [number, number]; // indices into CORNERS, lower first

const CORNERS: Corner[] = [];
for (const a of [0, 1] as const) for (const b of [0, 1] as const) for (const c of [0, 1] as const) CORNERS.push([a, b, c]);

/** Bit of corner offset (a, b, c) in a neighbour code. */
export function cornerBit(a: number, b: number, c: number): number {
  return 1 << (7 - (4 * a + 2 * b + c));
}

function manhattan(p: Corner, q: Corner): number {
  return Math.abs(p[0] - q[0]) + Math.abs(p[1] - q[1]) + Math.abs(p[2] - q[2]);
}

const EDGES: Edge[] = [];
for (let p = 0; p < 8; p++) for (let q = p + 1; q < 8; q++) if (manhattan(CORNERS[p] as Corner, CORNERS[q] as Corner) === 1) EDGES.push([p, q]);

/** The 6 faces, each as its 4 corner indices in cyclic order around the face. */
const FACES: number[][] = [];
for (let axis = 0; axis < 3; axis++) {
  for (const v of [0, 1]) {
    const on = CORNERS.map((c, i) => [c, i] as const).filter(([c]) => c[axis] === v);
    // order: start anywhere, then walk along face edges
    const order: number[] = [on[0]![1]];
    while (order.length < 4) {
      const last = CORNERS[order[order.length - 1] as number] as Corner;
      const next = on.find(([c, i]) => !order.includes(i) && manhattan(c, last) === 1);
      order.push(next![1]);
    }
    FACES.push(order);
  }
}

function edgeIndex(p: number, q: number): number {
  const lo = Math.min(p, q);
  const hi = Math.max(p, q);
  return EDGES.findIndex((e) => e[0] === lo && e[1] === hi);
}

/** Polygons (as cycles of crossing-edge indices) of one neighbour code; see the module comment. */
export function codePolygons(code: number): number[][] {
  let inside = CORNERS.map((c) => (code & cornerBit(c[0], c[1], c[2])) !== 0);
  if (inside.filter(Boolean).length > 4) inside = inside.map((v) => !v);
  const crossing = EDGES.map((e) => inside[e[0]] !== inside[e[1]]);
  const neighbours: number[][] = EDGES.map(() => []);
  const join = (e1: number, e2: number) => {
    neighbours[e1]!.push(e2);
    neighbours[e2]!.push(e1);
  };
  for (const face of FACES) {
    const ins = face.map((i) => inside[i] as boolean);
    const count = ins.filter(Boolean).length;
    if (count === 0 || count === 4) continue;
    // face corner k (cyclic), its face edges go to k-1 and k+1
    const faceEdge = (k: number, dk: number) => edgeIndex(face[k] as number, face[(k + dk + 4) % 4] as number);
    if (count === 3) {
      const k = ins.indexOf(false);
      join(faceEdge(k, -1), faceEdge(k, 1));
    } else if (count === 1) {
      const k = ins.indexOf(true);
      join(faceEdge(k, -1), faceEdge(k, 1));
    } else {
      const k0 = ins.indexOf(true);
      if (ins[(k0 + 2) % 4]) {
        // diagonal (ambiguous face): cut off each inside corner on its own
        for (const k of [k0, (k0 + 2) % 4]) join(faceEdge(k, -1), faceEdge(k, 1));
      } else {
        // two adjacent inside corners: one segment across the face
        const k1 = ins[(k0 + 1) % 4] ? (k0 + 1) % 4 : (k0 + 3) % 4;
        const outward = (k: number, other: number) => ((other - k + 4) % 4 === 1 ? -1 : 1);
        join(faceEdge(k0, outward(k0, k1)), faceEdge(k1, outward(k1, k0)));
      }
    }
  }
  const seen = new Set<number>();
  const cycles: number[][] = [];
  for (let e = 0; e < EDGES.length; e++) {
    if (!crossing[e] || seen.has(e)) continue;
    const cycle = [e];
    seen.add(e);
    let prev = -1;
    let cur = e;
    for (;;) {
      const nb = neighbours[cur] as number[];
      const next = nb[0] === prev ? (nb[1] as number) : (nb[0] as number);
      if (next === e || seen.has(next)) break;
      cycle.push(next);
      seen.add(next);
      prev = cur;
      cur = next;
    }
    cycles.push(cycle);
  }
  return cycles;
}

function midpoint(edge: number): Point {
  const [p, q] = EDGES[edge] as Edge;
  const a = CORNERS[p] as Corner;
  const b = CORNERS[q] as Corner;
  return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2];
}

/** Index-space area vector ½ (v1 − v0) × (v2 − v0). */
function triangleVector(v0: Point, v1: Point, v2: Point): Vec3 {
  const ux = v1[0] - v0[0], uy = v1[1] - v0[1], uz = v1[2] - v0[2];
  const wx = v2[0] - v0[0], wy = v2[1] - v0[1], wz = v2[2] - v0[2];
  return [(uy * wz - uz * wy) / 2, (uz * wx - ux * wz) / 2, (ux * wy - uy * wx) / 2];
}

function norm(v: Vec3): number {
  return Math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}

/** All triangulations of a convex-ordered polygon given by vertex indices (Catalan many; ≤ 14 here). */
function triangulations(idx: number[]): [number, number, number][][] {
  if (idx.length < 3) return [[]];
  if (idx.length === 3) return [[[idx[0] as number, idx[1] as number, idx[2] as number]]];
  const out: [number, number, number][][] = [];
  const a = idx[0] as number;
  const b = idx[idx.length - 1] as number;
  for (let k = 1; k < idx.length - 1; k++) {
    for (const left of triangulations(idx.slice(0, k + 1))) {
      for (const right of triangulations(idx.slice(k))) out.push([...left, ...right, [a, idx[k] as number, b]]);
    }
  }
  return out;
}

/** Index-space triangle area vectors of one code (the DeepMind "normals"). */
export function codeTriangleVectors(code: number): Vec3[] {
  const vectors: Vec3[] = [];
  for (const cycle of codePolygons(code)) {
    const pts = cycle.map(midpoint);
    let best: Vec3[] = [];
    let bestArea = -Infinity;
    for (const tri of triangulations(pts.map((_, i) => i))) {
      const vs = tri.map(([i, j, k]) => triangleVector(pts[i] as Point, pts[j] as Point, pts[k] as Point));
      const area = vs.reduce((s, v) => s + norm(v), 0);
      // strictly larger by more than rounding: the first maximal triangulation wins ties
      if (area > bestArea + 1e-12) {
        bestArea = area;
        best = vs;
      }
    }
    vectors.push(...best);
  }
  return vectors;
}

let cachedVectors: Vec3[][] | undefined;

/**
 * Surfel area (mm²) of each of the 256 neighbour codes for voxel spacing `spacingMm` along array
 * axes (0, 1, 2) — the axes whose offsets are a, b, c in the code (see `cornerBit`).
 */
export function surfelAreaTable(spacingMm: Vec3): Float64Array {
  cachedVectors ??= Array.from({ length: 256 }, (_, code) => codeTriangleVectors(code));
  const [s0, s1, s2] = spacingMm;
  const table = new Float64Array(256);
  for (let code = 0; code < 256; code++) {
    let sum = 0;
    for (const n of cachedVectors[code] as Vec3[]) sum += norm([n[0] * s1 * s2, n[1] * s0 * s2, n[2] * s0 * s1]);
    table[code] = sum;
  }
  return table;
}
