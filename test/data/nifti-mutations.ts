/**
 * Mutations of small valid NIfTI files for the reader's fuzz test (nifti-fuzz.test.ts) and for
 * measuring other parsers on the same cases (bench/nifti-reader-js.ts). `mutate` picks one
 * mutation with a seeded Rng and says what a correct reader must do with it (`expect`).
 */
import * as zlib from 'node:zlib';
import type { VolumeKind } from '../../src/data/nifti.js';
import { Rng } from '../../src/util/rng.js';
import { rawNifti } from './raw-nifti.js';

export interface Base {
  name: string;
  version: 1 | 2;
  gz: boolean;
  kind: VolumeKind;
  raw: Buffer;
  voxOffset: number;
  bytesPerVoxel: number;
}

const oblique = [[-0.7, 0.1, 0, 12], [0.1, 0.7, 0, -3], [0, 0, 2.5, 40]];
const ramp = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
export const BASES: Base[] = [
  { name: 'v1-le-int16', version: 1, gz: false, kind: 'image', bytesPerVoxel: 2, voxOffset: 352, raw: rawNifti({ version: 1, littleEndian: true, datatype: 'int16', shape: [8, 6, 4], values: ramp(192, (i) => i * 7 - 600), pixdim: [1, 0.7, 0.7, 2.5, 0, 0, 0, 0], sformCode: 1, srow: oblique, qformCode: 1, quatern: [0.1, 0.2, 0.3, 1, 2, 3], slope: 0.5, inter: -3 }) },
  { name: 'v1-be-int16', version: 1, gz: true, kind: 'image', bytesPerVoxel: 2, voxOffset: 352, raw: rawNifti({ version: 1, littleEndian: false, datatype: 'int16', shape: [8, 6, 4], values: ramp(192, (i) => (i * 37) % 1000), pixdim: [-1, 0.9, 0.8, 3, 0, 0, 0, 0], qformCode: 2, quatern: [0.1, -0.2, 0.3, 5, 6, 7] }) },
  { name: 'v2-be-float32', version: 2, gz: true, kind: 'image', bytesPerVoxel: 4, voxOffset: 544, raw: rawNifti({ version: 2, littleEndian: false, datatype: 'float32', shape: [5, 4, 3], values: ramp(60, (i) => Math.sin(i) * 100), pixdim: [1, 1.5, 1.5, 2, 0, 0, 0, 0], sformCode: 4, srow: oblique }) },
  { name: 'v2-le-uint8', version: 2, gz: false, kind: 'image', bytesPerVoxel: 1, voxOffset: 544, raw: rawNifti({ version: 2, littleEndian: true, datatype: 'uint8', shape: [6, 5, 4, 2], values: ramp(240, (i) => i % 256), pixdim: [1, 2, 2, 2, 1, 0, 0, 0] }) },
  { name: 'v1-le-label', version: 1, gz: true, kind: 'label', bytesPerVoxel: 2, voxOffset: 352, raw: rawNifti({ version: 1, littleEndian: true, datatype: 'int16', shape: [7, 5, 3], values: ramp(105, (i) => (i * 5) % 3), pixdim: [1, 1, 1, 1, 0, 0, 0, 0], slope: 1, inter: -1, sformCode: 1, srow: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]] }) },
];

/** Header bytes that carry no meaning for reading the volume (nifti1.h / nifti2.h field offsets). */
const UNUSED_HEADER_BYTES: Record<1 | 2, [number, number][]> = {
  // data_type, db_name, extents, session_error, regular, dim_info; intent_p1..3, intent_code;
  // slice_start; slice_end, slice_code, xyzt_units, cal_max/min, slice_duration, toffset,
  // glmax/glmin, descrip, aux_file; intent_name; extension flag
  1: [[4, 40], [56, 70], [74, 76], [120, 252], [328, 344], [348, 352]],
  // intent_p1..3; cal_max/min, slice_duration, toffset, slice_start/end, descrip, aux_file;
  // slice_code, xyzt_units, intent_code, intent_name, dim_info, unused_str; extension flag
  2: [[80, 104], [192, 344], [496, 540], [540, 544]],
};

