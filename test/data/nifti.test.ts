import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as niftiReader from 'nifti-reader-js';
import { readNifti, readNiftiSync, writeNifti, writeNiftiSync, makeVolume, withData, channelOf, shortestFloat32 } from '../../src/data/nifti.js';
import { qformAffine, affineToQuatern, orientationCode, diagonalAffine } from '../../src/data/geometry.js';
import type { Affine } from '../../src/data/volume.js';
import { InputError } from '../../src/util/errors.js';
import { tempDir, REPO_ROOT } from '../helpers.js';
import { rawNifti, RAW_TYPES, type RawDatatype } from './raw-nifti.js';

const dir = tempDir('segloss-nifti-');
const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'data');

/** Values exercising each datatype's range (extremes included). */
const VALUES: Record<RawDatatype, number[]> = {
  uint8: [0, 1, 2, 127, 128, 254, 255, 17, 3, 9, 100, 200],
  int8: [-128, -1, 0, 1, 127, 5, -7, 100, -100, 3, 2, 1],
  int16: [-32768, -1024, -1, 0, 1, 3071, 32767, 12, -12, 500, 7, 8],
  uint16: [0, 1, 65535, 1000, 40000, 2, 3, 4, 5, 6, 7, 8],
  int32: [-2147483648, -1, 0, 1, 2147483647, 100000, -100000, 5, 6, 7, 8, 9],
  uint32: [0, 1, 4294967295, 3000000000, 5, 6, 7, 8, 9, 10, 11, 12],
  float32: [-1000.5, 0, 1.25, 3.4e38, -3.4e38, 1e-30, 7, 8, 9, 10, 11, 0.1],
  float64: [-1000.5, 0, 1.25, 1e300, -1e-300, Math.PI, 7, 8, 9, 10, 11, 0.1],
};
const SHAPE = [3, 2, 2];

for (const version of [1, 2] as const) {
  for (const littleEndian of [true, false]) {
    for (const datatype of Object.keys(RAW_TYPES) as RawDatatype[]) {
      for (const gz of [false, true]) {
        const name = `v${version}-${littleEndian ? 'le' : 'be'}-${datatype}${gz ? '.nii.gz' : '.nii'}`;
        test(`reads NIfTI-${version} ${littleEndian ? 'little' : 'big'}-endian ${datatype} ${gz ? '.nii.gz' : '.nii'}`, async () => {
          const raw = rawNifti({ version, littleEndian, datatype, shape: SHAPE, values: VALUES[datatype], pixdim: [1, 0.75, 0.8, 2.5, 0, 0, 0, 0] });
          const file = path.join(dir, name);
          writeFileSync(file, gz ? zlib.gzipSync(raw) : raw);
          const v = await readNifti(file);
          assert.deepEqual(v.shape, SHAPE);
          assert.deepEqual(v.spacingMm, [0.75, 0.8, 2.5]);
          assert.ok(v.data instanceof Float32Array);
          const expected = VALUES[datatype].map((x) => Math.fround(x));
          assert.deepEqual(Array.from(v.data), expected);
          // nifti-reader-js (an independent parser) agrees on the header.
          const plain = new Uint8Array(raw).slice().buffer;
          const h = niftiReader.readHeader(plain);
          assert.equal(h.datatypeCode, RAW_TYPES[datatype].code);
          assert.deepEqual(h.dims.slice(0, 4).map(Number), [3, ...SHAPE]);
          assert.equal(h.littleEndian, littleEndian);
          // The sync reader gives the same result.
          assert.deepEqual(Array.from(readNiftiSync(file).data), expected);
        });
      }
    }
  }
}

