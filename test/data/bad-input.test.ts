/**
 * Every bad dataset input through the CLI: exit code 2, one line on stderr naming the folder,
 * and each problem (case, file, message) in the --json report. No stack traces.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync, rmSync, mkdirSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { runSegloss, tempDir } from '../helpers.js';
import { readNiftiSync, writeNiftiSync, withData, makeVolume } from '../../src/data/nifti.js';
import { diagonalAffine } from '../../src/data/geometry.js';

const root = tempDir('segloss-bad-');
const base = path.join(root, 'base');
const CASE = 'toyliver_001';

before(() => {
  const r = runSegloss(['--quiet', 'synth', '--task', 'toy-liver', '--cases', '3', '--out', base]);
  assert.equal(r.status, 0, r.stderr);
});

let counter = 0;
function copy(): string {
  counter += 1;
  const dir = path.join(root, `bad-${counter}`);
  cpSync(base, dir, { recursive: true });
  return dir;
}

const imageOf = (dir: string, id = CASE) => path.join(dir, 'imagesTr', `${id}.nii.gz`);
const labelOf = (dir: string, id = CASE) => path.join(dir, 'labelsTr', `${id}.nii.gz`);

/** Rewrite a .nii.gz with its uncompressed bytes changed by `mutate`. */
function mutateRaw(file: string, mutate: (raw: Buffer) => Buffer): void {
  writeFileSync(file, zlib.gzipSync(mutate(zlib.gunzipSync(readFileSync(file)))));
}

interface Report {
  cases: number;
  problems: { case: string; file: string; message: string }[];
}

