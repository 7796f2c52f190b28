/**
 * NIfTI-1 / NIfTI-2 reading and NIfTI-1 writing.
 *
 * Reading: `.nii` or gzip-compressed `.nii.gz` (detected from the content, not the name), both
 * byte orders, datatypes uint8, int8, int16, uint16, int32, uint32, float32, float64.
 * - The header is read and validated first; then exactly the bytes it declares are read (a plain
 *   file's size is checked before) or inflated (gzip: bounded, so extra data, appended gzip members
 *   or a decompression bomb are refused after at most 64 KiB beyond the declared size).
 * - Scaling (scl_slope/scl_inter) as nibabel's `get_slope_inter`: value = slope · stored + inter,
 *   none when scl_slope is 0 or not finite; a finite slope with a non-finite scl_inter is refused.
 * - Images (`kind: 'image'`, the default) become Float32Array, scaled; a scaled value that
 *   overflows float32 is refused.
 * - Labels (`kind: 'label'`) are scaled too, then rounded to the nearest integer (a value more than
 *   1e-3 from an integer, or NaN/∞, is an error) and become Uint8Array when every value is in
 *   0..255, else Int32Array.
 * - Geometry as nibabel 5 loads it (./geometry.ts): invalid codes count as 0, qfac ±1, pixdim made
 *   positive; affine = sform, else qform, else nibabel's centred base affine; a non-finite spacing
 *   or affine is refused. The fixed header fields are kept in `volume.geometry` so a derived
 *   volume is written with exactly the input's geometry.
 * - Every failure is one InputError naming the file (exit 2), including a failed allocation
 *   ("needs 1.5 GiB for 512×512×1000 int16 voxels …; not enough memory"); echoed header bytes are
 *   escaped (`printable`).
 * - Memory: the file's bytes in one buffer (zlib writes them into a single chunk sized from the
 *   header), converted into the output array: two full-size copies at most.
 *
 * Writing: NIfTI-1, little-endian, 348-byte header + 4-byte extension flag (vox_offset 352),
 * gzip when the name ends in `.gz`, atomically (temporary sibling, then rename).
 */