export type Expect = 'same' | 'same-except-data' | 'error' | 'read-or-error';
export interface Mutant {
  what: string;
  expect: Expect;
  /** The file's bytes as stored (gzip-compressed for a gzip base). */
  bytes: Buffer;
  /** For 'same-except-data': the voxel indices whose bytes changed. */
  voxels?: number[];
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)] as T;

function flipBit(buf: Buffer, offset: number, rng: Rng): Buffer {
  const out = Buffer.from(buf);
  out[offset] = (out[offset] as number) ^ (1 << rng.int(8));
  return out;
}

/** One mutation of a base file, chosen and parametrised by `rng`. */
export function mutate(base: Base, rng: Rng): Mutant {
  const { raw, version } = base;
  const store = (b: Buffer) => (base.gz ? zlib.gzipSync(b) : b);
  const hdr = version === 1 ? 348 : 540;
  const le = raw.readInt32LE(0) === hdr;
  const kinds = ['unused-header', 'header-flip', 'data-flip', 'dims', 'datatype', 'vox-offset', 'truncate', 'append', ...(base.gz ? ['gzip-equivalent', 'gzip-damage', 'gzip-cut', 'gzip-member'] : [])];
  const kind = pick(rng, kinds);
  switch (kind) {
    case 'unused-header': {
      const [lo, hi] = pick(rng, UNUSED_HEADER_BYTES[version]);
      const at = lo + rng.int(hi - lo);
      const out = Buffer.from(raw);
      out[at] = rng.int(256);
      return { what: `byte ${at} (unused field) set to ${out[at]}`, expect: 'same', bytes: store(out) };
    }
    case 'header-flip': {
      const at = rng.int(hdr + 4);
      return { what: `bit flip in header byte ${at}`, expect: 'read-or-error', bytes: store(flipBit(raw, at, rng)) };
    }
    case 'data-flip': {
      const at = base.voxOffset + rng.int(raw.length - base.voxOffset);
      return { what: `bit flip in data byte ${at}`, expect: 'same-except-data', bytes: store(flipBit(raw, at, rng)), voxels: [Math.floor((at - base.voxOffset) / base.bytesPerVoxel)] };
    }
    case 'dims': {
      const out = Buffer.from(raw);
      const d = rng.int(8);
      const v = pick(rng, [0, -1, 1, 2, 7, 8, 255, 32767, -32768, 1000, rng.int(65536) - 32768]);
      if (version === 1) out[le ? 'writeInt16LE' : 'writeInt16BE'](v, 40 + 2 * d);
      else out[le ? 'writeBigInt64LE' : 'writeBigInt64BE'](pick(rng, [BigInt(v), 2n ** 62n, -(2n ** 63n), 2n ** 31n, 3037000500n]), 16 + 8 * d);
      return { what: `dim[${d}] set to ${v}`, expect: 'read-or-error', bytes: store(out) };
    }
    case 'datatype': {
      const out = Buffer.from(raw);
      const code = pick(rng, [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2304, -1, rng.int(65536)]);
      const bitpix = pick(rng, [0, 1, 8, 16, 32, 64, 128, -8, rng.int(65536)]);
      const at = version === 1 ? 70 : 12;
      out[le ? 'writeUInt16LE' : 'writeUInt16BE'](code & 0xffff, at);
      if (rng.next() < 0.5) out[le ? 'writeUInt16LE' : 'writeUInt16BE'](bitpix & 0xffff, at + 2);
      return { what: `datatype ${code}, bitpix ${out.readUInt16LE(at + 2)}`, expect: 'read-or-error', bytes: store(out) };
    }
    case 'vox-offset': {
      const out = Buffer.from(raw);
      const v = pick(rng, [0, 1, 348, 351, 352, 353, 540, 543, 544, 545, base.voxOffset + 8, 1e5, 2 ** 31, 1e30, -352, NaN, Infinity, 352.5]);
      if (version === 1) out[le ? 'writeFloatLE' : 'writeFloatBE'](v, 108);
      else out[le ? 'writeBigInt64LE' : 'writeBigInt64BE'](Number.isFinite(v) && Math.abs(v) < 2 ** 62 ? BigInt(Math.trunc(v)) : 2n ** 60n, 168);
      return { what: `vox_offset set to ${v}`, expect: 'read-or-error', bytes: store(out) };
    }
    case 'truncate': {
      const at = rng.int(raw.length);
      return { what: `file cut at byte ${at} of ${raw.length}`, expect: 'error', bytes: store(raw.subarray(0, at)) };
    }
    case 'append': {
      const n = 1 + rng.int(2000);
      const extra = Buffer.from(Array.from({ length: n }, () => rng.int(256)));
      return { what: `${n} bytes appended`, expect: 'error', bytes: store(Buffer.concat([raw, extra])) };
    }
    case 'gzip-equivalent': {
      const variant = rng.int(5);
      if (variant === 0) return { what: 'recompressed at level 1', expect: 'same', bytes: zlib.gzipSync(raw, { level: 1 }) };
      if (variant === 1) {
        const cut = 1 + rng.int(raw.length - 1);
        return { what: `split into 2 gzip members at ${cut}`, expect: 'same', bytes: Buffer.concat([zlib.gzipSync(raw.subarray(0, cut)), zlib.gzipSync(raw.subarray(cut))]) };
      }
      if (variant === 2) return { what: 'empty gzip member appended (bgzip end-of-file marker)', expect: 'same', bytes: Buffer.concat([zlib.gzipSync(raw), zlib.gzipSync(Buffer.alloc(0))]) };
      if (variant === 3) {
        const gz = zlib.gzipSync(raw);
        const head = Buffer.from(gz.subarray(0, 10));
        head[3] = 0x08; // FNAME
        return { what: 'FNAME field added to the gzip header', expect: 'same', bytes: Buffer.concat([head, Buffer.from('case_001.nii\0', 'latin1'), gz.subarray(10)]) };
      }
      return { what: 'zero padding after the gzip stream', expect: 'same', bytes: Buffer.concat([zlib.gzipSync(raw), Buffer.alloc(1 + rng.int(4096))]) };
    }
    case 'gzip-damage': {
      const gz = zlib.gzipSync(raw);
      const at = rng.int(gz.length);
      // gzip header bytes 4..9 (MTIME, XFL, OS) carry no meaning for the data.
      return { what: `bit flip in gzip byte ${at} of ${gz.length}`, expect: at >= 4 && at < 10 ? 'same' : 'read-or-error', bytes: flipBit(gz, at, rng) };
    }
    case 'gzip-cut': {
      const gz = zlib.gzipSync(raw);
      const at = rng.int(gz.length);
      return { what: `gzip stream cut at byte ${at} of ${gz.length}`, expect: 'error', bytes: gz.subarray(0, at) };
    }
    default: {
      // appended gzip members: random bytes, or zeros (1 MiB: more than the reader inflates past the end)
      const zeros = rng.next() < 0.3;
      const n = zeros ? 2 ** 20 : 1 + rng.int(5000);
      const extra = zeros ? Buffer.alloc(n) : Buffer.from(Array.from({ length: n }, () => rng.int(256)));
      return { what: `gzip member of ${n} ${zeros ? 'zero' : 'random'} bytes appended`, expect: 'error', bytes: Buffer.concat([zlib.gzipSync(raw), zlib.gzipSync(extra)]) };
    }
  }
}

/** The fuzz test's seed. */
export const FUZZ_SEED = 20210131;

/** `perFile` mutations of each base file, the same sequence for the same seed. */
export function* fuzzCases(seed: number, perFile: number): Generator<{ base: Base; index: number; mutant: Mutant }> {
  const rng = new Rng(seed);
  for (const base of BASES) {
    const fileRng = rng.fork(base.name);
    for (let index = 0; index < perFile; index++) yield { base, index, mutant: mutate(base, fileRng) };
  }
}
