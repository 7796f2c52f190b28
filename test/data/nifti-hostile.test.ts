/**
 * The NIfTI reader against hostile or careless input: gzip decompression bombs and appended gzip
 * members are refused with bounded memory, a volume too large for the memory available is a
 * one-line message saying how large it is, legitimate multi-member gzip (bgzip) and long gzip
 * headers read, and echoed header bytes are escaped.
 *
 * Memory is measured in child processes (peak RSS, VmHWM, of a fresh address space), never by
 * wall time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, writeFileSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { readNifti, readNiftiSync, readNiftiHeaderSync } from '../../src/data/nifti.js';
import { InputError } from '../../src/util/errors.js';
import { tempDir, REPO_ROOT } from '../helpers.js';
import { rawNifti } from './raw-nifti.js';

const dir = tempDir('segloss-nifti-hostile-');
const READER = path.join(REPO_ROOT, 'dist', 'src', 'data', 'nifti.js');
const MIB = 2 ** 20;

/** A small valid image: 8×6×4 int16, values n − 50. */
const VALUES = Array.from({ length: 8 * 6 * 4 }, (_, n) => n - 50);
const SMALL = rawNifti({ version: 1, littleEndian: true, datatype: 'int16', shape: [8, 6, 4], values: VALUES, pixdim: [1, 0.8, 0.8, 2.5, 0, 0, 0, 0] });

/** One gzip member of `mib` MiB of zeros (about 1 KiB each: deflate's ratio on zeros is near its 1032:1 maximum). */
function zeroMembers(count: number, mib = 1): Buffer {
  const member = zlib.gzipSync(Buffer.alloc(mib * MIB), { level: 9 });
  return Buffer.concat(Array.from({ length: count }, () => member));
}

interface ChildRead {
  syncError: string | null;
  asyncError: string | null;
  syncValues: number | null;
  baseKb: number;
  peakKb: number;
}

/**
 * Read `file` with readNiftiSync and readNifti in a fresh node process (optionally under
 * `ulimit -v`), reporting the error messages and the peak RSS before and after.
 */
function readInChild(file: string, options: { ulimitKb?: number; kind?: 'image' | 'label' } = {}): ChildRead {
  const script = `
    import { readFileSync } from 'node:fs';
    import { readNifti, readNiftiSync } from ${JSON.stringify(READER)};
    const hwm = () => Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
    const file = process.argv[1];
    const options = { kind: ${JSON.stringify(options.kind ?? 'image')} };
    const out = { syncError: null, asyncError: null, syncValues: null, baseKb: hwm(), peakKb: 0 };
    try { out.syncValues = readNiftiSync(file, options).data.length; } catch (e) { out.syncError = e.constructor.name + ': ' + e.message; }
    try { await readNifti(file, options); } catch (e) { out.asyncError = e.constructor.name + ': ' + e.message; }
    out.peakKb = hwm();
    console.log(JSON.stringify(out));`;
  const node = [process.execPath, '--input-type=module', '-e', script, file].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const command = options.ulimitKb === undefined ? `exec ${node}` : `ulimit -v ${options.ulimitKb} && exec ${node}`;
  // MALLOC_ARENA_MAX: glibc reserves 64 MiB of address space per thread arena, which would make
  // the virtual-memory limit depend on how many threads libuv has started.
  const r = spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8', env: { ...process.env, MALLOC_ARENA_MAX: '2' }, timeout: 120_000 });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  assert.equal(r.stderr, '', 'no warnings or stack traces');
  return JSON.parse(r.stdout.trim()) as ChildRead;
}

