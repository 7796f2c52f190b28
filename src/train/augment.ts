/**
 * On-the-fly data augmentation of nnU-Net V1's `nnUNetTrainer` (batchgenerators' `get_moreDA_augmentation` as nnU-Net V1 configures it, docs/training.md; kernels of
 * batchgenerators): spatial transform (elastic deformation, rotation, scaling, then a centre crop of
 * the enlarged "loaded" patch), gamma with retained statistics, and mirroring; plus the dummy-2D
 * variant for strongly anisotropic patches. Pure functions over `Patch` (src/train/sampler.ts);
 * every random draw comes from the `Rng` passed in. The filters and the interpolation are
 * scipy.ndimage's (src/ndimage: `gaussian_filter`, `spline_filter`, `map_coordinates`), as in
 * batchgenerators.
 *
 * Axes: patches are in NIfTI order (i, j, k). Rotations use the same three angles on every axis,
 * so the axis naming does not change the distribution; only the dummy-2D slice axis matters, and
 * that is the coarsest (largest-spacing) axis, which nnU-Net transposes to its axis 0.
 */
import type { Vec3 } from '../util/vec3.js';
import type { Rng } from '../util/rng.js';
import { gaussianFilter } from '../ndimage/gaussian.js';
import { splineFilter } from '../ndimage/bspline.js';
import { mapCoordinates } from '../ndimage/map-coordinates.js';
import type { Patch } from './sampler.js';

const DEG = Math.PI / 180;

export interface AugmentationParams {
  elastic: { p: number; alpha: [number, number]; sigma: [number, number] };
  /** Rotation angle range in degrees, the same for every axis (3D). */
  rotation: { p: number; degrees: [number, number] };
  scaling: { p: number; range: [number, number] };
  gamma: { p: number; range: [number, number] };
  mirror: { p: number };
  /** Dummy-2D settings (nnU-Net's default_2D_augmentation_params). */
  dummy2D: { alpha: [number, number]; sigma: [number, number]; degrees: [number, number] };
  /** Interpolation of image data in the spatial transform: 1 (trilinear) or 3 (cubic B-spline). */
  dataOrder: 1 | 3;
}

/** nnU-Net V1 3D defaults (nnU-Net V1 `default_3D_augmentation_params`). */
export const NNUNET_AUGMENTATION: AugmentationParams = {
  elastic: { p: 0.2, alpha: [0, 900], sigma: [9, 13] },
  rotation: { p: 0.2, degrees: [-15, 15] },
  scaling: { p: 0.2, range: [0.85, 1.25] },
  gamma: { p: 0.3, range: [0.7, 1.5] },
  mirror: { p: 0.5 },
  dummy2D: { alpha: [0, 200], sigma: [9, 13], degrees: [-180, 180] },
  dataOrder: 3,
};

/**
 * nnU-Net's rule for the dummy-2D augmentation (plans `do_dummy_2D_data_aug`): the largest patch
 * edge is more than 3× the patch edge along the coarsest axis. Returns that axis or null.
 */
export function dummy2DAxis(patch: Vec3, spacingMm: Vec3): number | null {
  let coarse = 0;
  for (let d = 1; d < 3; d++) if ((spacingMm[d] as number) > (spacingMm[coarse] as number)) coarse = d;
  return Math.max(...patch) / (patch[coarse] as number) > 3 ? coarse : null;
}

type Mat3 = [number, number, number, number, number, number, number, number, number];

function matMul(a: Mat3, b: Mat3): Mat3 {
  const r = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) r[3 * i + j] = (r[3 * i + j] as number) + (a[3 * i + k] as number) * (b[3 * k + j] as number);
  return r as Mat3;
}

/** R = Rx(ax)·Ry(ay)·Rz(az) as batchgenerators' rotate_coords_3d builds it; a row vector v maps to v·R. */
export function rotationMatrix(ax: number, ay: number, az: number): Mat3 {
  const [cx, sx, cy, sy, cz, sz] = [Math.cos(ax), Math.sin(ax), Math.cos(ay), Math.sin(ay), Math.cos(az), Math.sin(az)];
  const rx: Mat3 = [1, 0, 0, 0, cx, -sx, 0, sx, cx];
  const ry: Mat3 = [cy, 0, sy, 0, 1, 0, -sy, 0, cy];
  const rz: Mat3 = [cz, -sz, 0, sz, cz, 0, 0, 0, 1];
  return matMul(matMul(rx, ry), rz);
}