function checkFails(dir: string): Report {
  const r = runSegloss(['--json', 'check', dir]);
  assert.equal(r.status, 2, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  assert.match(lines[0] as string, new RegExp(`^segloss: ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\d+ problem`));
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  return JSON.parse(r.stdout) as Report;
}

function expectProblem(report: Report, file: string, message: RegExp): void {
  const p = report.problems.find((q) => q.file === file);
  assert.ok(p !== undefined, `a problem for ${file}; got ${JSON.stringify(report.problems)}`);
  assert.match(p.message, message);
  assert.equal(p.case, path.basename(file).replace(/\.nii\.gz$/, ''));
}

test('the untouched synthetic dataset passes (exit 0, 3 valid cases)', () => {
  const r = runSegloss(['--json', 'check', base]);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as Report;
  assert.equal(report.cases, 3);
  assert.deepEqual(report.problems, []);
});

/**
 * One dataset with a different problem in each case, checked once: every problem is reported at
 * once, each naming its case and file, and only the clean case counts as valid.
 */
test('every bad NIfTI and dataset input is reported at once, naming case and file', () => {
  const dir = path.join(root, 'many');
  const r = runSegloss(['--quiet', 'synth', '--task', 'toy-liver', '--cases', '13', '--out', dir]);
  assert.equal(r.status, 0, r.stderr);
  const id = (n: number) => `toyliver_${String(n).padStart(3, '0')}`;
  const expected: [string, RegExp][] = [];

  // 1. truncated .nii.gz
  let f = imageOf(dir, id(1));
  const bytes = readFileSync(f);
  writeFileSync(f, bytes.subarray(0, bytes.length >> 1));
  expected.push([f, /corrupt or truncated gzip data/]);
  // 2. corrupt .nii.gz (damaged deflate stream)
  f = imageOf(dir, id(2));
  const damaged = Buffer.from(readFileSync(f));
  for (let n = 40; n < 80; n++) damaged[n] = (damaged[n] as number) ^ 0x5a;
  writeFileSync(f, damaged);
  expected.push([f, /corrupt or truncated gzip data/]);
  // 3. wrong magic string
  f = imageOf(dir, id(3));
  mutateRaw(f, (raw) => {
    raw.write('abc\0', 344, 'latin1');
    return raw;
  });
  expected.push([f, /wrong NIfTI-1 magic string "abc"/]);
  // 4. not a NIfTI file at all
  f = imageOf(dir, id(4));
  writeFileSync(f, zlib.gzipSync(Buffer.from('hello, this is not an image'.repeat(20))));
  expected.push([f, /not a NIfTI file/]);
  // 5./6. zero and negative dimensions
  f = imageOf(dir, id(5));
  mutateRaw(f, (raw) => {
    raw.writeInt16LE(0, 46); // dim[3] = 0
    return raw;
  });
  expected.push([f, /dimension 3 has size 0/]);
  f = labelOf(dir, id(6));
  mutateRaw(f, (raw) => {
    raw.writeInt16LE(-48, 42); // dim[1] = -48
    return raw;
  });
  expected.push([f, /dimension 1 has size -48/]);
  // 7./8. header data size does not match the file
  f = imageOf(dir, id(7));
  mutateRaw(f, (raw) => raw.subarray(0, raw.length - 100));
  expected.push([f, /header declares 32×32×16 int16 voxels .* file is truncated/]);
  f = imageOf(dir, id(8));
  mutateRaw(f, (raw) => Buffer.concat([raw, Buffer.alloc(10)]));
  expected.push([f, /file has extra data/]);
  // 9./10. mismatched image/label geometry: shape, spacing
  f = labelOf(dir, id(9));
  const v9 = readNiftiSync(f, { kind: 'label' });
  writeNiftiSync(f, withData(v9, new Uint8Array(32 * 32 * 15), [32, 32, 15]));
  expected.push([f, /label shape \[32, 32, 15\] does not match image shape \[32, 32, 16\]/]);
  f = labelOf(dir, id(10));
  const v10 = readNiftiSync(f, { kind: 'label' });
  writeNiftiSync(f, makeVolume(v10.data, v10.shape, diagonalAffine([0.8, 0.8, 3.0])));
  expected.push([f, /label spacing \[0\.8, 0\.8, 3\] mm does not match image spacing \[1\.2, 1\.2, 3\.75\] mm/]);
  // 11. undeclared label values
  f = labelOf(dir, id(11));
  const v11 = readNiftiSync(f, { kind: 'label' });
  const d11 = new Uint8Array(v11.data);
  d11[0] = 7;
  d11[1] = 3;
  writeNiftiSync(f, withData(v11, d11));
  expected.push([f, /label value\(s\) 3, 7 not declared in dataset\.json \(declared: 0, 1\)/]);
  // 12. NaN intensities
  f = imageOf(dir, id(12));
  const v12 = readNiftiSync(f);
  const d12 = new Float32Array(v12.data);
  d12[123] = NaN;
  writeNiftiSync(f, withData(v12, d12));
  expected.push([f, /intensity is NaN or infinite \(first at voxel 123\)/]);

  const report = checkFails(dir);
  for (const [file, message] of expected) expectProblem(report, file, message);
  assert.equal(report.problems.length, expected.length, JSON.stringify(report.problems, null, 1));
  assert.equal(report.cases, 1);
});

test('a label map shifted below 0 by scl_inter is read as nibabel reads it, and its −1 is reported as undeclared', () => {
  const dir = copy();
  // Labels {0, 1} with scl_slope 1, scl_inter −1 are {−1, 0}.
  const shifted = labelOf(dir);
  mutateRaw(shifted, (raw) => {
    raw.writeFloatLE(1, 112);
    raw.writeFloatLE(-1, 116);
    return raw;
  });
  const report = checkFails(dir);
  expectProblem(report, shifted, /^label value\(s\) -1 not declared in dataset\.json \(declared: 0, 1\)$/);
  assert.equal(report.problems.length, 1, JSON.stringify(report.problems));
  const table = runSegloss(['check', dir]);
  assert.equal(table.status, 2);
  assert.match(table.stdout, /toyliver_001 .*label value\(s\) -1 not declared/);
});

test('a gzip bomb image (a valid image followed by 1 GiB of gzip members of zeros) is a problem in the table, not a crash', () => {
  const dir = copy();
  const bomb = imageOf(dir);
  const zeros = zlib.gzipSync(Buffer.alloc(2 ** 20), { level: 9 });
  writeFileSync(bomb, Buffer.concat([zlib.gzipSync(zlib.gunzipSync(readFileSync(bomb))), ...Array.from({ length: 1024 }, () => zeros)]));
  const report = checkFails(dir);
  expectProblem(report, bomb, /^header declares 32×32×16 int16 voxels \(32768 bytes at offset 352\) but the file has extra data: more than 98304 bytes after the header \(not inflated further\)$/);
  assert.equal(report.problems.length, 1, JSON.stringify(report.problems));
  const table = runSegloss(['check', dir]);
  assert.equal(table.status, 2);
  assert.match(table.stdout, /toyliver_001 .*extra data: more than 98304 bytes/);
  assert.doesNotMatch(table.stderr, /\n\s+at /);
});

test('non-integer float labels and missing files', () => {
  const dir = copy();
  const f = labelOf(dir);
  const v = readNiftiSync(f, { kind: 'label' });
  const data = new Float32Array(v.data);
  data[5] = 0.5;
  writeNiftiSync(f, withData(v, data));
  rmSync(imageOf(dir, 'toyliver_002'));
  rmSync(labelOf(dir, 'toyliver_000'));
  const report = checkFails(dir);
  expectProblem(report, f, /label value 0\.5 at voxel 5 is not an integer/);
  expectProblem(report, imageOf(dir, 'toyliver_002'), /image file is missing/);
  expectProblem(report, labelOf(dir, 'toyliver_000'), /label file is missing/);
  assert.equal(report.cases, 0);
});

test('unreadable or invalid dataset.json', () => {
  const dir = copy();
  const file = path.join(dir, 'dataset.json');
  writeFileSync(file, '{"name": "broken", ');
  const r = runSegloss(['check', dir]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  assert.match(r.stderr, new RegExp(`^segloss: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: invalid JSON`));
  rmSync(file);
  const m = runSegloss(['check', dir]);
  assert.equal(m.status, 2);
  assert.match(m.stderr, /dataset\.json: missing/);
  const none = runSegloss(['check', path.join(root, 'does-not-exist')]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /does-not-exist: dataset folder does not exist/);
});

test('synth refuses to replace a folder that is not a synth dataset, and leaves it untouched', () => {
  const dir = path.join(root, 'precious');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'notes.txt'), 'keep me');
  const r = runSegloss(['synth', '--task', 'toy-liver', '--cases', '1', '--out', dir]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /refusing to replace/);
  assert.deepEqual(readdirSync(dir), ['notes.txt']);
  const u = runSegloss(['synth', '--task', 'liver', '--out', path.join(root, 'x')]);
  assert.equal(u.status, 2);
  assert.match(u.stderr, /real dataset, not a toy task/);
});
