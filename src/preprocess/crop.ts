/**
 * Cropping to the non-zero region (nnU-Net `crop_to_nonzero`).
 *
 * mask = fill_holes(∪_c image_c ≠ 0), where fill_holes is `scipy.ndimage.binary_fill_holes` with
 * its default 6-connected structure: background voxels not 6-connected to the volume border become
 * foreground. The crop box is [min, max + 1) of the mask per axis (i, j, k). In the cropped label
 * map, label-0 voxels outside the mask become −1 (nnU-Net's "outside the non-zero region"); without
 * labels the map is 0 inside and −1 outside.
 */
import type { Vec3 } from '../util/vec3.js';

/** Half-open voxel ranges [lo, hi) per axis (i, j, k). */
export type CropBox = [[number, number], [number, number], [number, number]];

/** Union of non-zero voxels over channels, with enclosed holes filled (6-connectivity). */
export function nonzeroMask(channels: readonly ArrayLike<number>[], shape: Vec3): Uint8Array {
  const n = shape[0] * shape[1] * shape[2];
  const mask = new Uint8Array(n);
  for (const ch of channels) for (let x = 0; x < n; x++) if (ch[x] !== 0) mask[x] = 1;
  return fillHoles(mask, shape);
}

/**
 * scipy `binary_fill_holes` (default structure): flood the background from every border voxel
 * through 6-neighbours; everything the flood does not reach is foreground.
 */
export function fillHoles(mask: Uint8Array, shape: Vec3): Uint8Array {
  const [ni, nj, nk] = shape;
  const n = ni * nj * nk;
  const outside = new Uint8Array(n); // 1 = background reached from the border
  const queue = new Int32Array(n);
  let head = 0;
  let tail = 0;
  const seed = (x: number) => {
    if (mask[x] === 0 && outside[x] === 0) {
      outside[x] = 1;
      queue[tail++] = x;
    }
  };
  for (let k = 0; k < nk; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++)
        if (i === 0 || j === 0 || k === 0 || i === ni - 1 || j === nj - 1 || k === nk - 1) seed(i + ni * (j + nj * k));
  const sj = ni;
  const sk = ni * nj;
  while (head < tail) {
    const x = queue[head++] as number;
    const i = x % ni;
    const j = Math.floor(x / sj) % nj;
    const k = Math.floor(x / sk);
    if (i > 0) seed(x - 1);
    if (i < ni - 1) seed(x + 1);
    if (j > 0) seed(x - sj);
    if (j < nj - 1) seed(x + sj);
    if (k > 0) seed(x - sk);
    if (k < nk - 1) seed(x + sk);
  }
  const filled = new Uint8Array(n);
  for (let x = 0; x < n; x++) filled[x] = outside[x] === 1 ? 0 : 1;
  return filled;
}

/** Bounding box of the non-zero voxels of `mask`, or null when the mask is empty. */
export function boundingBox(mask: ArrayLike<number>, shape: Vec3): CropBox | null {
  const [ni, nj, nk] = shape;
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-1, -1, -1];
  let x = 0;
  for (let k = 0; k < nk; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++, x++) {
        if (mask[x] === 0) continue;
        if (i < (lo[0] as number)) lo[0] = i;
        if (i > (hi[0] as number)) hi[0] = i;
        if (j < (lo[1] as number)) lo[1] = j;
        if (j > (hi[1] as number)) hi[1] = j;
        if (k < (lo[2] as number)) lo[2] = k;
        if (k > (hi[2] as number)) hi[2] = k;
      }
  if (hi[0] === -1) return null;
  return [0, 1, 2].map((a) => [lo[a] as number, (hi[a] as number) + 1]) as CropBox;
}

export function boxShape(box: CropBox): Vec3 {
  return box.map(([lo, hi]) => hi - lo) as Vec3;
}

type ArrayCtor<T> = { new (n: number): T };

/** Copy the `box` region of an i-fastest volume into a new array of the same kind. */
export function cropArray<T extends { length: number; [n: number]: number }>(data: T, shape: Vec3, box: CropBox, ctor?: ArrayCtor<T>): T {
  const [ci, cj, ck] = boxShape(box);
  const C = ctor ?? ((data as unknown as { constructor: ArrayCtor<T> }).constructor);
  const out = new C(ci * cj * ck);
  const [[i0], [j0], [k0]] = box;
  let x = 0;
  for (let k = 0; k < ck; k++)
    for (let j = 0; j < cj; j++) {
      const row = i0 + shape[0] * (j0 + j + shape[1] * (k0 + k));
      for (let i = 0; i < ci; i++, x++) out[x] = data[row + i] as number;
    }
  return out;
}

/** Paste `data` (shape boxShape(box)) into `out` (shape `shape`) at `box`. */
export function pasteArray(data: ArrayLike<number>, box: CropBox, out: { [n: number]: number }, shape: Vec3): void {
  const [ci, cj, ck] = boxShape(box);
  const [[i0], [j0], [k0]] = box;
  let x = 0;
  for (let k = 0; k < ck; k++)
    for (let j = 0; j < cj; j++) {
      const row = i0 + shape[0] * (j0 + j + shape[1] * (k0 + k));
      for (let i = 0; i < ci; i++, x++) out[row + i] = data[x] as number;
    }
}

export interface CroppedCase {
  /** Cropped image channels (float32). */
  channels: Float32Array[];
  /** Cropped labels with −1 outside the non-zero mask (int16). */
  seg: Int16Array;
  box: CropBox;
  shape: Vec3;
}

/** nnU-Net `crop_to_nonzero`. Returns null when the non-zero region is empty. */
export function cropToNonzero(channels: readonly ArrayLike<number>[], seg: ArrayLike<number> | undefined, shape: Vec3): CroppedCase | null {
  const mask = nonzeroMask(channels, shape);
  const box = boundingBox(mask, shape);
  if (box === null) return null;
  const cropped = channels.map((c) => cropArray(Float32Array.from(c), shape, box));
  const maskC = cropArray(mask, shape, box);
  const segC = seg === undefined ? new Int16Array(maskC.length) : cropArray(Int16Array.from(seg), shape, box);
  for (let x = 0; x < segC.length; x++) if (segC[x] === 0 && maskC[x] === 0) segC[x] = -1;
  return { channels: cropped, seg: segC, box, shape: boxShape(box) };
}
