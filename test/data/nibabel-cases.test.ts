/**
 * Geometry and scaling edge cases against nibabel 5. test/fixtures/data/make_nibabel_header_cases.py
 * crafted each header byte by byte and recorded what nibabel.load() gives
 * (nibabel_header_cases.json). segloss must read each file as nibabel
 * does (shape, spacing = zooms, affine, values), and refuse with a one-line InputError exactly
 * where nibabel raises or would give a non-finite affine, spacing or float32 value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { readNifti, readNiftiSync, readNiftiHeaderSync } from '../../src/data/nifti.js';
import type { Volume } from '../../src/data/volume.js';
import { InputError } from '../../src/util/errors.js';
import { tempDir, REPO_ROOT } from '../helpers.js';

type Json = number | string;
interface NibabelRead {
  error?: string;
  shape?: number[];
  zooms?: Json[];
  affine?: Json[][];
  values?: Json[];
}
interface Case {
  kind: 'image' | 'label';
  base64: string;
  nibabel: NibabelRead;
}

const REFERENCE = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'data', 'nibabel_header_cases.json'), 'utf8')) as { generator: string; cases: Record<string, Case> };
const dir = tempDir('segloss-nibabel-cases-');
const FLOAT32_MAX = 3.4028234663852886e38;

/** JSON stores NaN/±inf as strings. */
const num = (x: Json): number => (typeof x === 'number' ? x : x === 'nan' ? NaN : x === 'inf' ? Infinity : x === '-inf' ? -Infinity : Number(x));

/**
 * Where segloss refuses, the message it gives. Every nibabel error is here, plus what nibabel
 * returns non-finite (NaN affine, NaN zooms, values beyond float32), plus two deliberate
 * differences: a fractional vox_offset (nibabel truncates it) and a label that is not an integer.
 */