function rowTimes(v: [number, number, number], m: Mat3): [number, number, number] {
  return [
    v[0] * m[0] + v[1] * m[3] + v[2] * m[6],
    v[0] * m[1] + v[1] * m[4] + v[2] * m[7],
    v[0] * m[2] + v[1] * m[5] + v[2] * m[8],
  ];
}

/**
 * The enlarged patch the loader cuts so that rotation and scaling never sample outside real data
 * (batchgenerators `get_patch_size`): rotate the patch-size vector by the largest angle (capped at
 * 90°) about each axis separately, take the element-wise max of the absolute extents with the
 * patch, divide by the smallest scale and truncate. In dummy-2D mode the slice axis keeps its size
 * and the in-plane size uses the 2D rotation range. Examples: 128³ → 184³, (40, 56, 40) → (62, 75, 57).
 */
export function loadedPatchSize(final: Vec3, params: AugmentationParams, sliceAxis: number | null): Vec3 {
  const minScale = Math.min(...params.scaling.range);
  if (sliceAxis === null) {
    const a = Math.min(Math.PI / 2, Math.max(...params.rotation.degrees.map(Math.abs)) * DEG);
    let ext = [...final] as [number, number, number];
    for (const m of [rotationMatrix(a, 0, 0), rotationMatrix(0, a, 0), rotationMatrix(0, 0, a)]) {
      const r = rowTimes([...final] as [number, number, number], m);
      ext = ext.map((e, d) => Math.max(e, Math.abs(r[d] as number))) as [number, number, number];
    }
    return ext.map((e) => Math.trunc(e / minScale)) as Vec3;
  }
  const plane = [0, 1, 2].filter((d) => d !== sliceAxis) as [number, number];
  const a = Math.min(Math.PI / 2, Math.max(...params.dummy2D.degrees.map(Math.abs)) * DEG);
  const v0 = final[plane[0]] as number;
  const v1 = final[plane[1]] as number;
  // 2D: v·[[cos, −sin], [sin, cos]].
  const r0 = Math.abs(v0 * Math.cos(a) + v1 * Math.sin(a));
  const r1 = Math.abs(-v0 * Math.sin(a) + v1 * Math.cos(a));
  const out = [...final] as Vec3;
  out[plane[0]] = Math.trunc(Math.max(v0, r0) / minScale);
  out[plane[1]] = Math.trunc(Math.max(v1, r1) / minScale);
  return out;
}

/**
 * Labels at `coords` the way batchgenerators interpolates segmentations: for each label value l
 * present in the patch (including −1 padding), trilinearly interpolate the mask [seg = l] with
 * border value −1, and assign l where the result is ≥ 0.5 (later labels win ties); 0 elsewhere.
 */
export function sampleLabels(seg: Int8Array, dims: Vec3, coords: Float32Array): Int8Array {
  const [ni, nj, nk] = dims;
  const n = coords.length / 3;
  const out = new Int8Array(n);
  let maxLabel = 0;
  let hasPad = false;
  for (let q = 0; q < seg.length; q++) {
    const v = seg[q] as number;
    if (v > maxLabel) maxLabel = v;
    if (v < 0) hasPad = true;
  }
  const present = new Uint8Array(maxLabel + 2);
  for (let q = 0; q < seg.length; q++) present[(seg[q] as number) + 1] = 1;
  const mass = new Float64Array(maxLabel + 2);
  for (let p = 0; p < n; p++) {
    const x = coords[p] as number;
    const y = coords[n + p] as number;
    const z = coords[2 * n + p] as number;
    if (x < 0 || y < 0 || z < 0 || x > ni - 1 || y > nj - 1 || z > nk - 1) {
      out[p] = 0; // every mask is −1 there
      continue;
    }
    mass.fill(0);
    const x0 = Math.min(Math.floor(x), ni - 1);
    const y0 = Math.min(Math.floor(y), nj - 1);
    const z0 = Math.min(Math.floor(z), nk - 1);
    const fx = x - x0;
    const fy = y - y0;
    const fz = z - z0;
    for (let c = 0; c < 8; c++) {
      const dx = c & 1;
      const dy = (c >> 1) & 1;
      const dz = (c >> 2) & 1;
      const w = (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy) * (dz ? fz : 1 - fz);
      if (w === 0) continue;
      const xx = Math.min(x0 + dx, ni - 1);
      const yy = Math.min(y0 + dy, nj - 1);
      const zz = Math.min(z0 + dz, nk - 1);
      const l = seg[xx + ni * (yy + nj * zz)] as number;
      mass[l + 1] = (mass[l + 1] as number) + w;
    }
    let label = 0;
    for (let l = hasPad ? -1 : 0; l <= maxLabel; l++) if (present[l + 1] === 1 && (mass[l + 1] as number) >= 0.5) label = l;
    out[p] = label;
  }
  return out;
}

