/**
 * `npm run bench:nifti-reader-js`: does the npm package nifti-reader-js (named by the design for
 * NIfTI parsing) parse headers as well as segloss's own parser (src/data/nifti.ts)? Measured on
 * the same inputs, in this order:
 *
 * 1. fields: every header field segloss uses, on the nibabel-written fixtures, the nibabel header
 *    cases, the byte-built test matrix (NIfTI-1/2 × both byte orders × 8 datatypes) and the first
 *    20 Hippocampus labels and images (when ../shared/data is there);
 *    and the affine each gives against nibabel's on the nibabel header cases;
 * 2. speed: the header of a 512×512×200 int16 `.nii.gz` (nifti-reader-js's readHeader inflates
 *    the whole file) and of the same `.nii` (given only its first 64 KiB);
 * 3. extensions: a valid one, one whose size is not a multiple of 16, and a pair whose sizes loop;
 * 4. robustness: the fuzz test's 500 mutants (test/data/nifti-mutations.ts; each parser runs in
 *    a child process, so a hang is recorded, not suffered), a gzip trailer that lies about the
 *    size, and a single-member gzip bomb (peak RSS of one header read).
 *
 * Last line: {"bench":"nifti-reader-js", ...} with the counts and times.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';
import * as niftiReader from 'nifti-reader-js';
import { parseNiftiHeader, readNiftiHeaderSync, readNiftiSync, writeNifti, makeVolume, type NiftiHeader } from '../src/data/nifti.js';
import { diagonalAffine } from '../src/data/geometry.js';
import { rawNifti, RAW_TYPES, type RawDatatype } from '../test/data/raw-nifti.js';
import { FUZZ_SEED, fuzzCases } from '../test/data/nifti-mutations.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'data');
const HIPPOCAMPUS = path.resolve(ROOT, '..', 'shared', 'data', 'Task04_Hippocampus');

type Reader = 'nifti-reader-js' | 'segloss';
const arrayBuffer = (b: Buffer): ArrayBuffer => new Uint8Array(b).slice().buffer;

/**
 * The fields both parsers expose, from nifti-reader-js's header object. Its `affine` holds the
 * srow fields only when sform_code > 0 (else a matrix it derives), so srow is compared only then.
 */
function theirFields(h: niftiReader.NIFTI1 | niftiReader.NIFTI2): number[] {
  return [
    Number(h.littleEndian),
    ...h.dims.map(Number),
    h.datatypeCode,
    h.numBitsPerVoxel,
    ...h.pixDims,
    Number(h.vox_offset),
    h.scl_slope,
    h.scl_inter,
    h.qform_code,
    h.sform_code,
    h.quatern_b,
    h.quatern_c,
    h.quatern_d,
    h.qoffset_x,
    h.qoffset_y,
    h.qoffset_z,
    ...(h.sform_code > 0 ? h.affine.slice(0, 3).flat() : []),
    h.xyzt_units,
  ];
}

/** The same fields from segloss's header (NIfTI-1 floats back to their stored float32). */
function ourFields(h: NiftiHeader, datatypeCode: number): number[] {
  const f = (x: number) => (h.version === 1 ? Math.fround(x) : x);
  const g = h.geometry;
  return [Number(h.littleEndian), ...h.dim, datatypeCode, h.bitpix, ...g.pixdim.map(f), h.voxOffset, f(h.sclSlope), f(h.sclInter), g.qformCode, g.sformCode, ...g.quatern.map(f), ...(g.sformCode > 0 ? g.srow.flat().map(f) : []), g.xyztUnits];
}

const sameNumbers = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

/** Uncompressed file bytes (for segloss's parseNiftiHeader). */
const plainOf = (bytes: Buffer) => (bytes[0] === 0x1f && bytes[1] === 0x8b ? zlib.gunzipSync(bytes) : bytes);

