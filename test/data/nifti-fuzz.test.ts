/**
 * Fuzz test of the NIfTI reader: five small valid files (plain and gzip, NIfTI-1 and NIfTI-2, both
 * byte orders, an image with an sform and a qform, a scaled label map) are mutated 100 times each
 * with a fixed seed (./nifti-mutations.ts), and every outcome must be one of:
 *
 * - **the same volume** (shape, spacing, affine and every voxel) when the mutation cannot change
 *   what the file means: a header field neither segloss nor nibabel uses (descrip, aux_file,
 *   intent, cal_min/max, …, the extension flag), or an equivalent gzip encoding (another level,
 *   split into members, an empty member appended, an FNAME field, zero padding after the stream);
 * - **the same volume except the voxels whose bytes changed**, for a bit flip in the voxel data;
 * - **a one-line printable InputError naming the file** (exit code 2) — and nothing else — for
 *   every mutation that must be refused: a cut plain file or gzip stream, data appended after the
 *   declared voxels (bytes or gzip members);
 * - otherwise (bit flips in meaningful header fields, absurd dims, bad datatypes, lying
 *   vox_offset, damaged gzip): either such an error or a read whose shape, spacing, affine and
 *   labels are sane (finite, positive, integer).
 *
 * The sync and async readers must agree on every case, the header-only reader must accept every
 * file the full reader accepts, and the peak RSS of the whole run must stay far below what an
 * absurd header could make a careless reader allocate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { readNifti, readNiftiSync, readNiftiHeaderSync, type VolumeKind } from '../../src/data/nifti.js';
import type { Volume } from '../../src/data/volume.js';
import { InputError } from '../../src/util/errors.js';
import { tempDir } from '../helpers.js';
import { BASES, FUZZ_SEED, fuzzCases } from './nifti-mutations.js';

const dir = tempDir('segloss-nifti-fuzz-');
const SEED = FUZZ_SEED;
const MUTATIONS_PER_FILE = 100;

type Outcome = { volume: Volume } | { error: unknown };

function outcomeOf(read: () => Volume): Outcome {
  try {
    return { volume: read() };
  } catch (error) {
    return { error };
  }
}

async function outcomeOfAsync(read: () => Promise<Volume>): Promise<Outcome> {
  try {
    return { volume: await read() };
  } catch (error) {
    return { error };
  }
}

const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

function checkError(file: string, err: unknown, context: string): void {
  assert.ok(err instanceof InputError, `${context}: expected an InputError, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  assert.equal(err.exitCode, 2, context);
  assert.ok(err.message.startsWith(`${file}: `), `${context}: the message names the file: ${err.message}`);
  assert.doesNotMatch(err.message, UNPRINTABLE, `${context}: one printable line: ${JSON.stringify(err.message)}`);
  assert.ok(err.message.length < file.length + 600, `${context}: message of ${err.message.length} characters`);
}

function checkSane(v: Volume, kind: VolumeKind, context: string): void {
  assert.ok(v.shape.length === 3 || v.shape.length === 4, context);
  assert.ok(v.shape.every((n) => Number.isInteger(n) && n >= 1), context);
  assert.equal(v.data.length, v.shape.reduce((a, b) => a * b, 1), context);
  assert.ok(v.spacingMm.every((s) => Number.isFinite(s) && s > 0), `${context}: spacing ${v.spacingMm}`);
  assert.ok(v.affine.every((row) => row.every(Number.isFinite)), `${context}: affine ${JSON.stringify(v.affine)}`);
  if (kind === 'label') assert.ok(v.data instanceof Uint8Array || v.data instanceof Int32Array, context);
  else assert.ok(v.data instanceof Float32Array, context);
}

function sameVoxels(a: Volume, b: Volume, except: number[], context: string): void {
  assert.deepEqual(a.shape, b.shape, context);
  assert.deepEqual(a.spacingMm, b.spacingMm, context);
  assert.deepEqual(a.affine, b.affine, context);
  assert.equal(a.data.length, b.data.length, context);
  for (let n = 0; n < a.data.length; n++) {
    if (except.includes(n)) continue;
    assert.ok(Object.is(a.data[n], b.data[n]), `${context}: voxel ${n} ${a.data[n]} vs ${b.data[n]}`);
  }
}

test(`fuzz: ${BASES.length} valid files × ${MUTATIONS_PER_FILE} mutations (seed ${SEED}) give the same volume, a sane read or a one-line InputError`, { timeout: 120_000 }, async () => {
  const rssBeforeKb = process.resourceUsage().maxRSS;
  const counts: Record<string, number> = { same: 0, 'same-except-data': 0, error: 0, read: 0, refused: 0 };
  const references = new Map<string, Volume>();
  for (const base of BASES) {
    const original = path.join(dir, `${base.name}${base.gz ? '.nii.gz' : '.nii'}`);
    writeFileSync(original, base.gz ? zlib.gzipSync(base.raw) : base.raw);
    const reference = readNiftiSync(original, { kind: base.kind });
    checkSane(reference, base.kind, base.name);
    references.set(base.name, reference);
  }
  for (const { base, index: m, mutant } of fuzzCases(SEED, MUTATIONS_PER_FILE)) {
    const reference = references.get(base.name) as Volume;
    const file = path.join(dir, `${base.name}-${m}${base.gz ? '.nii.gz' : '.nii'}`);
    writeFileSync(file, mutant.bytes);
    const context = `${base.name} mutation ${m} (${mutant.what})`;
    const sync = outcomeOf(() => readNiftiSync(file, { kind: base.kind }));
    const async = await outcomeOfAsync(() => readNifti(file, { kind: base.kind }));
    // The readers agree: same error message, or the same volume.
    if ('error' in sync) {
      checkError(file, sync.error, `${context} (sync)`);
      assert.ok('error' in async, `${context}: the async reader read what the sync reader refused`);
      assert.equal((async.error as Error).message, (sync.error as Error).message, context);
    } else {
      assert.ok('volume' in async, `${context}: the async reader refused what the sync reader read: ${(async as { error: Error }).error?.message}`);
      sameVoxels(async.volume, sync.volume, [], `${context} (sync vs async)`);
      checkSane(sync.volume, base.kind, context);
      // The header-only reader accepts what the full reader reads.
      assert.doesNotThrow(() => readNiftiHeaderSync(file), context);
    }
    if (mutant.expect === 'same') {
      assert.ok('volume' in sync, `${context}: must read, got ${(sync as { error: Error }).error?.message}`);
      sameVoxels(sync.volume, reference, [], context);
    } else if (mutant.expect === 'same-except-data') {
      assert.ok('volume' in sync, `${context}: must read, got ${(sync as { error: Error }).error?.message}`);
      sameVoxels(sync.volume, reference, mutant.voxels ?? [], context);
    } else if (mutant.expect === 'error') {
      assert.ok('error' in sync, `${context}: must be refused`);
    }
    const outcome = mutant.expect === 'read-or-error' ? ('error' in sync ? 'refused' : 'read') : mutant.expect;
    counts[outcome] = (counts[outcome] ?? 0) + 1;
  }
  // Each outcome class was exercised.
  for (const [k, n] of Object.entries(counts)) assert.ok(n >= 10, `only ${n} '${k}' cases: ${JSON.stringify(counts)}`);
  // The whole run stays far below the 2 GiB an absurd header asks for (or the 1 MiB members
  // appended, had they been inflated whole more than once at a time).
  const growthMb = (process.resourceUsage().maxRSS - rssBeforeKb) / 1024;
  assert.ok(growthMb < 200, `peak RSS grew by ${growthMb.toFixed(0)} MiB`);
  console.log(`# fuzz outcomes ${JSON.stringify(counts)}, peak RSS growth ${growthMb.toFixed(0)} MiB`);
});