/** The child's address-space size after loading the reader and starting libuv's thread pool. */
function childBaselineKb(): number {
  const script = `
    import { readFileSync, promises as fsp } from 'node:fs';
    await import(${JSON.stringify(READER)});
    await fsp.stat('/');
    await new Promise((resolve) => setTimeout(resolve, 50));
    console.log(/VmSize:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, MALLOC_ARENA_MAX: '2' } });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

function expectInputError(file: string, message: RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof InputError, String(err));
    assert.ok(err.message.startsWith(`${file}: `), err.message);
    assert.doesNotMatch(err.message, /[\n\r\u0085\u2028\u2029]/);
    assert.match(err.message, message);
    return true;
  };
}

test('a gzip bomb (valid image followed by 3 GiB of gzip members of zeros) is refused with bounded memory, sync and async', () => {
  const file = path.join(dir, 'bomb.nii.gz');
  const bomb = Buffer.concat([zlib.gzipSync(SMALL), zeroMembers(3000)]);
  writeFileSync(file, bomb);
  assert.ok(bomb.length < 4 * MIB, `${bomb.length} bytes on disk`);
  const r = readInChild(file);
  const expected = `InputError: ${file}: header declares 8×6×4 int16 voxels (384 bytes at offset 352) but the file has extra data: more than ${384 + 65536} bytes after the header (not inflated further)`;
  assert.equal(r.syncError, expected);
  assert.equal(r.asyncError, expected);
  // The bomb inflates to 3 GiB (the reader used to take 3.2 GB); a bounded read needs a few MiB:
  // the 3.1 MB file, a header probe of at most 4 MiB and the declared size plus 64 KiB.
  const growthMb = (r.peakKb - r.baseKb) / 1024;
  assert.ok(growthMb < 48, `peak RSS grew by ${growthMb.toFixed(1)} MiB`);
  console.log(`# bomb: ${bomb.length} bytes, peak RSS grew by ${growthMb.toFixed(1)} MiB`);
});

test('extra data after the declared voxels: exact size when small, refused without inflating when large; trailing zero padding after the gzip stream is ignored', async () => {
  const small = path.join(dir, 'extra-small.nii.gz');
  writeFileSync(small, Buffer.concat([zlib.gzipSync(SMALL), zlib.gzipSync(Buffer.alloc(10))]));
  const exact = /header declares 8×6×4 int16 voxels \(384 bytes at offset 352\) but the file has extra data: 394 bytes after the header$/;
  assert.throws(() => readNiftiSync(small), expectInputError(small, exact));
  await assert.rejects(readNifti(small), expectInputError(small, exact));
  const large = path.join(dir, 'extra-member.nii.gz');
  writeFileSync(large, Buffer.concat([zlib.gzipSync(SMALL), zeroMembers(1)]));
  assert.throws(() => readNiftiSync(large), expectInputError(large, /extra data: more than 65920 bytes after the header \(not inflated further\)$/));
  // Zero bytes after the last member (block-device padding) are not gzip data; zlib ignores them as gzip(1) does.
  const padded = path.join(dir, 'padded.nii.gz');
  writeFileSync(padded, Buffer.concat([zlib.gzipSync(SMALL), Buffer.alloc(512)]));
  assert.deepEqual(Array.from(readNiftiSync(padded).data), VALUES);
  // Cut short: the declared voxels are missing.
  const cut = path.join(dir, 'cut.nii.gz');
  writeFileSync(cut, zlib.gzipSync(SMALL.subarray(0, 500)));
  assert.throws(() => readNiftiSync(cut), expectInputError(cut, /but the file is truncated: 148 bytes after the header$/));
  // A plain file with extra bytes: the size is checked before the voxels are read.
  const plain = path.join(dir, 'extra.nii');
  writeFileSync(plain, Buffer.concat([SMALL, Buffer.alloc(3)]));
  await assert.rejects(readNifti(plain), expectInputError(plain, /but the file has extra data: 387 bytes after the header$/));
});

test('multi-member gzip (bgzip: the file split across members, an empty end-of-file member) and a long gzip header read normally', async () => {
  const bgzip = path.join(dir, 'bgzip.nii.gz');
  const parts = [SMALL.subarray(0, 100), SMALL.subarray(100, 400), SMALL.subarray(400)];
  writeFileSync(bgzip, Buffer.concat([...parts.map((p) => zlib.gzipSync(p)), zlib.gzipSync(Buffer.alloc(0))]));
  assert.deepEqual(Array.from(readNiftiSync(bgzip).data), VALUES);
  assert.deepEqual(Array.from((await readNifti(bgzip)).data), VALUES);
  // FEXTRA (RFC 1952) of 60000 bytes + FNAME: the header probe reads past them.
  const plain = zlib.gzipSync(SMALL);
  const extra = Buffer.alloc(2 + 60000, 7);
  extra.writeUInt16LE(60000, 0);
  const head = Buffer.from(plain.subarray(0, 10));
  head[3] = 0x04 | 0x08; // FEXTRA | FNAME
  const long = path.join(dir, 'long-gzip-header.nii.gz');
  writeFileSync(long, Buffer.concat([head, extra, Buffer.from('a-very-long-original-name.nii\0', 'latin1'), plain.subarray(10)]));
  assert.deepEqual(Array.from(readNiftiSync(long).data), VALUES);
  assert.deepEqual(readNiftiHeaderSync(long).dim.slice(0, 4), [3, 8, 6, 4]);
});