function fieldAgreement(files: { name: string; bytes: Buffer }[]): { files: number; agree: number; disagree: string[] } {
  const disagree: string[] = [];
  let agree = 0;
  for (const { name, bytes } of files) {
    const ours = parseNiftiHeader(name, plainOf(bytes));
    const plain = plainOf(bytes);
    const code = plain.readInt16LE(0) === 348 || plain.readInt32LE(0) === 540 ? plain.readInt16LE(ours.version === 1 ? 70 : 12) : plain.readInt16BE(ours.version === 1 ? 70 : 12);
    let theirs: number[];
    try {
      theirs = theirFields(niftiReader.readHeader(arrayBuffer(bytes)));
    } catch (err) {
      disagree.push(`${name}: nifti-reader-js threw ${(err as Error).message}`);
      continue;
    }
    if (sameNumbers(theirs, ourFields(ours, code))) agree += 1;
    else disagree.push(name);
  }
  return { files: files.length, agree, disagree };
}

function fixtureFiles(): { name: string; bytes: Buffer }[] {
  const files: { name: string; bytes: Buffer }[] = [];
  for (const name of ['nib_be_int16_scaled.nii.gz', 'nib_nifti2_float64.nii', 'nib_uint16_4d.nii.gz']) files.push({ name, bytes: readFileSync(path.join(FIXTURES, name)) });
  const cases = JSON.parse(readFileSync(path.join(FIXTURES, 'nibabel_header_cases.json'), 'utf8')) as { cases: Record<string, { base64: string }> };
  for (const [name, c] of Object.entries(cases.cases)) {
    const bytes = Buffer.from(c.base64, 'base64');
    try {
      parseNiftiHeader(name, bytes);
      files.push({ name, bytes });
    } catch {
      // a header segloss refuses outright (damaged NIfTI-2 EOL bytes): no fields to compare
    }
  }
  for (const version of [1, 2] as const) {
    for (const littleEndian of [true, false]) {
      for (const datatype of Object.keys(RAW_TYPES) as RawDatatype[]) {
        const bytes = rawNifti({ version, littleEndian, datatype, shape: [3, 2, 2], values: Array.from({ length: 12 }, (_, i) => i), pixdim: [1, 0.75, 0.8, 2.5, 0, 0, 0, 0], slope: 2, inter: -1, qformCode: 1, quatern: [0.1, 0.2, 0.3, 4, 5, 6], sformCode: 2, srow: [[0.75, 0, 0, 1], [0, 0.8, 0, 2], [0, 0, 2.5, 3]] });
        files.push({ name: `raw-v${version}-${littleEndian ? 'le' : 'be'}-${datatype}`, bytes });
      }
    }
  }
  return files;
}

/**
 * The voxel-to-world affine each parser gives (nifti-reader-js: its `affine`; segloss: the read
 * Volume's) against nibabel's, on the nibabel header cases nibabel reads with a finite affine.
 */
function affineAgreement(): Record<Reader, { cases: number; agree: number; differ: string[]; refused: string[] }> {
  const cases = JSON.parse(readFileSync(path.join(FIXTURES, 'nibabel_header_cases.json'), 'utf8')) as { cases: Record<string, { base64: string; nibabel: { affine?: (number | string)[][] } }> };
  const result: Record<Reader, { cases: number; agree: number; differ: string[]; refused: string[] }> = { 'nifti-reader-js': { cases: 0, agree: 0, differ: [], refused: [] }, segloss: { cases: 0, agree: 0, differ: [], refused: [] } };
  const close = (a: number[][], b: (number | string)[][]) => b.every((row, i) => row.every((x, j) => Math.abs((a[i]?.[j] ?? NaN) - Number(x)) <= 1e-6 * Math.max(1, Math.abs(Number(x)))));
  for (const [name, c] of Object.entries(cases.cases)) {
    const expected = c.nibabel.affine;
    if (expected === undefined || !expected.flat().every((x) => typeof x === 'number')) continue;
    const bytes = Buffer.from(c.base64, 'base64');
    const affines: Record<Reader, () => number[][]> = {
      'nifti-reader-js': () => niftiReader.readHeader(arrayBuffer(bytes)).affine,
      segloss: () => readNiftiSync(writeTemp(bytes)).affine,
    };
    for (const reader of ['nifti-reader-js', 'segloss'] as const) {
      result[reader].cases += 1;
      let affine: number[][];
      try {
        affine = affines[reader]();
      } catch {
        result[reader].refused.push(name); // segloss refuses a non-finite spacing or float32 overflow nibabel lets through
        continue;
      }
      if (close(affine, expected)) result[reader].agree += 1;
      else result[reader].differ.push(name);
    }
  }
  return result;
}