/** What the spatial transform drew for one sample (for logs and tests). */
export interface SpatialDraw {
  elastic: { alpha: number; sigma: number } | null;
  /** Radians; one angle in dummy-2D mode. */
  rotation: number[] | null;
  scale: number | null;
}

/** Draw the spatial parameters of one sample in batchgenerators' order: elastic, rotation, scale. */
export function drawSpatial(params: AugmentationParams, sliceAxis: number | null, rng: Rng): SpatialDraw {
  const el = sliceAxis === null ? params.elastic : { ...params.elastic, alpha: params.dummy2D.alpha, sigma: params.dummy2D.sigma };
  const draw: SpatialDraw = { elastic: null, rotation: null, scale: null };
  if (rng.next() < el.p) draw.elastic = { alpha: rng.uniform(el.alpha[0], el.alpha[1]), sigma: rng.uniform(el.sigma[0], el.sigma[1]) };
  if (rng.next() < params.rotation.p) {
    if (sliceAxis === null) {
      const [lo, hi] = params.rotation.degrees;
      draw.rotation = [rng.uniform(lo, hi) * DEG, rng.uniform(lo, hi) * DEG, rng.uniform(lo, hi) * DEG];
    } else {
      const [lo, hi] = params.dummy2D.degrees;
      draw.rotation = [rng.uniform(lo, hi) * DEG];
    }
  }
  if (rng.next() < params.scaling.p) {
    const [lo, hi] = params.scaling.range;
    draw.scale = rng.next() < 0.5 && lo < 1 ? rng.uniform(lo, 1) : rng.uniform(Math.max(lo, 1), hi);
  }
  return draw;
}

/**
 * The spatial transform of one sample: from the loaded patch to the final patch.
 * Coordinates of the final grid are zero-centred (index − (size − 1)/2); elastic offsets
 * (Gaussian-filtered U(−1, 1) noise × α per axis) are added, then the row vector is rotated
 * (v·R) and scaled (×s), then moved to the centre of the loaded patch (size/2 − 0.5, the
 * batchgenerators ≥ 0.20 convention). Without any draw the loaded patch is centre-cropped at
 * ⌊(loaded − final)/2⌋. In dummy-2D mode the same 2D transform acts on every slice along `sliceAxis`.
 */