test('a header declaring more than the gzip data can hold is refused before inflating (deflate expands at most 1032:1)', () => {
  const file = path.join(dir, 'lying-dims.nii.gz');
  const lying = Buffer.from(SMALL);
  lying.writeInt16LE(30000, 42); // dim[1] 8 → 30000: 30000×6×4 int16 = 1440000 bytes, from a ~400-byte gzip file
  writeFileSync(file, zlib.gzipSync(lying));
  const size = zlib.gzipSync(lying).length;
  assert.throws(() => readNiftiSync(file), expectInputError(file, new RegExp(`header declares 30000×6×4 int16 voxels \\(1440000 bytes at offset 352\\) but the file is truncated: ${size} bytes of gzip hold at most ${size * 1032} bytes`)));
});

test('a volume too large for the memory available is a one-line message saying how large it is (plain and gzip, sync and async)', () => {
  // 1024×1024×1000 int16 = 2000 MiB of voxels: a sparse plain file, and a gzip file holding the
  // same voxels (zeros) as 2000 members of 1 MiB; the child may use 768 MiB more than it needs
  // to start, so the read cannot allocate the voxels.
  const header = rawNifti({ version: 1, littleEndian: true, datatype: 'int16', shape: [1024, 1024, 1000], values: [] });
  const plain = path.join(dir, 'huge.nii');
  const fd = openSync(plain, 'w');
  writeSync(fd, header);
  ftruncateSync(fd, 352 + 2000 * MIB);
  closeSync(fd);
  const gz = path.join(dir, 'huge.nii.gz');
  writeFileSync(gz, Buffer.concat([zlib.gzipSync(header), zeroMembers(2000)]));
  const limitKb = childBaselineKb() + 768 * 1024;
  for (const file of [plain, gz]) {
    const r = readInChild(file, { ulimitKb: limitKb });
    const expected = `InputError: ${file}: needs 5.9 GiB for 1024×1024×1000 int16 voxels (2.0 GiB file data + 3.9 GiB float32 output); not enough memory`;
    assert.equal(r.syncError, expected);
    assert.equal(r.asyncError, expected);
  }
});

test('echoed header bytes are escaped and cut: a broken magic string with U+0085, a newline and a NUL stays one printable line', () => {
  const file = path.join(dir, 'bad-magic.nii');
  const raw = Buffer.from(SMALL);
  Buffer.from([0x61, 0x85, 0x0a, 0x00]).copy(raw, 344);
  writeFileSync(file, raw);
  assert.throws(() => readNiftiSync(file), (err: unknown) => {
    assert.ok(err instanceof InputError);
    assert.equal(err.message, `${file}: wrong NIfTI-1 magic string "a\\x85\\n" (expected "n+1")`);
    return true;
  });
  // A file name with a control character is escaped too.
  const odd = path.join(dir, 'odd\nname\u0085.nii');
  writeFileSync(odd, raw);
  assert.throws(() => readNiftiSync(odd), (err: unknown) => err instanceof InputError && err.message.startsWith(`${dir}/odd\\nname\\x85.nii: wrong NIfTI-1 magic`) && !/[\n\u0085]/.test(err.message));
});

test('.hdr/.img pairs (magic "ni1"/"ni2") are refused with a message saying how to convert, for NIfTI-1 and NIfTI-2', () => {
  for (const version of [1, 2] as const) {
    const file = path.join(dir, `pair-v${version}.hdr`);
    writeFileSync(file, rawNifti({ version, littleEndian: true, datatype: 'uint8', shape: [2, 1, 1], values: [1, 2], magic: version === 1 ? 'ni1\0' : 'ni2\0\r\n\x1a\n' }));
    assert.throws(() => readNiftiSync(file), expectInputError(file, new RegExp(`this is the header of a NIfTI-${version} \\.hdr/\\.img pair \\(magic "ni${version}"\\); separate \\.hdr/\\.img pairs are not supported: convert to a single \\.nii or \\.nii\\.gz`)));
  }
});

test('unreadable paths: a missing file and a directory are "cannot read" errors naming the path', async () => {
  const missing = path.join(dir, 'missing.nii.gz');
  assert.throws(() => readNiftiSync(missing), expectInputError(missing, /cannot read: ENOENT/));
  await assert.rejects(readNifti(dir), expectInputError(dir, /cannot read: EISDIR/));
});
