/**
 * The preprocessed cache, one case at a time:
 *   <case>.nii       float32 image on the target grid (channels on the 4th axis when several)
 *   <case>_seg.nii   uint8 labels on the same grid; 255 marks nnU-Net's −1 ("outside the
 *                    non-zero region"), which training treats as background
 *   <case>.json      CaseMeta + where it came from (raw file sizes/mtimes) + the plan hash
 * The JSON is written last, so a case is complete iff its JSON exists, names the current plan
 * hash and raw-file signature, and both NIfTI files have the recorded sizes. Every file is written
 * atomically (temporary sibling + rename).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Affine } from '../data/volume.js';
import type { Vec3 } from '../util/vec3.js';
import { readNifti, writeNifti, makeVolume } from '../data/nifti.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { InputError, errorMessage } from '../util/errors.js';
import type { CaseMeta, PreprocessedArrays } from './case.js';
import type { CropBox } from './crop.js';

/** Label value stored for nnU-Net's −1 in the uint8 seg file. */
export const OUTSIDE_LABEL = 255;

/** A training case loaded from the cache. */
export interface PreprocessedCase {
  id: string;
  shape: Vec3;
  channels: number;
  /** Channel-major, each channel i-fastest. */
  image: Float32Array;
  /** Labels 0..K (voxels outside the non-zero region are 0). */
  seg: Uint8Array;
  /** 1 inside the non-zero region, 0 outside (nnU-Net's seg ≥ 0). */
  nonzero: Uint8Array;
  meta: CaseMeta;
}

export interface SourceFile {
  path: string;
  size: number;
  mtimeMs: number;
}

export interface CachedCaseRecord extends CaseMeta {
  plan_hash: string;
  source: SourceFile[];
  files: { image: number; seg: number };
}

/** Size and mtime of each raw file of a case (what invalidates a cached case when it changes). */
export function sourceSignature(files: readonly string[]): SourceFile[] {
  return files.map((f) => {
    const st = statSync(f);
    return { path: path.resolve(f), size: st.size, mtimeMs: Math.round(st.mtimeMs) };
  });
}

function sameSource(a: readonly SourceFile[], b: readonly SourceFile[]): boolean {
  return a.length === b.length && a.every((x, i) => x.path === b[i]?.path && x.size === b[i]?.size && x.mtimeMs === b[i]?.mtimeMs);
}

export const caseFiles = (dir: string, id: string) => ({
  image: path.join(dir, `${id}.nii`),
  seg: path.join(dir, `${id}_seg.nii`),
  meta: path.join(dir, `${id}.json`),
});

/** The cached record of a case if it is complete and made from `source` with `planHashValue`. */
export function validCachedCase(dir: string, id: string, planHashValue: string, source: readonly SourceFile[]): CachedCaseRecord | null {
  const f = caseFiles(dir, id);
  if (!existsSync(f.meta) || !existsSync(f.image) || !existsSync(f.seg)) return null;
  try {
    const rec = JSON.parse(readFileSync(f.meta, 'utf8')) as CachedCaseRecord;
    if (rec.plan_hash !== planHashValue || !sameSource(rec.source ?? [], source)) return null;
    if (statSync(f.image).size !== rec.files.image || statSync(f.seg).size !== rec.files.seg) return null;
    return rec;
  } catch {
    return null;
  }
}

/**
 * Voxel-to-world affine of the preprocessed grid: axis directions of the original affine with
 * the target spacing as length; voxel 0 sits where the resampling grid puts it,
 * original index lo + 0.5·(n_crop/n_out) − 0.5 (the grid convention of `skimage.transform.resize`, docs/preprocessing.md).
 */
export function preprocessedAffine(affine: Affine, cropBox: CropBox, shapeAfterCrop: Vec3, shapeOut: Vec3, targetSpacingMm: Vec3): Affine {
  const p = [0, 1, 2].map((a) => cropBox[a]![0] + 0.5 * (shapeAfterCrop[a]! / shapeOut[a]!) - 0.5);
  const out: Affine = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]];
  for (let r = 0; r < 3; r++) {
    const row = affine[r] as number[];
    for (let a = 0; a < 3; a++) {
      const norm = Math.hypot(affine[0]![a]!, affine[1]![a]!, affine[2]![a]!);
      (out[r] as number[])[a] = (row[a]! / norm) * targetSpacingMm[a]!;
    }
    (out[r] as number[])[3] = row[0]! * p[0]! + row[1]! * p[1]! + row[2]! * p[2]! + row[3]!;
  }
  return out;
}

/** Write a preprocessed case (NIfTI files first, the JSON record last). */
export async function writeCachedCase(dir: string, arrays: PreprocessedArrays, meta: CaseMeta, planHashValue: string, source: SourceFile[]): Promise<CachedCaseRecord> {
  const f = caseFiles(dir, meta.id);
  const affine = preprocessedAffine(meta.affine, meta.cropBox, meta.shapeAfterCrop, meta.shapeAfterResample, meta.spacingAfterResampleMm);
  const shape4 = arrays.channels > 1 ? [...arrays.shape, arrays.channels] : [...arrays.shape];
  await writeNifti(f.image, makeVolume(arrays.image, shape4, affine), { datatype: 'float32' });
  const seg = new Uint8Array(arrays.seg.length);
  for (let x = 0; x < seg.length; x++) {
    const v = arrays.seg[x] as number;
    seg[x] = v < 0 ? OUTSIDE_LABEL : v;
  }
  await writeNifti(f.seg, makeVolume(seg, [...arrays.shape], affine), { datatype: 'uint8' });
  const record: CachedCaseRecord = { ...meta, plan_hash: planHashValue, source, files: { image: statSync(f.image).size, seg: statSync(f.seg).size } };
  await writeJsonAtomic(f.meta, record);
  return record;
}

/** Load a preprocessed training case from the cache folder. */
export async function loadPreprocessedCase(dir: string, caseId: string): Promise<PreprocessedCase> {
  const f = caseFiles(dir, caseId);
  let rec: CachedCaseRecord;
  try {
    rec = JSON.parse(readFileSync(f.meta, 'utf8')) as CachedCaseRecord;
  } catch (err) {
    throw new InputError(f.meta, `cannot read preprocessed case '${caseId}': ${errorMessage(err)}`);
  }
  const image = await readNifti(f.image, { kind: 'image' });
  const segVol = await readNifti(f.seg, { kind: 'label' });
  const shape = image.shape.slice(0, 3) as Vec3;
  const channels = image.shape[3] ?? 1;
  const n = shape[0] * shape[1] * shape[2];
  if (segVol.data.length !== n) throw new InputError(f.seg, `shape [${segVol.shape.join(', ')}] differs from the image [${shape.join(', ')}]`);
  const seg = new Uint8Array(n);
  const nonzero = new Uint8Array(n);
  for (let x = 0; x < n; x++) {
    const v = segVol.data[x] as number;
    if (v === OUTSIDE_LABEL) continue;
    seg[x] = v;
    nonzero[x] = 1;
  }
  const data = image.data instanceof Float32Array ? image.data : Float32Array.from(image.data);
  const { plan_hash: _h, source: _s, files: _f, ...meta } = rec;
  return { id: caseId, shape, channels, image: data, seg, nonzero, meta };
}