import { promises as fsp, openSync, readSync, fstatSync, writeSync, closeSync, renameSync, rmSync, mkdirSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import { InputError, UsageError, errorMessage } from '../util/errors.js';
import { temporaryPathFor } from '../util/atomic.js';
import type { Affine, NiftiGeometry, Volume, VoxelArray } from './volume.js';
import type { Vec3 } from '../util/vec3.js';
import { bestAffine, affinesClose, affineSpacing, geometryFromAffine, nibabelPixdim, quaternionW2, validXformCode } from './geometry.js';
import { formatBytes, printable } from '../util/text.js';

export type NiftiDatatype = 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';
export type VolumeKind = 'image' | 'label';

export interface ReadOptions {
  kind?: VolumeKind;
}

export interface WriteOptions {
  /** Stored datatype; default from the TypedArray (Float32Array → float32, Uint8Array → uint8, …). */
  datatype?: NiftiDatatype;
}

/** NIfTI datatype codes (nifti1.h) and byte sizes. */
const DATATYPES: Record<NiftiDatatype, { code: number; bytes: number }> = {
  uint8: { code: 2, bytes: 1 },
  int16: { code: 4, bytes: 2 },
  int32: { code: 8, bytes: 4 },
  float32: { code: 16, bytes: 4 },
  float64: { code: 64, bytes: 8 },
  int8: { code: 256, bytes: 1 },
  uint16: { code: 512, bytes: 2 },
  uint32: { code: 768, bytes: 4 },
};
const DATATYPE_BY_CODE = new Map<number, NiftiDatatype>(Object.entries(DATATYPES).map(([name, d]) => [d.code, name as NiftiDatatype]));
const OTHER_DATATYPES: Record<number, string> = { 1: 'binary', 32: 'complex64', 128: 'RGB24', 1024: 'int64', 1280: 'uint64', 1536: 'float128', 1792: 'complex128', 2048: 'complex256', 2304: 'RGBA32' };

/**
 * The header fields segloss uses, for either NIfTI version, as stored in the file (numbers of a
 * NIfTI-1 header shown as the shortest decimal of their float32, see `shortestFloat32`). A read
 * Volume's `geometry` is this after nibabel's load-time fixes (`gridOf`).
 */
export interface NiftiHeader {
  version: 1 | 2;
  littleEndian: boolean;
  /** dim[0..7]. */
  dim: number[];
  datatype: NiftiDatatype;
  bitpix: number;
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  geometry: NiftiGeometry;
}

const NIFTI1_HEADER_BYTES = 348;
const NIFTI2_HEADER_BYTES = 540;
/** The 4-byte extension flag that follows the header in a single-file NIfTI. */
const EXTENSION_FLAG_BYTES = 4;
const WRITE_VOX_OFFSET = 352;
/** Largest voxel payload accepted (2 GiB − 1): a larger one cannot be held in one JS typed array here. */
const MAX_PAYLOAD_BYTES = 2 ** 31 - 1;
/**
 * Largest vox_offset accepted (1 GiB): header extensions that large are not plausible, and with
 * the payload limit a whole file stays below Node's 4 GiB Buffer limit.
 */
const MAX_VOX_OFFSET = 2 ** 30;
/**
 * How far past the declared end (vox_offset + voxel data) a gzip file is inflated: a little extra
 * data is reported with its exact size; more is refused without inflating it (a decompression
 * bomb costs at most this much beyond the declared size).
 */
const EXTRA_PROBE_BYTES = 64 * 1024;
/**
 * deflate's largest expansion (RFC 1951: a 258-byte match costs at least 2 bits): n bytes of gzip
 * cannot hold more than 1032·n bytes, so a header declaring more describes a truncated file.
 */
const DEFLATE_MAX_RATIO = 1032;
/** Output cap of one header probe of a gzip file (`gunzipPrefix`). */
const PREFIX_OUTPUT_LIMIT = 4 * 2 ** 20;
/** Bytes read from the start of a file first: the whole header of a plain file, and normally enough gzip to inflate it. */
const HEAD_READ_BYTES = 64 * 1024;
/** Largest finite float32 (images are returned as Float32Array). */
const FLOAT32_MAX = 3.4028234663852886e38;

/** Parse a NIfTI-1 or NIfTI-2 header from the start of `buf` (the decompressed file, or at least its first 540 bytes). */
export function parseNiftiHeader(file: string, buf: Buffer): NiftiHeader {
  if (buf.length < 4) throw new InputError(file, `not a NIfTI file (only ${buf.length} bytes)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const le1 = view.getInt32(0, true);
  const be1 = view.getInt32(0, false);
  let version: 1 | 2;
  let littleEndian: boolean;
  if (le1 === NIFTI1_HEADER_BYTES || be1 === NIFTI1_HEADER_BYTES) {
    version = 1;
    littleEndian = le1 === NIFTI1_HEADER_BYTES;
  } else if (le1 === NIFTI2_HEADER_BYTES || be1 === NIFTI2_HEADER_BYTES) {
    version = 2;
    littleEndian = le1 === NIFTI2_HEADER_BYTES;
  } else {
    throw new InputError(file, `not a NIfTI file (header size field is ${le1}, expected 348 for NIfTI-1 or 540 for NIfTI-2)`);
  }
  const headerBytes = version === 1 ? NIFTI1_HEADER_BYTES : NIFTI2_HEADER_BYTES;
  if (buf.length < headerBytes) throw new InputError(file, `truncated NIfTI-${version} header (${buf.length} of ${headerBytes} bytes)`);
  return version === 1 ? parseNifti1(file, buf, view, littleEndian) : parseNifti2(file, buf, view, littleEndian);
}

/** A header string as text for a message: escaped, without its trailing NULs. */
function shownBytes(bytes: Buffer): string {
  return `"${printable(bytes.toString('latin1').replace(/\0+$/, ''), 40)}"`;
}

/**
 * The magic string: "n+1\0" (NIfTI-1) or "n+2\0" (NIfTI-2) for a single file. "ni1\0"/"ni2\0"
 * mark the header of a separate .hdr/.img pair, which segloss does not read (datasets are single
 * files); nibabel reads them as pairs, so the message says how to convert.
 */
function checkMagic(file: string, buf: Buffer, offset: number, version: 1 | 2): void {
  const magic = buf.subarray(offset, offset + 4);
  if (magic.toString('latin1') === `n+${version}\0`) return;
  if (magic.toString('latin1') === `ni${version}\0`) {
    throw new InputError(file, `this is the header of a NIfTI-${version} .hdr/.img pair (magic "ni${version}"); separate .hdr/.img pairs are not supported: convert to a single .nii or .nii.gz (e.g. with nibabel: nib.save(nib.load(hdr), 'x.nii.gz'))`);
  }
  throw new InputError(file, `wrong NIfTI-${version} magic string ${shownBytes(magic)} (expected "n+${version}")`);
}

/**
 * NIfTI-2's 4 bytes after the magic: "\r\n\x1a\n" detect a file damaged by a text-mode transfer.
 * nibabel (`Nifti2Header._chk_eol_check`) accepts them all zero and refuses anything else.
 */
function checkEol(file: string, buf: Buffer): void {
  const eol = buf.subarray(8, 12);
  if (eol.toString('latin1') === '\r\n\x1a\n' || eol.every((b) => b === 0)) return;
  throw new InputError(file, `NIfTI-2 end-of-line check bytes are ${shownBytes(eol)} (expected "\\r\\n\\x1a\\n"): the file was probably damaged by a text-mode transfer`);
}

function datatypeOf(file: string, code: number, bitpix: number): NiftiDatatype {
  const name = DATATYPE_BY_CODE.get(code);
  if (name === undefined) {
    const known = OTHER_DATATYPES[code];
    throw new InputError(file, `unsupported NIfTI datatype ${code}${known ? ` (${known})` : ''}; supported: ${Object.keys(DATATYPES).join(', ')}`);
  }
  if (bitpix !== DATATYPES[name].bytes * 8) throw new InputError(file, `header bitpix ${bitpix} does not match datatype ${name} (${DATATYPES[name].bytes * 8} bits)`);
  return name;
}

/**
 * The shortest decimal that rounds to the same float32 (0.800000011920929 → 0.8). NIfTI-1 stores
 * float32, so this loses nothing (Math.fround gives back the stored bits) and shows users the
 * spacing they expect.
 */
export function shortestFloat32(x: number): number {
  if (!Number.isFinite(x)) return x;
  for (let digits = 1; digits <= 9; digits++) {
    const d = Number(x.toPrecision(digits));
    if (Math.fround(d) === x) return d;
  }
  return x;
}

function parseNifti1(file: string, buf: Buffer, v: DataView, le: boolean): NiftiHeader {
  checkMagic(file, buf, 344, 1);
  const dim = Array.from({ length: 8 }, (_, i) => v.getInt16(40 + 2 * i, le));
  const pixdim = Array.from({ length: 8 }, (_, i) => shortestFloat32(v.getFloat32(76 + 4 * i, le)));
  const f32 = (o: number) => shortestFloat32(v.getFloat32(o, le));
  const geometry: NiftiGeometry = {
    qformCode: v.getInt16(252, le),
    sformCode: v.getInt16(254, le),
    quatern: [f32(256), f32(260), f32(264), f32(268), f32(272), f32(276)],
    pixdim,
    srow: [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => f32(280 + 16 * r + 4 * c))) as [number[], number[], number[]],
    xyztUnits: v.getUint8(123),
  };
  return {
    version: 1,
    littleEndian: le,
    dim,
    datatype: datatypeOf(file, v.getInt16(70, le), v.getInt16(72, le)),
    bitpix: v.getInt16(72, le),
    voxOffset: f32(108),
    sclSlope: f32(112),
    sclInter: f32(116),
    geometry,
  };
}

function parseNifti2(file: string, buf: Buffer, v: DataView, le: boolean): NiftiHeader {
  checkMagic(file, buf, 4, 2);
  checkEol(file, buf);
  const i64 = (o: number) => Number(v.getBigInt64(o, le));
  const f64 = (o: number) => v.getFloat64(o, le);
  const dim = Array.from({ length: 8 }, (_, i) => i64(16 + 8 * i));
  const pixdim = Array.from({ length: 8 }, (_, i) => f64(104 + 8 * i));
  const geometry: NiftiGeometry = {
    qformCode: v.getInt32(344, le),
    sformCode: v.getInt32(348, le),
    quatern: [f64(352), f64(360), f64(368), f64(376), f64(384), f64(392)],
    pixdim,
    srow: [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => f64(400 + 32 * r + 8 * c))) as [number[], number[], number[]],
    xyztUnits: v.getInt32(500, le),
  };
  return {
    version: 2,
    littleEndian: le,
    dim,
    datatype: datatypeOf(file, v.getInt16(12, le), v.getInt16(14, le)),
    bitpix: v.getInt16(14, le),
    voxOffset: i64(168),
    sclSlope: f64(176),
    sclInter: f64(184),
    geometry,
  };
}

/** Volume shape from dim[]: [ni, nj, nk] or [ni, nj, nk, nc] where nc = dim[4]·…·dim[dim0]. */
function shapeOf(file: string, dim: number[]): number[] {
  const rank = dim[0] as number;
  if (!(rank >= 1 && rank <= 7)) throw new InputError(file, `invalid number of dimensions dim[0] = ${rank} (expected 1 to 7)`);
  for (let d = 1; d <= rank; d++) {
    const n = dim[d] as number;
    if (!(n >= 1)) throw new InputError(file, `dimension ${d} has size ${n} (sizes must be positive)`);
  }
  const size = (d: number) => (d <= rank ? (dim[d] as number) : 1);
  let channels = 1;
  for (let d = 4; d <= rank; d++) channels *= size(d);
  return channels > 1 ? [size(1), size(2), size(3), channels] : [size(1), size(2), size(3)];
}

/** The stored value of a header float: NIfTI-1 floats are float32 (kept as their shortest decimal), NIfTI-2's float64. */
function storedFloat(header: NiftiHeader, x: number): number {
  return header.version === 1 ? Math.fround(x) : x;
}

/** value = slope · stored + inter, when the header asks for scaling. */
interface Scaling {
  slope: number;
  inter: number;
  /** "scl_slope 0.5 + scl_inter -10", as the header shows them (for messages). */
  shown: string;
}

/**
 * The scaling a header asks for, as nibabel's `Nifti1Header.get_slope_inter` reads it: scl_slope 0
 * (the NIfTI standard's "no scaling") or not finite means none, and scl_inter is then ignored; a
 * valid slope with a NaN or infinite scl_inter is refused (nibabel raises HeaderDataError).
 * Returns null for no scaling (and for the identity 1·x + 0).
 */
function scalingOf(file: string, header: NiftiHeader): Scaling | null {
  const slope = storedFloat(header, header.sclSlope);
  const inter = storedFloat(header, header.sclInter);
  if (slope === 0 || !Number.isFinite(slope)) return null;
  if (!Number.isFinite(inter)) throw new InputError(file, `scl_inter is ${header.sclInter} with scl_slope ${header.sclSlope}: the scaled values would not be numbers (nibabel refuses this too)`);
  return slope === 1 && inter === 0 ? null : { slope, inter, shown: `scl_slope ${header.sclSlope} + scl_inter ${header.sclInter}` };
}

/** Voxel spacing, affine and geometry of a read volume. */
interface Grid {
  spacingMm: Vec3;
  affine: Affine;
  /** The header geometry with nibabel's load-time fixes (codes, qfac, pixdim signs). */
  geometry: NiftiGeometry;
}

/**
 * Geometry exactly as nibabel 5 loads it: invalid qform/sform codes count as 0, pixdim[0] (qfac)
 * is ±1, pixdim[1..3] are made positive (0 → 1) (see ./geometry.ts); spacing = pixdim[1..3]
 * (1 for axes beyond dim[0], as nibabel's base affine pads them); affine by
 * `get_best_affine` precedence. Refused: a non-finite spacing, a qform quaternion that is not a
 * rotation (nibabel's `fillpositive` raises), and a non-finite affine (nibabel would return NaNs).
 */
function gridOf(file: string, header: NiftiHeader, shape: number[]): Grid {
  const raw = header.geometry;
  const geometry: NiftiGeometry = {
    ...raw,
    qformCode: validXformCode(raw.qformCode),
    sformCode: validXformCode(raw.sformCode),
    pixdim: nibabelPixdim(raw.pixdim),
    quatern: [...raw.quatern],
    srow: raw.srow.map((r) => [...r]) as [number[], number[], number[]],
  };
  const rank = header.dim[0] as number;
  const spacingMm = [0, 1, 2].map((d) => (d < rank ? (geometry.pixdim[d + 1] as number) : 1)) as Vec3;
  spacingMm.forEach((s, d) => {
    if (!Number.isFinite(s)) throw new InputError(file, `pixdim[${d + 1}] (the voxel size along axis ${d + 1}) is ${raw.pixdim[d + 1]}; it must be a finite number`);
  });
  const source = geometry.sformCode !== 0 ? 'sform' : geometry.qformCode !== 0 ? 'qform' : 'pixdim';
  if (source === 'qform') {
    // nibabel's threshold: 3 machine epsilons of the stored precision (Nifti1Header/Nifti2Header.quaternion_threshold).
    const threshold = -3 * (header.version === 1 ? 2 ** -23 : Number.EPSILON);
    const w2 = quaternionW2(raw.quatern.slice(0, 3).map((q) => storedFloat(header, q)));
    if (w2 < threshold) {
      throw new InputError(file, `qform quaternion (b, c, d) = (${raw.quatern.slice(0, 3).join(', ')}) is not a rotation: b² + c² + d² = ${Number((1 - w2).toPrecision(6))} exceeds 1 (nibabel refuses it too)`);
    }
  }
  const affine = bestAffine(geometry, { shape, spacingMm });
  if (!affine.every((row) => row.every(Number.isFinite))) {
    const what =
      source === 'sform'
        ? `the sform (sform_code ${geometry.sformCode}) has non-finite entries: srow_x [${raw.srow[0].join(', ')}], srow_y [${raw.srow[1].join(', ')}], srow_z [${raw.srow[2].join(', ')}]`
        : `the qform (qform_code ${geometry.qformCode}) is not finite: quatern (b, c, d) = (${raw.quatern.slice(0, 3).join(', ')}), qoffset = (${raw.quatern.slice(3).join(', ')}), pixdim[0..3] = (${raw.pixdim.slice(0, 4).join(', ')})`;
    throw new InputError(file, `${what}; the voxel-to-world affine must be finite`);
  }
  return { spacingMm, affine, geometry };
}

/** Everything the header says about the file, validated before any voxel is read. */
interface Layout {
  header: NiftiHeader;
  shape: number[];
  count: number;
  /** Where the voxels start (vox_offset; 0 taken as right after the header and extension flag). */
  offsetBytes: number;
  payloadBytes: number;
  /** offset + payload: the size of the (decompressed) file. */
  totalBytes: number;
  grid: Grid;
  scaling: Scaling | null;
}

function layoutOf(file: string, header: NiftiHeader): Layout {
  const shape = shapeOf(file, header.dim);
  const count = shape.reduce((a, b) => a * b, 1);
  const payloadBytes = count * DATATYPES[header.datatype].bytes;
  if (payloadBytes > MAX_PAYLOAD_BYTES) throw new InputError(file, `header declares ${shape.join('×')} ${header.datatype} voxels (${formatBytes(payloadBytes)}), more than segloss reads (2 GiB of voxel data)`);
  // nibabel (`Nifti1Header._chk_offset`) refuses a single-file vox_offset below header + extension
  // flag. A vox_offset of 0 is invalid too but occurs in old files; take it, as segloss always has,
  // as "right after the header and the 4-byte extension flag" (nibabel would read the header itself
  // as voxels).
  const minOffset = (header.version === 1 ? NIFTI1_HEADER_BYTES : NIFTI2_HEADER_BYTES) + EXTENSION_FLAG_BYTES;
  const offsetBytes = header.voxOffset === 0 ? minOffset : header.voxOffset;
  if (!Number.isInteger(offsetBytes) || offsetBytes < minOffset || offsetBytes > MAX_VOX_OFFSET) {
    throw new InputError(file, `invalid vox_offset ${header.voxOffset} (must be an integer from ${minOffset} to ${MAX_VOX_OFFSET})`);
  }
  const scaling = scalingOf(file, header);
  const grid = gridOf(file, header, shape);
  return { header, shape, count, offsetBytes, payloadBytes, totalBytes: offsetBytes + payloadBytes, grid, scaling };
}

function declared(layout: Layout): string {
  return `header declares ${layout.shape.join('×')} ${layout.header.datatype} voxels (${layout.payloadBytes} bytes at offset ${layout.offsetBytes})`;
}

/**
 * The error for a file whose size does not match the header. `fileBytes` is the (decompressed)
 * size, or null when a gzip file went on beyond `EXTRA_PROBE_BYTES` past the declared end and
 * was not inflated further.
 */
function sizeMismatch(file: string, layout: Layout, fileBytes: number | null): InputError {
  if (fileBytes === null) {
    return new InputError(file, `${declared(layout)} but the file has extra data: more than ${layout.payloadBytes + EXTRA_PROBE_BYTES} bytes after the header (not inflated further)`);
  }
  if (fileBytes < layout.offsetBytes) return new InputError(file, `${declared(layout)} but the file is truncated: it ends at byte ${fileBytes}, before the voxel data starts`);
  const what = fileBytes < layout.totalBytes ? 'file is truncated' : 'file has extra data';
  return new InputError(file, `${declared(layout)} but the ${what}: ${fileBytes - layout.offsetBytes} bytes after the header`);
}

/** A RangeError other than zlib's maxOutputLength signal: an allocation that failed for lack of memory. */
function isAllocationFailure(err: unknown): boolean {
  return err instanceof RangeError && (err as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE';
}

function outOfMemory(file: string, layout: Layout, kind: VolumeKind): InputError {
  const outputBytes = layout.count * 4;
  const output = kind === 'label' ? 'int32 labels at most' : 'float32 output';
  return new InputError(
    file,
    `needs ${formatBytes(layout.totalBytes + outputBytes)} for ${layout.shape.join('×')} ${layout.header.datatype} voxels (${formatBytes(layout.totalBytes)} file data + ${formatBytes(outputBytes)} ${output}); not enough memory`,
  );
}

/** Run an allocation-heavy step; a failed allocation becomes the one-line out-of-memory error. */
function guardMemory<T>(file: string, layout: Layout, kind: VolumeKind, step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (isAllocationFailure(err)) throw outOfMemory(file, layout, kind);
    throw err;
  }
}

function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

function corruptGzip(file: string, err: unknown): InputError {
  return new InputError(file, `corrupt or truncated gzip data (${printable(errorMessage(err))})`);
}

/**
 * The first `wantBytes` decompressed bytes of gzip data (all of them when there are fewer), for
 * reading the header before anything else. Compressed prefixes of growing length are inflated
 * (Z_SYNC_FLUSH: a cut stream is not an error) with a capped output, so the probe costs little
 * memory however well the rest of the file compresses; a prefix whose output passes the cap is
 * shortened (its start already holds more than the header).
 */
export function gunzipPrefix(file: string, raw: Buffer, wantBytes: number): Buffer {
  let short = 0; // a prefix length known to inflate to fewer than wantBytes
  let n = Math.min(raw.length, 1024);
  for (;;) {
    let out: Buffer | null = null;
    try {
      out = zlib.gunzipSync(raw.subarray(0, n), { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: PREFIX_OUTPUT_LIMIT });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') throw corruptGzip(file, err);
    }
    if (out === null) {
      n = short + Math.ceil((n - short) / 2);
      continue;
    }
    if (out.length >= wantBytes || n === raw.length) return out.subarray(0, wantBytes);
    short = n;
    n = Math.min(raw.length, n * 4);
  }
}

/**
 * Options for inflating a whole gzip file whose header has been read: one output chunk just
 * larger than anything accepted, so zlib writes the file into a single buffer (no concatenation
 * copy) and, with maxOutputLength, stops as soon as that chunk is full: extra data, further gzip
 * members or a decompression bomb cost at most `EXTRA_PROBE_BYTES` beyond the declared size.
 * (The gzip trailer's ISIZE is not used: it is only the size modulo 2³² and can be anything.)
 */
function gunzipOptions(layout: Layout): zlib.ZlibOptions {
  const limit = layout.totalBytes + EXTRA_PROBE_BYTES;
  return { chunkSize: limit + 1, maxOutputLength: limit };
}

/** A header that declares more than the compressed bytes can possibly hold is a truncated file: refused before inflating. */
function checkDeflateBound(file: string, layout: Layout, compressedBytes: number): void {
  if (layout.totalBytes > DEFLATE_MAX_RATIO * compressedBytes) {
    throw new InputError(file, `${declared(layout)} but the file is truncated: ${compressedBytes} bytes of gzip hold at most ${DEFLATE_MAX_RATIO * compressedBytes} bytes (deflate expands at most ${DEFLATE_MAX_RATIO}:1)`);
  }
}

function gunzipFailure(file: string, layout: Layout, kind: VolumeKind, err: unknown): InputError {
  if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return sizeMismatch(file, layout, null);
  if (isAllocationFailure(err)) return outOfMemory(file, layout, kind);
  return corruptGzip(file, err);
}

/** A plain file's size is checked against the header before its voxels are read. */
function checkPlainSize(file: string, layout: Layout, fileBytes: number): void {
  if (fileBytes !== layout.totalBytes) throw sizeMismatch(file, layout, fileBytes);
}

function cannotRead(file: string, err: unknown): InputError {
  return new InputError(file, `cannot read: ${printable(errorMessage(err), 200)}`);
}

function allocFileBuffer(file: string, bytes: number): Buffer {
  try {
    return Buffer.allocUnsafe(bytes);
  } catch (err) {
    if (isAllocationFailure(err)) throw new InputError(file, `needs ${formatBytes(bytes)} to read the file; not enough memory`);
    throw err;
  }
}

/** Turn a decompressed (or plain) file into a Volume; its header has been validated (`layoutOf`). */
function volumeFrom(file: string, layout: Layout, buf: Buffer, kind: VolumeKind): Volume {
  if (buf.length !== layout.totalBytes) throw sizeMismatch(file, layout, buf.length);
  const { header, grid } = layout;
  const data = guardMemory(file, layout, kind, () => {
    const stored = storedArray(buf, layout.offsetBytes, layout.count, header.datatype, header.littleEndian);
    return kind === 'label' ? labelArray(file, stored, layout.scaling) : imageArray(file, stored, header.datatype, layout.scaling);
  });
  return { shape: layout.shape, spacingMm: grid.spacingMm, affine: grid.affine, data, geometry: grid.geometry };
}

/** Decode a whole decompressed NIfTI file into a Volume. */
export function decodeNifti(file: string, buf: Buffer, options: ReadOptions = {}): Volume {
  return volumeFrom(file, layoutOf(file, parseNiftiHeader(file, buf)), buf, options.kind ?? 'image');
}

const ARRAY_TYPES = {
  uint8: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

/** Largest |stored value| of each integer datatype (floats: unbounded for the overflow check). */
const MAX_ABS_STORED: Record<NiftiDatatype, number> = {
  uint8: 255,
  int8: 128,
  int16: 32768,
  uint16: 65535,
  int32: 2 ** 31,
  uint32: 2 ** 32 - 1,
  float32: Infinity,
  float64: Infinity,
};

/**
 * A typed array over the stored voxels. Big-endian data is byte-swapped in place (the buffer is
 * ours); misaligned data (vox_offset not a multiple of the element size) is copied once.
 */
function storedArray(buf: Buffer, offset: number, count: number, datatype: NiftiDatatype, littleEndian: boolean): VoxelArray {
  const bytes = DATATYPES[datatype].bytes;
  const region = buf.subarray(offset, offset + count * bytes);
  if (!littleEndian && bytes > 1) {
    if (bytes === 2) region.swap16();
    else if (bytes === 4) region.swap32();
    else region.swap64();
  }
  const Ctor = ARRAY_TYPES[datatype];
  if ((region.byteOffset % bytes) === 0) return new Ctor(region.buffer as ArrayBuffer, region.byteOffset, count);
  const aligned = new Uint8Array(count * bytes);
  aligned.set(region);
  return new Ctor(aligned.buffer, 0, count);
}

/**
 * Image voxels as float32 with the scaling applied (computed in float64, rounded once, as
 * nibabel's get_fdata() rounded to float32). A finite stored value whose scaled value does not fit
 * in float32 (e.g. scl_slope 1e38) is refused rather than read as ±∞. Stored NaN/∞ are kept:
 * `segloss check` reports them.
 */
function imageArray(file: string, stored: VoxelArray, datatype: NiftiDatatype, scaling: Scaling | null): Float32Array {
  const out = new Float32Array(stored.length);
  if (scaling === null) {
    out.set(stored);
    return out;
  }
  const { slope, inter, shown } = scaling;
  for (let n = 0; n < stored.length; n++) out[n] = (stored[n] as number) * slope + inter;
  if (MAX_ABS_STORED[datatype] * Math.abs(slope) + Math.abs(inter) > FLOAT32_MAX) {
    for (let n = 0; n < stored.length; n++) {
      const s = stored[n] as number;
      if (!Number.isFinite(out[n] as number) && Number.isFinite(s)) {
        throw new InputError(file, `scaled value ${s} · ${shown} = ${Number((s * slope + inter).toPrecision(6))} at voxel ${n} does not fit in float32 (images are read as float32)`);
      }
    }
  }
  return out;
}

/**
 * Label voxels: the scaling applied as for images (value = scl_slope · stored + scl_inter; a
 * label map stored as int16 with scl_inter −1 holds −1, 0, 1 as nibabel reads it), then rounded
 * to the nearest integer; a value more than 1e-3 from an integer, NaN or ∞ is refused naming an
 * example. Uint8Array when every value is in 0..255, else Int32Array.
 */
function labelArray(file: string, stored: VoxelArray, scaling: Scaling | null): Uint8Array | Int32Array {
  if (scaling === null && stored instanceof Uint8Array) return stored.slice();
  const slope = scaling?.slope ?? 1;
  const inter = scaling?.inter ?? 0;
  const exact = scaling === null && !(stored instanceof Float32Array || stored instanceof Float64Array);
  const how = (n: number) => (scaling === null ? '' : `; stored ${stored[n]} · ${scaling.shown}`);
  let min = Infinity;
  let max = -Infinity;
  for (let n = 0; n < stored.length; n++) {
    const v = (stored[n] as number) * slope + inter;
    if (!exact) {
      if (!Number.isFinite(v)) throw new InputError(file, `label value ${v} at voxel ${n} is not a number${how(n)}`);
      if (Math.abs(v - Math.round(v)) > 1e-3) throw new InputError(file, `label value ${v} at voxel ${n} is not an integer (more than 1e-3 from one${how(n)})`);
    }
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const lo = Math.round(min);
  const hi = Math.round(max);
  if (lo < -(2 ** 31) || hi > 2 ** 31 - 1) throw new InputError(file, `label values ${lo}..${hi} do not fit in int32`);
  const out = lo >= 0 && hi <= 255 ? new Uint8Array(stored.length) : new Int32Array(stored.length);
  if (exact) out.set(stored);
  else for (let n = 0; n < stored.length; n++) out[n] = Math.round((stored[n] as number) * slope + inter);
  return out;
}

/** Read `length` bytes at `position` (fewer at the end of the file). */
function readBytesSync(file: string, fd: number, length: number, position: number, into?: Buffer, intoOffset = 0): Buffer {
  const buf = into ?? allocFileBuffer(file, length);
  let done = 0;
  try {
    while (done < length) {
      const n = readSync(fd, buf, intoOffset + done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
  } catch (err) {
    throw cannotRead(file, err);
  }
  return buf.subarray(intoOffset, intoOffset + done);
}

async function readBytes(file: string, handle: FileHandle, length: number, position: number, into?: Buffer, intoOffset = 0): Promise<Buffer> {
  const buf = into ?? allocFileBuffer(file, length);
  let done = 0;
  try {
    while (done < length) {
      const { bytesRead } = await handle.read(buf, intoOffset + done, length - done, position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
  } catch (err) {
    throw cannotRead(file, err);
  }
  return buf.subarray(intoOffset, intoOffset + done);
}

/** Open a file for reading and give its size; every failure is "cannot read". */
function openForReadSync(file: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw cannotRead(file, err);
  }
  try {
    return { fd, size: fstatSync(fd).size };
  } catch (err) {
    closeSync(fd);
    throw cannotRead(file, err);
  }
}

/**
 * Read a `.nii` / `.nii.gz` file (see the module comment for images vs labels). The header is read
 * and validated first; then exactly the bytes it declares are read (plain file, whose size is
 * checked first) or inflated (gzip, bounded: see `gunzipOptions`). Every failure is an InputError.
 */
export async function readNifti(file: string, options: ReadOptions = {}): Promise<Volume> {
  const kind = options.kind ?? 'image';
  let handle: FileHandle;
  let size: number;
  try {
    handle = await fsp.open(file, 'r');
  } catch (err) {
    throw cannotRead(file, err);
  }
  try {
    try {
      size = (await handle.stat()).size;
    } catch (err) {
      throw cannotRead(file, err);
    }
    const head = await readBytes(file, handle, Math.min(size, HEAD_READ_BYTES), 0);
    if (!isGzip(head)) {
      const layout = layoutOf(file, parseNiftiHeader(file, head));
      checkPlainSize(file, layout, size);
      const buf = guardMemory(file, layout, kind, () => Buffer.allocUnsafe(layout.totalBytes));
      head.copy(buf);
      const rest = await readBytes(file, handle, layout.totalBytes - head.length, head.length, buf, head.length);
      return volumeFrom(file, layout, buf.subarray(0, head.length + rest.length), kind);
    }
    const raw = size <= head.length ? head : await readBytes(file, handle, size, 0);
    const layout = layoutOf(file, parseNiftiHeader(file, gunzipPrefix(file, raw, NIFTI2_HEADER_BYTES)));
    checkDeflateBound(file, layout, raw.length);
    let buf: Buffer;
    try {
      buf = await gunzipAsync(raw, gunzipOptions(layout));
    } catch (err) {
      throw gunzipFailure(file, layout, kind, err);
    }
    return volumeFrom(file, layout, buf, kind);
  } finally {
    await handle.close();
  }
}

const gunzipAsync = promisify(zlib.gunzip) as (buf: Buffer, options: zlib.ZlibOptions) => Promise<Buffer>;

/** Synchronous readNifti (same rules). */
export function readNiftiSync(file: string, options: ReadOptions = {}): Volume {
  const kind = options.kind ?? 'image';
  const { fd, size } = openForReadSync(file);
  try {
    const head = readBytesSync(file, fd, Math.min(size, HEAD_READ_BYTES), 0);
    if (!isGzip(head)) {
      const layout = layoutOf(file, parseNiftiHeader(file, head));
      checkPlainSize(file, layout, size);
      const buf = guardMemory(file, layout, kind, () => Buffer.allocUnsafe(layout.totalBytes));
      head.copy(buf);
      const rest = readBytesSync(file, fd, layout.totalBytes - head.length, head.length, buf, head.length);
      return volumeFrom(file, layout, buf.subarray(0, head.length + rest.length), kind);
    }
    const raw = size <= head.length ? head : readBytesSync(file, fd, size, 0);
    const layout = layoutOf(file, parseNiftiHeader(file, gunzipPrefix(file, raw, NIFTI2_HEADER_BYTES)));
    checkDeflateBound(file, layout, raw.length);
    let buf: Buffer;
    try {
      buf = zlib.gunzipSync(raw, gunzipOptions(layout));
    } catch (err) {
      throw gunzipFailure(file, layout, kind, err);
    }
    return volumeFrom(file, layout, buf, kind);
  } finally {
    closeSync(fd);
  }
}

/**
 * Read and validate only the header (the same checks as a full read, except the data size):
 * a gzip file is inflated only as far as its header.
 */
export function readNiftiHeaderSync(file: string): NiftiHeader {
  const { fd, size } = openForReadSync(file);
  try {
    const head = readBytesSync(file, fd, Math.min(size, HEAD_READ_BYTES), 0);
    let start = head;
    if (isGzip(head)) {
      start = gunzipPrefix(file, head, NIFTI2_HEADER_BYTES);
      if (start.length < NIFTI2_HEADER_BYTES && size > head.length) start = gunzipPrefix(file, readBytesSync(file, fd, size, 0), NIFTI2_HEADER_BYTES);
    }
    return layoutOf(file, parseNiftiHeader(file, start)).header;
  } finally {
    closeSync(fd);
  }
}

/** The datatype a TypedArray is written as by default. */
export function datatypeOfArray(data: VoxelArray): NiftiDatatype {
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof Float32Array) return 'float32';
  return 'float64';
}

const INTEGER_RANGES: Partial<Record<NiftiDatatype, [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
};

/**
 * Voxels converted to the stored datatype. Integer targets round to nearest; a value outside the
 * datatype's range or not finite is an error rather than being silently clipped.
 */
function toStored(file: string, data: VoxelArray, datatype: NiftiDatatype): VoxelArray {
  if (datatypeOfArray(data) === datatype) return data;
  const out = new ARRAY_TYPES[datatype](data.length);
  const range = INTEGER_RANGES[datatype];
  if (range === undefined) {
    out.set(data);
    return out;
  }
  const [lo, hi] = range;
  for (let n = 0; n < data.length; n++) {
    const v = Math.round(data[n] as number);
    if (!(v >= lo && v <= hi)) throw new UsageError(`${file}: value ${data[n]} at voxel ${n} cannot be stored as ${datatype} (range ${lo}..${hi})`);
    out[n] = v;
  }
  return out;
}

/**
 * Geometry to write: the volume's own header fields when they still describe `volume.affine`
 * (so a read → write round trip is exact), otherwise a fresh sform/qform built from the affine
 * (a derived volume whose affine was changed, e.g. cropped or resampled).
 */
function geometryToWrite(volume: Volume): NiftiGeometry {
  const g = volume.geometry;
  if (g !== undefined && affinesClose(bestAffine(g, volume), volume.affine, 1e-6)) {
    const pixdim = [...g.pixdim];
    while (pixdim.length < 8) pixdim.push(0);
    // pixdim[1..3] follow spacingMm (identical for read volumes; updated for derived ones).
    for (let d = 0; d < 3; d++) pixdim[d + 1] = volume.spacingMm[d] as number;
    return { ...g, pixdim };
  }
  const fresh = geometryFromAffine(volume.affine, {
    qformCode: g?.qformCode || g?.sformCode || 1,
    sformCode: g?.sformCode || g?.qformCode || 1,
    pixdimExtra: g?.pixdim.slice(4, 8),
  });
  if (g !== undefined) fresh.xyztUnits = g.xyztUnits;
  const spacing = affineSpacing(volume.affine);
  for (let d = 0; d < 3; d++) fresh.pixdim[d + 1] = spacing[d] as number;
  return fresh;
}

/** The 352-byte NIfTI-1 little-endian header (348 + 4-byte extension flag, all zero). */
export function niftiHeaderBytes(volume: Volume, datatype: NiftiDatatype): Buffer {
  const h = Buffer.alloc(WRITE_VOX_OFFSET);
  const shape = volume.shape;
  if (shape.length < 3 || shape.length > 4) throw new UsageError(`cannot write a volume of shape [${shape.join(', ')}] (expected 3 or 4 dimensions)`);
  for (const n of shape) if (!(Number.isInteger(n) && n >= 1 && n <= 32767)) throw new UsageError(`cannot write a volume of shape [${shape.join(', ')}] (NIfTI-1 sizes are 1..32767)`);
  const g = geometryToWrite(volume);
  h.writeInt32LE(NIFTI1_HEADER_BYTES, 0);
  h.writeUInt8(0, 39); // dim_info
  const rank = shape.length === 4 && (shape[3] as number) > 1 ? 4 : 3;
  h.writeInt16LE(rank, 40);
  for (let d = 0; d < 7; d++) h.writeInt16LE(d < rank ? (shape[d] as number) : 1, 42 + 2 * d);
  h.writeInt16LE(DATATYPES[datatype].code, 70);
  h.writeInt16LE(DATATYPES[datatype].bytes * 8, 72);
  for (let d = 0; d < 8; d++) h.writeFloatLE(g.pixdim[d] ?? 0, 76 + 4 * d);
  if ((g.pixdim[0] ?? 0) === 0) h.writeFloatLE(1, 76); // qfac must be ±1
  h.writeFloatLE(WRITE_VOX_OFFSET, 108);
  h.writeFloatLE(1, 112); // scl_slope: data are stored unscaled
  h.writeFloatLE(0, 116); // scl_inter
  h.writeUInt8(g.xyztUnits & 0xff, 123);
  h.write('segloss', 148, 'latin1'); // descrip
  h.writeInt16LE(g.qformCode, 252);
  h.writeInt16LE(g.sformCode, 254);
  for (let q = 0; q < 6; q++) h.writeFloatLE(g.quatern[q] ?? 0, 256 + 4 * q);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) h.writeFloatLE(g.srow[r]?.[c] ?? 0, 280 + 16 * r + 4 * c);
  h.write('n+1\0', 344, 'latin1');
  return h;
}

/** The complete file bytes (uncompressed) as two buffers: header and voxel data. */
function encodeNifti(file: string, volume: Volume, options: WriteOptions): [Buffer, Buffer] {
  const count = volume.shape.reduce((a, b) => a * b, 1);
  if (volume.data.length !== count) throw new UsageError(`${file}: volume data has ${volume.data.length} voxels but shape [${volume.shape.join(', ')}] needs ${count}`);
  const datatype = options.datatype ?? datatypeOfArray(volume.data);
  const header = niftiHeaderBytes(volume, datatype);
  const stored = toStored(file, volume.data, datatype);
  // Little-endian host assumed (x86, ARM); the typed array's bytes are the file's bytes.
  const body = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  return [header, body];
}

function checkExtension(file: string): boolean {
  if (file.endsWith('.nii.gz')) return true;
  if (file.endsWith('.nii')) return false;
  throw new UsageError(`${file}: NIfTI output must end in .nii or .nii.gz`);
}

/** gzip level: 6 for ordinary volumes, 1 above 64 MB where level 6 costs seconds for ~2% size. */
function gzipLevel(bytes: number): number {
  return bytes > 64 * 2 ** 20 ? 1 : 6;
}

/** Write a volume as NIfTI-1 (`.nii` or `.nii.gz` by extension), atomically. */
export async function writeNifti(file: string, volume: Volume, options: WriteOptions = {}): Promise<void> {
  const gz = checkExtension(file);
  const [header, body] = encodeNifti(file, volume, options);
  await fsp.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = temporaryPathFor(path.resolve(file));
  try {
    if (gz) {
      const all = Buffer.concat([header, body]);
      const compressed = await promisify(zlib.gzip)(all, { level: gzipLevel(all.length) });
      await fsp.writeFile(tmp, compressed);
    } else {
      const handle = await fsp.open(tmp, 'w');
      try {
        await handle.write(header);
        await handle.write(body);
      } finally {
        await handle.close();
      }
    }
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

/** Synchronous writeNifti. */
export function writeNiftiSync(file: string, volume: Volume, options: WriteOptions = {}): void {
  const gz = checkExtension(file);
  const [header, body] = encodeNifti(file, volume, options);
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = temporaryPathFor(path.resolve(file));
  try {
    const fd = openSync(tmp, 'w');
    try {
      if (gz) {
        const all = Buffer.concat([header, body]);
        writeSync(fd, zlib.gzipSync(all, { level: gzipLevel(all.length) }));
      } else {
        writeSync(fd, header);
        writeSync(fd, body);
      }
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * A volume with new voxel data (and optionally a new shape with the same first three axes, e.g.
 * a 3D label of a 4D image) on the same grid: spacing, affine and header geometry are copied.
 */
export function withData(volume: Volume, data: VoxelArray, shape?: number[]): Volume {
  const newShape = shape ?? volume.shape.slice(0, 3);
  const count = newShape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new UsageError(`withData: ${data.length} voxels do not fill shape [${newShape.join(', ')}]`);
  return {
    shape: [...newShape],
    spacingMm: [...volume.spacingMm] as Vec3,
    affine: volume.affine.map((r) => [...r]) as Affine,
    data,
    geometry: { ...volume.geometry, pixdim: [...volume.geometry.pixdim], quatern: [...volume.geometry.quatern], srow: volume.geometry.srow.map((r) => [...r]) as [number[], number[], number[]] },
  };
}

/** A new volume with the given affine (sform and qform code 1) — for data segloss creates. */
export function makeVolume(data: VoxelArray, shape: number[], affine: Affine): Volume {
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new UsageError(`makeVolume: ${data.length} voxels do not fill shape [${shape.join(', ')}]`);
  const geometry = geometryFromAffine(affine);
  return { shape: [...shape], spacingMm: affineSpacing(affine), affine: affine.map((r) => [...r]) as Affine, data, geometry };
}

/** One channel of a 4D volume as a 3D volume (a copy-free view of the data). */
export function channelOf(volume: Volume, channel: number): Volume {
  const channels = volume.shape[3] ?? 1;
  if (!(channel >= 0 && channel < channels)) throw new UsageError(`channel ${channel} out of range (volume has ${channels})`);
  const n = (volume.shape[0] as number) * (volume.shape[1] as number) * (volume.shape[2] as number);
  return withData(volume, volume.data.subarray(channel * n, (channel + 1) * n) as VoxelArray, volume.shape.slice(0, 3));
}
