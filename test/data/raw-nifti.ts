/**
 * Test helper: NIfTI files built byte by byte (independently of segloss's writer), in either
 * byte order and either NIfTI version, with arbitrary datatype, scaling and vox_offset.
 */
export type RawDatatype = 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';

export const RAW_TYPES: Record<RawDatatype, { code: number; bytes: number; set: (v: DataView, o: number, x: number, le: boolean) => void }> = {
  uint8: { code: 2, bytes: 1, set: (v, o, x) => v.setUint8(o, x) },
  int8: { code: 256, bytes: 1, set: (v, o, x) => v.setInt8(o, x) },
  int16: { code: 4, bytes: 2, set: (v, o, x, le) => v.setInt16(o, x, le) },
  uint16: { code: 512, bytes: 2, set: (v, o, x, le) => v.setUint16(o, x, le) },
  int32: { code: 8, bytes: 4, set: (v, o, x, le) => v.setInt32(o, x, le) },
  uint32: { code: 768, bytes: 4, set: (v, o, x, le) => v.setUint32(o, x, le) },
  float32: { code: 16, bytes: 4, set: (v, o, x, le) => v.setFloat32(o, x, le) },
  float64: { code: 64, bytes: 8, set: (v, o, x, le) => v.setFloat64(o, x, le) },
};

export interface RawSpec {
  version: 1 | 2;
  littleEndian: boolean;
  datatype: RawDatatype;
  shape: number[];
  values: number[];
  pixdim?: number[];
  slope?: number;
  inter?: number;
  /** Default 352 (v1) / 544 (v2). */
  voxOffset?: number;
  qformCode?: number;
  sformCode?: number;
  quatern?: number[];
  srow?: number[][];
  magic?: string;
}

export function rawNifti(s: RawSpec): Buffer {
  const t = RAW_TYPES[s.datatype];
  const le = s.littleEndian;
  const hdrBytes = s.version === 1 ? 348 : 540;
  const voxOffset = s.voxOffset ?? hdrBytes + 4;
  const buf = Buffer.alloc(voxOffset + s.values.length * t.bytes);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dim = [s.shape.length, ...s.shape];
  while (dim.length < 8) dim.push(1);
  const pixdim = s.pixdim ?? [1, 1, 1, 1, 0, 0, 0, 0];
  const srow = s.srow ?? [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]];
  const quatern = s.quatern ?? [0, 0, 0, 0, 0, 0];
  if (s.version === 1) {
    v.setInt32(0, 348, le);
    dim.forEach((d, i) => v.setInt16(40 + 2 * i, d, le));
    v.setInt16(70, t.code, le);
    v.setInt16(72, t.bytes * 8, le);
    pixdim.forEach((p, i) => v.setFloat32(76 + 4 * i, p, le));
    v.setFloat32(108, voxOffset, le);
    v.setFloat32(112, s.slope ?? 0, le);
    v.setFloat32(116, s.inter ?? 0, le);
    v.setUint8(123, 10);
    v.setInt16(252, s.qformCode ?? 0, le);
    v.setInt16(254, s.sformCode ?? 0, le);
    quatern.forEach((q, i) => v.setFloat32(256 + 4 * i, q, le));
    srow.forEach((r, i) => r.forEach((x, j) => v.setFloat32(280 + 16 * i + 4 * j, x, le)));
    buf.write(s.magic ?? 'n+1\0', 344, 'latin1');
  } else {
    v.setInt32(0, 540, le);
    buf.write(s.magic ?? 'n+2\0\r\n\x1a\n', 4, 'latin1');
    v.setInt16(12, t.code, le);
    v.setInt16(14, t.bytes * 8, le);
    dim.forEach((d, i) => v.setBigInt64(16 + 8 * i, BigInt(d), le));
    pixdim.forEach((p, i) => v.setFloat64(104 + 8 * i, p, le));
    v.setBigInt64(168, BigInt(voxOffset), le);
    v.setFloat64(176, s.slope ?? 0, le);
    v.setFloat64(184, s.inter ?? 0, le);
    v.setInt32(344, s.qformCode ?? 0, le);
    v.setInt32(348, s.sformCode ?? 0, le);
    quatern.forEach((q, i) => v.setFloat64(352 + 8 * i, q, le));
    srow.forEach((r, i) => r.forEach((x, j) => v.setFloat64(400 + 32 * i + 8 * j, x, le)));
    v.setInt32(500, 10, le);
  }
  s.values.forEach((x, n) => t.set(v, voxOffset + n * t.bytes, x, le));
  return buf;
}