function hippocampusFiles(): { name: string; bytes: Buffer }[] {
  if (!existsSync(HIPPOCAMPUS)) return [];
  const out: { name: string; bytes: Buffer }[] = [];
  for (const sub of ['imagesTr', 'labelsTr']) {
    const names = readdirSync(path.join(HIPPOCAMPUS, sub)).filter((n) => n.endsWith('.nii.gz') && !n.startsWith('.')).sort().slice(0, 20);
    for (const n of names) out.push({ name: `${sub}/${n}`, bytes: readFileSync(path.join(HIPPOCAMPUS, sub, n)) });
  }
  return out;
}

/** The first `bytes` of a file (what a header parser needs of a plain .nii). */
function readHead(file: string, bytes: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    return buf.subarray(0, readSync(fd, buf, 0, bytes, 0));
  } finally {
    closeSync(fd);
  }
}

function bestMs(repeat: number, run: () => unknown): number {
  let best = Infinity;
  for (let r = 0; r < repeat; r++) {
    const t = process.hrtime.bigint();
    run();
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return best;
}

/**
 * Run `reader` over the fuzz mutants in child processes (`--worker`), restarting after a case that
 * does not finish within `timeoutMs`. Outcome per case: 'header', 'error' (an Error with a
 * message), 'crash' (RangeError/TypeError from reading outside the buffer), or 'hang'.
 */
function fuzzOutcomes(reader: Reader, timeoutMs: number): Record<string, number> {
  const total = [...fuzzCases(FUZZ_SEED, 100)].length;
  const counts: Record<string, number> = { header: 0, error: 0, crash: 0, hang: 0 };
  let start = 0;
  while (start < total) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--worker', reader, String(start)], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 2 ** 20 });
    const lines = r.stdout.split('\n').filter(Boolean);
    for (const line of lines) counts[line.split('\t')[1] as string] = (counts[line.split('\t')[1] as string] ?? 0) + 1;
    start += lines.length;
    if (r.status !== 0 && start < total) {
      counts['hang'] = (counts['hang'] ?? 0) + 1; // the case after the last one reported did not finish
      start += 1;
    }
  }
  return counts;
}

function worker(reader: Reader, start: number): void {
  let i = 0;
  for (const { mutant } of fuzzCases(FUZZ_SEED, 100)) {
    if (i++ < start) continue;
    let outcome: string;
    try {
      if (reader === 'nifti-reader-js') niftiReader.readHeader(arrayBuffer(mutant.bytes));
      else readNiftiHeaderSync(writeTemp(mutant.bytes));
      outcome = 'header';
    } catch (err) {
      outcome = err instanceof RangeError || err instanceof TypeError ? 'crash' : 'error';
    }
    process.stdout.write(`${i - 1}\t${outcome}\n`);
  }
}

let tempFile: string | undefined;
function writeTemp(bytes: Buffer): string {
  tempFile ??= path.join(mkdtempSync(path.join(os.tmpdir(), 'segloss-nrj-')), 'case.nii');
  writeFileSync(tempFile, bytes);
  return tempFile;
}