const REFUSED: Record<string, RegExp> = {
  'base-nan-pixdim': /: pixdim\[1\] \(the voxel size along axis 1\) is NaN; it must be a finite number$/,
  'base-inf-pixdim': /: pixdim\[2\] \(the voxel size along axis 2\) is Infinity; it must be a finite number$/,
  'sform-nan': /: the sform \(sform_code 1\) has non-finite entries: srow_x \[NaN, 0, 0, 1\], srow_y \[0, 2, 0, 1\], srow_z \[0, 0, 2, 1\]; the voxel-to-world affine must be finite$/,
  'sform-with-nan-pixdim': /: pixdim\[2\] \(the voxel size along axis 2\) is NaN/,
  'qform-quaternion-not-a-rotation': /: qform quaternion \(b, c, d\) = \(0\.6, 0\.6, 0\.6\) is not a rotation: b² \+ c² \+ d² = 1\.08 exceeds 1 \(nibabel refuses it too\)$/,
  'qform-quaternion-nan': /: the qform \(qform_code 1\) is not finite: quatern \(b, c, d\) = \(NaN, 0, 0\)/,
  'qform-offset-inf': /: the qform \(qform_code 1\) is not finite: .*qoffset = \(Infinity, 0, 0\)/,
  'nifti2-eol-check-damaged': /: NIfTI-2 end-of-line check bytes are "\\n\\n\\x1a\\n" \(expected "\\r\\n\\x1a\\n"\)/,
  'nifti2-quaternion-not-a-rotation': /: qform quaternion \(b, c, d\) = \(1\.0000001, 0, 0\) is not a rotation/,
  'scale-inter-nan': /: scl_inter is NaN with scl_slope 2: the scaled values would not be numbers \(nibabel refuses this too\)$/,
  'scale-inter-inf': /: scl_inter is -Infinity with scl_slope 2/,
  'scale-slope-1e38-overflows-float32': /: scaled value 4 · scl_slope 1e\+38 \+ scl_inter 0 = 4e\+38 at voxel 4 does not fit in float32/,
  'scale-nifti2-float64-slope-1e300': /: scaled value 1 · scl_slope 1e\+300 \+ scl_inter 0 = 1e\+300 at voxel 1 does not fit in float32/,
  'vox-offset-100-too-low': /: invalid vox_offset 100 \(must be an integer from 352 to 1073741824\)$/,
  'vox-offset-352-5-fractional': /: invalid vox_offset 352\.5 \(must be an integer/,
  'label-int16-slope-half': /: label value 0\.5 at voxel 3 is not an integer \(more than 1e-3 from one; stored 1 · scl_slope 0\.5 \+ scl_inter 0\)$/,
};

/** Refusals that are header problems (the header-only reader refuses them too). */
const HEADER_PROBLEMS = Object.keys(REFUSED).filter((name) => !name.startsWith('scale-slope-1e38') && !name.startsWith('scale-nifti2-float64') && !name.startsWith('label-'));

function expectRefusal(file: string, err: unknown, message: RegExp): void {
  assert.ok(err instanceof InputError, `${file}: expected an InputError, got ${String(err)}`);
  assert.equal(err.exitCode, 2);
  assert.ok(err.message.startsWith(`${file}: `), err.message);
  assert.doesNotMatch(err.message, /\n/);
  assert.match(err.message, message);
}

function compareWithNibabel(name: string, c: Case, v: Volume): void {
  const nib = c.nibabel;
  const shape = nib.shape as number[];
  // segloss's shape is [ni, nj, nk] (+ channels); nibabel's has the file's rank.
  const expectedShape = shape.length < 3 ? [...shape, 1, 1].slice(0, 3) : shape.length === 3 ? shape : [shape[0], shape[1], shape[2], shape.slice(3).reduce((a, b) => a * b, 1)];
  assert.deepEqual(v.shape, expectedShape, `${name} shape`);
  const zooms = (nib.zooms as Json[]).map(num);
  while (zooms.length < 3) zooms.push(1); // axes the file does not have (nibabel's base affine pads them with 1)
  zooms.forEach((z, d) => assert.ok(Math.abs(v.spacingMm[d]! - z) <= 1e-6 * z, `${name} spacing[${d}] ${v.spacingMm[d]} vs nibabel ${z}`));
  (nib.affine as Json[][]).forEach((row, i) =>
    row.forEach((x, j) => {
      const expected = num(x);
      // segloss keeps NIfTI-1 floats as their shortest decimal (0.8 for float32 0.800000011920929).
      assert.ok(Math.abs(v.affine[i]![j]! - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `${name} affine[${i}][${j}] ${v.affine[i]![j]} vs nibabel ${expected}`);
    }),
  );
  const values = (nib.values as Json[]).map(num);
  assert.equal(v.data.length, values.length, `${name} voxel count`);
  if (c.kind === 'label') {
    assert.deepEqual(Array.from(v.data), values.map((x) => Math.round(x)), `${name} labels`);
    assert.ok(values.every((x) => x >= 0 && x <= 255) === v.data instanceof Uint8Array, `${name}: Uint8Array exactly when every label is in 0..255`);
  } else {
    // nibabel scales in float64; segloss in float64 too, rounded once to float32.
    assert.ok(v.data instanceof Float32Array);
    assert.deepEqual(Array.from(v.data), values.map((x) => Math.fround(x)), `${name} values`);
  }
}

test(`reference cases were generated by nibabel 5 (${REFERENCE.generator})`, () => {
  assert.match(REFERENCE.generator, /nibabel 5\./);
  const names = Object.keys(REFERENCE.cases);
  assert.ok(names.length >= 45, `${names.length} cases`);
  for (const name of Object.keys(REFUSED)) assert.ok(names.includes(name), `${name} is a reference case`);
  // Every nibabel refusal is a segloss refusal; so is every non-finite nibabel result.
  for (const [name, c] of Object.entries(REFERENCE.cases)) {
    const n = c.nibabel;
    const nonFinite = n.error === undefined && [...(n.affine ?? []).flat(), ...(n.zooms ?? [])].some((x) => !Number.isFinite(num(x)));
    const overflows = n.error === undefined && c.kind === 'image' && (n.values ?? []).some((x) => Math.abs(num(x)) > FLOAT32_MAX);
    if (n.error !== undefined || nonFinite || overflows) assert.ok(name in REFUSED, `${name}: nibabel gives ${n.error ?? 'non-finite values'}, segloss must refuse it`);
  }
});

for (const [name, c] of Object.entries(REFERENCE.cases)) {
  test(`nibabel case ${name}: ${name in REFUSED ? 'refused' : 'read as nibabel reads it'} (.nii and .nii.gz, sync and async)`, async () => {
    const raw = Buffer.from(c.base64, 'base64');
    for (const gz of [false, true]) {
      const file = path.join(dir, `${name}${gz ? '.nii.gz' : '.nii'}`);
      writeFileSync(file, gz ? zlib.gzipSync(raw) : raw);
      const refusal = REFUSED[name];
      if (refusal !== undefined) {
        assert.throws(() => readNiftiSync(file, { kind: c.kind }), (err: unknown) => (expectRefusal(file, err, refusal), true));
        await assert.rejects(readNifti(file, { kind: c.kind }), (err: unknown) => (expectRefusal(file, err, refusal), true));
        if (HEADER_PROBLEMS.includes(name)) assert.throws(() => readNiftiHeaderSync(file), (err: unknown) => (expectRefusal(file, err, refusal), true));
        continue;
      }
      compareWithNibabel(name, c, readNiftiSync(file, { kind: c.kind }));
      compareWithNibabel(name, c, await readNifti(file, { kind: c.kind }));
      assert.equal(readNiftiHeaderSync(file).dim[0], (c.nibabel.shape as number[]).length);
    }
  });
}