export function spatialTransform(patch: Patch, final: Vec3, draw: SpatialDraw, sliceAxis: number | null, dataOrder: 1 | 3, rng: Rng): Patch {
  const loaded = patch.shape;
  const [fi, fj, fk] = final;
  const nOut = fi * fj * fk;
  if (draw.elastic === null && draw.rotation === null && draw.scale === null) return centreCrop(patch, final);

  const coords = new Float32Array(3 * nOut);
  const plane = sliceAxis === null ? [0, 1, 2] : [0, 1, 2].filter((d) => d !== sliceAxis);
  // Elastic offsets: one field per transformed axis, over the final grid (2D grid in dummy-2D).
  const gridDims = sliceAxis === null ? [fi, fj, fk] : [0, 1, 2].map((d) => (d === sliceAxis ? 1 : (final[d] as number)));
  const gridSize = (gridDims[0] as number) * (gridDims[1] as number) * (gridDims[2] as number);
  const offsets: Float32Array[] = [];
  if (draw.elastic !== null) {
    for (let a = 0; a < plane.length; a++) {
      const noise = new Float32Array(gridSize);
      for (let q = 0; q < gridSize; q++) noise[q] = rng.next() * 2 - 1;
      gaussianFilter(noise, gridDims, draw.elastic.sigma, 'constant');
      for (let q = 0; q < gridSize; q++) noise[q] = (noise[q] as number) * draw.elastic.alpha;
      offsets.push(noise);
    }
  }
  let rot: Mat3 | null = null;
  if (draw.rotation !== null) {
    if (sliceAxis === null) rot = rotationMatrix(draw.rotation[0] as number, draw.rotation[1] as number, draw.rotation[2] as number);
    else {
      const c = Math.cos(draw.rotation[0] as number);
      const s = Math.sin(draw.rotation[0] as number);
      // 2D rotation [[c, −s], [s, c]] embedded on the two in-plane axes.
      rot = [1, 0, 0, 0, 1, 0, 0, 0, 1];
      const [p0, p1] = plane as [number, number];
      rot[3 * p0 + p0] = c;
      rot[3 * p0 + p1] = -s;
      rot[3 * p1 + p0] = s;
      rot[3 * p1 + p1] = c;
    }
  }
  const scale = draw.scale ?? 1;
  const centreIn = final.map((f) => (f - 1) / 2);
  const centreLoaded = loaded.map((l) => l / 2 - 0.5);
  const v: [number, number, number] = [0, 0, 0];
  let p = 0;
  for (let k = 0; k < fk; k++) {
    for (let j = 0; j < fj; j++) {
      for (let i = 0; i < fi; i++, p++) {
        v[0] = i - (centreIn[0] as number);
        v[1] = j - (centreIn[1] as number);
        v[2] = k - (centreIn[2] as number);
        if (offsets.length > 0) {
          // Index into the elastic grid (the slice axis has size 1 there in dummy-2D mode).
          const g = sliceAxis === null ? p : (sliceAxis === 0 ? 0 : i) + (gridDims[0] as number) * ((sliceAxis === 1 ? 0 : j) + (gridDims[1] as number) * (sliceAxis === 2 ? 0 : k));
          for (let a = 0; a < plane.length; a++) v[plane[a] as number] += (offsets[a] as Float32Array)[g] as number;
        }
        const r = rot === null ? v : rowTimes(v, rot);
        for (let d = 0; d < 3; d++) {
          coords[d * nOut + p] = d === sliceAxis ? [i, j, k][d] as number : (r[d] as number) * scale + (centreLoaded[d] as number);
        }
      }
    }
  }
  const image = new Float32Array(patch.channels * nOut);
  const nIn = loaded[0] * loaded[1] * loaded[2];
  for (let ch = 0; ch < patch.channels; ch++) {
    let src = patch.image.subarray(ch * nIn, (ch + 1) * nIn);
    if (dataOrder === 3) {
      src = Float32Array.from(src);
      splineFilter(src, loaded, 'mirror');
    }
    mapCoordinates(src, loaded, coords, dataOrder, 0, image, ch * nOut);
  }
  return { shape: [...final] as Vec3, channels: patch.channels, image, seg: sampleLabels(patch.seg, loaded, coords) };
}

/** Centre crop at ⌊(loaded − final)/2⌋ (batchgenerators `center_crop_aug`). */
export function centreCrop(patch: Patch, final: Vec3): Patch {
  const [li, lj] = patch.shape;
  const [fi, fj, fk] = final;
  const start = patch.shape.map((l, d) => Math.floor((l - (final[d] as number)) / 2));
  const nOut = fi * fj * fk;
  const nIn = patch.shape[0] * patch.shape[1] * patch.shape[2];
  const image = new Float32Array(patch.channels * nOut);
  const seg = new Int8Array(nOut);
  for (let k = 0; k < fk; k++) {
    for (let j = 0; j < fj; j++) {
      const src = (start[0] as number) + li * (j + (start[1] as number) + lj * (k + (start[2] as number)));
      const dst = fi * (j + fj * k);
      seg.set(patch.seg.subarray(src, src + fi), dst);
      for (let ch = 0; ch < patch.channels; ch++) image.set(patch.image.subarray(ch * nIn + src, ch * nIn + src + fi), ch * nOut + dst);
    }
  }
  return { shape: [...final] as Vec3, channels: patch.channels, image, seg };
}

/**
 * Gamma (batchgenerators `augment_gamma`, retain_stats, not inverted), per channel:
 * γ ~ U(0.7, 1) with probability 0.5 else U(1, 1.5); x ← ((x − m)/(r + 1e-7))^γ·(r + 1e-7) + m with
 * m, r the channel's min and range; then x ← x − mean(x) + μ₀ and x ← x/(std(x) + 1e-8)·σ₀
 * (μ₀, σ₀ before the transform; population std). In place. Returns the γ drawn per channel.
 */