test('scl_slope/scl_inter are applied to images and labels alike (slope 0 means none); a non-integer scaled label is refused', () => {
  const values = [0, 1, 2, 3, -4, 100];
  const scaled = path.join(dir, 'scaled.nii');
  writeFileSync(scaled, rawNifti({ version: 1, littleEndian: true, datatype: 'int16', shape: [6, 1, 1], values, slope: 0.5, inter: -10 }));
  assert.deepEqual(Array.from(readNiftiSync(scaled).data), values.map((x) => x * 0.5 - 10));
  assert.throws(() => readNiftiSync(scaled, { kind: 'label' }), (e: unknown) => e instanceof InputError && e.message === `${scaled}: label value -9.5 at voxel 1 is not an integer (more than 1e-3 from one; stored 1 · scl_slope 0.5 + scl_inter -10)`);
  // A label map stored as int16 {0, 1, 2} with scl_inter −1 holds {−1, 0, 1} (as nibabel reads it).
  const shifted = path.join(dir, 'shifted-labels.nii.gz');
  writeFileSync(shifted, zlib.gzipSync(rawNifti({ version: 2, littleEndian: false, datatype: 'int16', shape: [5, 1, 1], values: [0, 1, 2, 1, 0], slope: 1, inter: -1 })));
  const l = readNiftiSync(shifted, { kind: 'label' });
  assert.ok(l.data instanceof Int32Array);
  assert.deepEqual(Array.from(l.data), [-1, 0, 1, 0, -1]);
  const zero = path.join(dir, 'slope0.nii');
  writeFileSync(zero, rawNifti({ version: 2, littleEndian: false, datatype: 'int16', shape: [6, 1, 1], values, slope: 0, inter: 55 }));
  assert.deepEqual(Array.from(readNiftiSync(zero).data), values);
  assert.deepEqual(Array.from(readNiftiSync(zero, { kind: 'label' }).data), values);
});

test('float labels are rounded (within 1e-3) into Uint8Array, or Int32Array beyond 255', () => {
  const f = path.join(dir, 'flabels.nii.gz');
  writeFileSync(f, zlib.gzipSync(rawNifti({ version: 1, littleEndian: true, datatype: 'float32', shape: [4, 1, 1], values: [0, 0.9995, 2.0004, 1] })));
  const l = readNiftiSync(f, { kind: 'label' });
  assert.ok(l.data instanceof Uint8Array);
  assert.deepEqual(Array.from(l.data), [0, 1, 2, 1]);
  const big = path.join(dir, 'biglabels.nii');
  writeFileSync(big, rawNifti({ version: 1, littleEndian: false, datatype: 'int16', shape: [3, 1, 1], values: [0, 300, 2] }));
  const b = readNiftiSync(big, { kind: 'label' });
  assert.ok(b.data instanceof Int32Array);
  assert.deepEqual(Array.from(b.data), [0, 300, 2]);
  const bad = path.join(dir, 'badlabels.nii');
  writeFileSync(bad, rawNifti({ version: 1, littleEndian: true, datatype: 'float64', shape: [3, 1, 1], values: [0, 1.5, 2] }));
  assert.throws(() => readNiftiSync(bad, { kind: 'label' }), (e: unknown) => e instanceof InputError && /badlabels\.nii: label value 1\.5 at voxel 1 is not an integer/.test(e.message));
});

test('a misaligned vox_offset is read correctly', () => {
  const f = path.join(dir, 'misaligned.nii');
  writeFileSync(f, rawNifti({ version: 1, littleEndian: true, datatype: 'float64', shape: [2, 2, 1], values: [1.5, -2.25, 3, 4], voxOffset: 355 }));
  assert.deepEqual(Array.from(readNiftiSync(f).data), [1.5, -2.25, 3, 4]);
});