/** One parser in a fresh process on one file: outcome, time and peak RSS growth (MiB). */
function isolated(reader: Reader, file: string, timeoutMs: number): { outcome: string; ms: number | null; peakGrowthMb: number | null } {
  const script = `
    import { readFileSync } from 'node:fs';
    const hwm = () => Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
    const file = process.argv[1];
    const nrj = await import('nifti-reader-js');
    const ours = await import(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'data', 'nifti.js'))});
    const base = hwm();
    const t = process.hrtime.bigint();
    let outcome = 'header';
    try {
      if (${JSON.stringify(reader)} === 'nifti-reader-js') { const b = readFileSync(file); nrj.readHeader(new Uint8Array(b).slice().buffer); }
      else ours.readNiftiHeaderSync(file);
    } catch (e) { outcome = e.constructor.name + ': ' + e.message.slice(0, 120); }
    console.log(JSON.stringify({ outcome, ms: Number(process.hrtime.bigint() - t) / 1e6, peakGrowthMb: (hwm() - base) / 1024 }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, file], { encoding: 'utf8', timeout: timeoutMs, cwd: ROOT });
  if (r.status !== 0) return { outcome: r.signal !== null ? `killed after ${timeoutMs} ms (${r.signal})` : `exit ${r.status}: ${r.stderr.split('\n').find((l) => /Error/.test(l)) ?? ''}`, ms: null, peakGrowthMb: null };
  return JSON.parse(r.stdout.trim()) as { outcome: string; ms: number; peakGrowthMb: number };
}

/** A NIfTI-1 file whose extensions are (1) valid, (2) sized 20 (not a multiple of 16), (3) 16 then −16 (a loop). */
function extensionCase(kind: 'valid' | 'bad-size' | 'loop'): Buffer {
  const raw = rawNifti({ version: 1, littleEndian: true, datatype: 'uint8', shape: [2, 1, 1], values: [1, 2], voxOffset: 400 });
  raw[348] = 1;
  if (kind === 'valid') {
    raw.writeInt32LE(48, 352);
    raw.writeInt32LE(6, 356); // NIFTI_ECODE_COMMENT
    raw.write('a comment extension', 360, 'latin1');
  } else if (kind === 'bad-size') {
    raw.writeInt32LE(20, 352);
    raw.writeInt32LE(6, 356);
  } else {
    raw.writeInt32LE(16, 352);
    raw.writeInt32LE(6, 356);
    raw.writeInt32LE(-16, 368);
    raw.writeInt32LE(6, 372);
  }
  return raw;
}

/**
 * gzip of a valid NIfTI followed, in the same member, by `zerosMib` MiB of zeros: deflate
 * segments made independent by Z_FULL_FLUSH are repeated, so building it costs little.
 */
function singleMemberBomb(nifti: Buffer, zerosMib: number): Buffer {
  const flush = { finishFlush: zlib.constants.Z_FULL_FLUSH, level: 9 };
  const zeros = Buffer.alloc(2 ** 20);
  const zeroSegment = zlib.deflateRawSync(zeros, flush);
  let crc = zlib.crc32(nifti);
  for (let m = 0; m < zerosMib; m++) crc = zlib.crc32(zeros, crc);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE((nifti.length + zerosMib * 2 ** 20) % 2 ** 32, 4);
  const head = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  return Buffer.concat([head, zlib.deflateRawSync(nifti, flush), ...Array.from({ length: zerosMib }, () => zeroSegment), Buffer.from([3, 0]), trailer]);
}

async function main(): Promise<void> {
  const workerAt = process.argv.indexOf('--worker');
  if (workerAt >= 0) {
    worker(process.argv[workerAt + 1] as Reader, Number(process.argv[workerAt + 2]));
    return;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'segloss-bench-nrj-'));
  try {
    // 1. fields
    const fixtures = fieldAgreement(fixtureFiles());
    const hippocampus = fieldAgreement(hippocampusFiles());
    process.stderr.write(`fields: fixtures ${fixtures.agree}/${fixtures.files} agree${fixtures.disagree.length ? ` (differ: ${fixtures.disagree.join('; ')})` : ''}; Hippocampus ${hippocampus.agree}/${hippocampus.files}\n`);
    const affines = affineAgreement();
    for (const reader of ['nifti-reader-js', 'segloss'] as const) {
      const a = affines[reader];
      process.stderr.write(`affine = nibabel's: ${reader} ${a.agree}/${a.cases}${a.differ.length ? `; differ: ${a.differ.join(', ')}` : ''}${a.refused.length ? `; file refused: ${a.refused.join(', ')}` : ''}\n`);
    }

    // 2. speed
    const shape: [number, number, number] = [512, 512, 200];
    const data = new Int16Array(shape[0] * shape[1] * shape[2]);
    for (let n = 0; n < data.length; n++) data[n] = (n * 7919) % 2000 - 1000;
    const gz = path.join(dir, 'ct.nii.gz');
    const plain = path.join(dir, 'ct.nii');
    const volume = makeVolume(data, shape, diagonalAffine([0.8, 0.8, 2.5]));
    await writeNifti(gz, volume);
    await writeNifti(plain, volume);
    const speed = {
      gz_nifti_reader_js_ms: bestMs(3, () => niftiReader.readHeader(arrayBuffer(readFileSync(gz)))),
      gz_segloss_ms: bestMs(3, () => readNiftiHeaderSync(gz)),
      plain_nifti_reader_js_ms: bestMs(3, () => niftiReader.readHeader(arrayBuffer(readHead(plain, 65536)))),
      plain_segloss_ms: bestMs(3, () => readNiftiHeaderSync(plain)),
    };
    process.stderr.write(`speed (header of a 512x512x200 int16 volume, best of 3): .nii.gz nifti-reader-js ${speed.gz_nifti_reader_js_ms.toFixed(1)} ms, segloss ${speed.gz_segloss_ms.toFixed(1)} ms; .nii ${speed.plain_nifti_reader_js_ms.toFixed(1)} ms vs ${speed.plain_segloss_ms.toFixed(1)} ms\n`);

    // 3. extensions
    const extensions: Record<string, Record<Reader, string>> = {};
    for (const kind of ['valid', 'bad-size', 'loop'] as const) {
      const file = path.join(dir, `ext-${kind}.nii`);
      writeFileSync(file, extensionCase(kind));
      extensions[kind] = { 'nifti-reader-js': isolated('nifti-reader-js', file, 10_000).outcome, segloss: (() => {
        try {
          return `read ${readNiftiSync(file).data.length} voxels`;
        } catch (err) {
          return (err as Error).message;
        }
      })() };
    }
    process.stderr.write(`extensions: ${JSON.stringify(extensions)}\n`);

    // 4. robustness
    const fuzz = { 'nifti-reader-js': fuzzOutcomes('nifti-reader-js', 20_000), segloss: fuzzOutcomes('segloss', 20_000) };
    process.stderr.write(`fuzz mutants (500): ${JSON.stringify(fuzz)}\n`);
    const small = rawNifti({ version: 1, littleEndian: true, datatype: 'int16', shape: [8, 6, 4], values: Array.from({ length: 192 }, (_, i) => i) });
    const lying = zlib.gzipSync(small);
    lying.writeUInt32LE(0xfffffff0, lying.length - 4); // ISIZE: 4 GiB
    const lyingFile = path.join(dir, 'lying-isize.nii.gz');
    writeFileSync(lyingFile, lying);
    const bombFile = path.join(dir, 'bomb.nii.gz');
    writeFileSync(bombFile, singleMemberBomb(small, 1024));
    const hostile = {
      lying_isize: { 'nifti-reader-js': isolated('nifti-reader-js', lyingFile, 60_000), segloss: isolated('segloss', lyingFile, 60_000) },
      bomb_1GiB: { 'nifti-reader-js': isolated('nifti-reader-js', bombFile, 120_000), segloss: isolated('segloss', bombFile, 120_000) },
    };
    process.stderr.write(`gzip trailer claiming 4 GiB (${lying.length} bytes): ${JSON.stringify(hostile.lying_isize)}\n`);
    process.stderr.write(`single-member gzip bomb (1 GiB of zeros after a valid image): ${JSON.stringify(hostile.bomb_1GiB)}\n`);

    console.log(JSON.stringify({ bench: 'nifti-reader-js', fields: { fixtures, hippocampus }, affines, speed, extensions, fuzz, hostile }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (tempFile !== undefined) rmSync(path.dirname(tempFile), { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:nifti-reader-js failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