export function applyGamma(image: Float32Array, channels: number, range: [number, number], rng: Rng): number[] {
  const n = image.length / channels;
  const gammas: number[] = [];
  for (let ch = 0; ch < channels; ch++) {
    const x = image.subarray(ch * n, (ch + 1) * n);
    const gamma = rng.next() < 0.5 && range[0] < 1 ? rng.uniform(range[0], 1) : rng.uniform(Math.max(range[0], 1), range[1]);
    gammas.push(gamma);
    const [mean0, std0] = meanStd(x);
    let mn = Infinity;
    let mx = -Infinity;
    for (let q = 0; q < n; q++) {
      const v = x[q] as number;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    const r = mx - mn + 1e-7;
    for (let q = 0; q < n; q++) x[q] = Math.pow(((x[q] as number) - mn) / r, gamma) * r + mn;
    const [mean1] = meanStd(x);
    for (let q = 0; q < n; q++) x[q] = (x[q] as number) - mean1 + mean0;
    const [, std2] = meanStd(x);
    for (let q = 0; q < n; q++) x[q] = ((x[q] as number) / (std2 + 1e-8)) * std0;
  }
  return gammas;
}

function meanStd(x: Float32Array): [number, number] {
  let s = 0;
  for (let q = 0; q < x.length; q++) s += x[q] as number;
  const mean = s / x.length;
  let ss = 0;
  for (let q = 0; q < x.length; q++) ss += ((x[q] as number) - mean) ** 2;
  return [mean, Math.sqrt(ss / x.length)];
}

/** Flip a patch (image and labels together) along the given axes (0 = i, 1 = j, 2 = k). In place. */
export function mirrorPatch(patch: Patch, axes: readonly number[]): void {
  if (axes.length === 0) return;
  const [ni, nj, nk] = patch.shape;
  const n = ni * nj * nk;
  const flipI = axes.includes(0);
  const flipJ = axes.includes(1);
  const flipK = axes.includes(2);
  const map = (q: number): number => {
    const i = q % ni;
    const j = Math.floor(q / ni) % nj;
    const k = Math.floor(q / (ni * nj));
    return (flipI ? ni - 1 - i : i) + ni * ((flipJ ? nj - 1 - j : j) + nj * (flipK ? nk - 1 - k : k));
  };
  const seg = new Int8Array(n);
  for (let q = 0; q < n; q++) seg[map(q)] = patch.seg[q] as number;
  patch.seg.set(seg);
  const tmp = new Float32Array(n);
  for (let ch = 0; ch < patch.channels; ch++) {
    const x = patch.image.subarray(ch * n, (ch + 1) * n);
    for (let q = 0; q < n; q++) tmp[map(q)] = x[q] as number;
    x.set(tmp);
  }
}

/** What `augmentPatch` did to one sample. */
export interface AugmentationRecord {
  spatial: SpatialDraw;
  gamma: number[] | null;
  mirrored: number[];
}

/**
 * The training pipeline for one sample (`get_moreDA_augmentation`'s order): spatial transform (or dummy-2D), gamma (p 0.3),
 * mirroring (each axis p 0.5), the mask transform for the channels normalised within the non-zero
 * region (`maskChannels`), then labels −1 → 0.
 */
export function augmentPatch(
  patch: Patch,
  final: Vec3,
  params: AugmentationParams,
  sliceAxis: number | null,
  rng: Rng,
  maskChannels: readonly boolean[] = [],
): { patch: Patch; record: AugmentationRecord } {
  const spatial = drawSpatial(params, sliceAxis, rng);
  const out = spatialTransform(patch, final, spatial, sliceAxis, params.dataOrder, rng);
  let gamma: number[] | null = null;
  if (rng.next() < params.gamma.p) gamma = applyGamma(out.image, out.channels, params.gamma.range, rng);
  const mirrored: number[] = [];
  for (let d = 0; d < 3; d++) if (rng.next() < params.mirror.p) mirrored.push(d);
  mirrorPatch(out, mirrored);
  applyMask(out, maskChannels);
  removePadding(out.seg);
  return { patch: out, record: { spatial, gamma, mirrored } };
}

/**
 * nnU-Net's MaskTransform: for every channel normalised within the non-zero region, set the image
 * to 0 where the label is −1 (outside that region or padding). In place.
 */
export function applyMask(patch: Patch, maskChannels: readonly boolean[]): void {
  if (!maskChannels.some((m) => m)) return;
  const n = patch.seg.length;
  for (let ch = 0; ch < patch.channels; ch++) {
    if (maskChannels[ch] !== true) continue;
    const base = ch * n;
    for (let q = 0; q < n; q++) if ((patch.seg[q] as number) < 0) patch.image[base + q] = 0;
  }
}

/** RemoveLabelTransform(−1 → 0). In place. */
export function removePadding(seg: Int8Array): void {
  for (let q = 0; q < seg.length; q++) if ((seg[q] as number) < 0) seg[q] = 0;
}