test('round trip: every datatype written and read back bit-identically, .nii and .nii.gz; rewriting gives identical bytes', async () => {
  const affine: Affine = [[-0.7, 0.1, 0, 12], [0.1, 0.7, 0, -3], [0, 0, 2.5, 40], [0, 0, 0, 1]];
  const arrays = [
    new Uint8Array([0, 1, 255, 7, 8, 9]),
    new Int8Array([-128, 127, 0, 1, 2, 3]),
    new Int16Array([-32768, 32767, 0, -1024, 3071, 5]),
    new Uint16Array([0, 65535, 1, 2, 3, 4]),
    new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0, 1, 2, 3]),
    new Uint32Array([0, 2 ** 32 - 1, 1, 2, 3, 4]),
    new Float32Array([-1000.5, NaN, Infinity, 1e-38, 0.1, -0]),
    new Float64Array([Math.PI, -1e300, 5e-324, 0.1, 2, 3]),
  ];
  for (const data of arrays) {
    for (const ext of ['.nii', '.nii.gz']) {
      const file = path.join(dir, `rt-${data.constructor.name}${ext}`);
      const vol = makeVolume(data, [3, 2, 1], affine);
      await writeNifti(file, vol);
      // Read raw stored values back through a label-free path: images become float32, so compare
      // via a re-read of the stored bytes with the same datatype.
      const back = readNiftiSync(file);
      const bytes = ext === '.nii' ? readFileSync(file) : zlib.gunzipSync(readFileSync(file));
      const stored = bytes.subarray(352);
      assert.equal(Buffer.compare(stored, Buffer.from(data.buffer, data.byteOffset, data.byteLength)), 0, `${file}: stored bytes differ`);
      assert.deepEqual(back.shape, [3, 2, 1]);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) assert.ok(Math.abs((back.affine[i]![j]! - affine[i]![j]!)) < 1e-6);
      // Write what we read (float32 image) with the original datatype: same bytes on disk.
      const again = path.join(dir, `rt2-${data.constructor.name}${ext}`);
      if (!(data instanceof Float64Array)) {
        const dt: string = ({ Uint8Array: 'uint8', Int8Array: 'int8', Int16Array: 'int16', Uint16Array: 'uint16', Int32Array: 'int32', Uint32Array: 'uint32', Float32Array: 'float32' } as const)[data.constructor.name as 'Uint8Array'];
        if (dt !== 'int32' && dt !== 'uint32') {
          await writeNifti(again, back, { datatype: dt as 'uint8' });
          assert.equal(Buffer.compare(readFileSync(again), readFileSync(file)), 0, `${again}: rewrite differs`);
        }
      }
    }
  }
  // A float32 image read and written again is bit-identical too (NaN, ∞, −0 included).
  const f = path.join(dir, 'rt-Float32Array.nii.gz');
  const v = readNiftiSync(f);
  writeNiftiSync(path.join(dir, 'rt3.nii.gz'), v);
  assert.equal(Buffer.compare(readFileSync(path.join(dir, 'rt3.nii.gz')), readFileSync(f)), 0);
});

test('reading a file and writing it back keeps its header geometry exactly (qform-only, scanner codes)', () => {
  const src = path.join(dir, 'qonly.nii');
  writeFileSync(src, rawNifti({ version: 1, littleEndian: false, datatype: 'int16', shape: [2, 2, 2], values: [1, 2, 3, 4, 5, 6, 7, 8], pixdim: [-1, 0.9, 0.8, 3, 0, 0, 0, 0], qformCode: 2, sformCode: 0, quatern: [0.1, -0.2, 0.3, 5, 6, 7] }));
  const v = readNiftiSync(src);
  const out = path.join(dir, 'qonly-out.nii');
  writeNiftiSync(out, v, { datatype: 'int16' });
  const w = readNiftiSync(out);
  assert.deepEqual(w.geometry, v.geometry);
  assert.deepEqual(w.affine, v.affine);
  assert.deepEqual(Array.from(w.data), [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('quaternion ↔ affine: nifti1.h formulas invert each other, including left-handed grids (qfac −1)', () => {
  for (const [b, c, d, qfac] of [[0, 0, 0, 1], [0.1, -0.2, 0.3, -1], [0.9, 0.1, -0.2, 1], [0, 0, 1, -1], [0.5, 0.5, 0.5, 1]] as const) {
    const pixdim = [qfac, 0.8, 0.9, 2.5, 0, 0, 0, 0];
    const a = qformAffine([b, c, d, 1, 2, 3], pixdim);
    const q = affineToQuatern(a);
    const a2 = qformAffine(q.quatern, [q.qfac, ...q.spacingMm, 0, 0, 0, 0]);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) assert.ok(Math.abs(a[i]![j]! - a2[i]![j]!) < 1e-9, `${b},${c},${d}`);
    assert.ok(Math.abs(q.spacingMm[0] - 0.8) < 1e-12 && Math.abs(q.spacingMm[2] - 2.5) < 1e-12);
  }
  assert.equal(orientationCode(diagonalAffine([1, 1, 1])), 'RAS');
  assert.equal(orientationCode([[-0.8, 0, 0, 0], [0, -0.8, 0, 0], [0, 0, 2.5, 0], [0, 0, 0, 1]]), 'LPS');
  assert.equal(orientationCode([[0, 0, 1, 0], [-1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]]), 'PSR');
  assert.equal(shortestFloat32(Math.fround(0.8)), 0.8);
});

test('files written by nibabel read as nibabel reads them (big-endian scaled int16, NIfTI-2 float64 sform, 4D uint16)', () => {
  const ref = JSON.parse(readFileSync(path.join(FIXTURES, 'nibabel_reference.json'), 'utf8')) as { files: Record<string, { shape: number[]; zooms: number[]; affine: number[][]; values: number[] }> };
  for (const [name, r] of Object.entries(ref.files)) {
    const v = readNiftiSync(path.join(FIXTURES, name));
    assert.deepEqual(v.shape, r.shape, name);
    r.zooms.forEach((z, d) => assert.ok(Math.abs(v.spacingMm[d]! - z) < 1e-6, `${name} spacing`));
    r.affine.forEach((row, i) => row.forEach((x, j) => assert.ok(Math.abs(v.affine[i]![j]! - x) < 1e-5 * Math.max(1, Math.abs(x)), `${name} affine[${i}][${j}] ${v.affine[i]![j]} vs ${x}`)));
    assert.equal(v.data.length, r.values.length);
    // nibabel computes in float64; segloss returns float32.
    r.values.forEach((x, n) => assert.ok(Math.abs(v.data[n]! - x) <= 1e-6 * Math.max(1, Math.abs(x)), `${name} value ${n}: ${v.data[n]} vs ${x}`));
  }
});

test('withData keeps the grid; channelOf views one channel of a 4D volume', () => {
  const v4 = readNiftiSync(path.join(FIXTURES, 'nib_uint16_4d.nii.gz'));
  assert.deepEqual(v4.shape, [3, 2, 2, 2]);
  const c1 = channelOf(v4, 1);
  assert.deepEqual(c1.shape, [3, 2, 2]);
  assert.deepEqual(Array.from(c1.data), Array.from(v4.data.slice(12, 24)));
  const lab = withData(v4, new Uint8Array(12));
  assert.deepEqual(lab.shape, [3, 2, 2]);
  assert.deepEqual(lab.affine, v4.affine);
  assert.notEqual(lab.affine, v4.affine);
});

test('a derived volume with a new affine (a crop) is written with a consistent qform and sform', () => {
  const v = makeVolume(new Int16Array(8), [2, 2, 2], diagonalAffine([0.8, 0.8, 2.5], [-10, -10, -20]));
  const cropped = { ...withData(v, new Int16Array(8)), affine: diagonalAffine([0.8, 0.8, 2.5], [-9.2, -10, -20]) };
  const file = path.join(dir, 'crop.nii');
  writeNiftiSync(file, cropped);
  const back = readNiftiSync(file);
  assert.deepEqual(back.affine, cropped.affine);
  assert.deepEqual(qformAffine(back.geometry.quatern, back.geometry.pixdim).map((r) => r.map((x) => Number(x.toFixed(5)))), cropped.affine);
});

test('vox_offset 0 (old single-file writers) means data right after the header', () => {
  const f = path.join(dir, 'offset0.nii');
  const raw = rawNifti({ version: 1, littleEndian: true, datatype: 'int16', shape: [2, 1, 1], values: [7, -7] });
  raw.writeFloatLE(0, 108);
  writeFileSync(f, raw);
  assert.deepEqual(Array.from(readNiftiSync(f).data), [7, -7]);
});

test('a failed write leaves neither the target nor a temporary file behind', async () => {
  const sub = path.join(dir, 'failed-write');
  const target = path.join(sub, 'out.nii.gz');
  const v = makeVolume(new Float32Array([1, 2, 70000]), [3, 1, 1], diagonalAffine([1, 1, 1]));
  await assert.rejects(writeNifti(target, v, { datatype: 'int16' }), /value 70000 at voxel 2 cannot be stored as int16/);
  const { existsSync, readdirSync } = await import('node:fs');
  assert.ok(!existsSync(target));
  assert.deepEqual(existsSync(sub) ? readdirSync(sub) : [], []);
  assert.throws(() => writeNiftiSync(path.join(dir, 'bad.img'), v), /must end in \.nii or \.nii\.gz/);
});
