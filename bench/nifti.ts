/**
 * `npm run bench:nifti`: read a 512×512×200 int16 `.nii.gz` (CT-like content, written by
 * segloss) with segloss's `readNifti` and with nibabel's `get_fdata()` on the same file in the same
 * run (/usr/bin/python3; skipped with a message when nibabel is missing). Both are best of N reads.
 * Peak memory of a segloss read is measured in a fresh child process (max RSS), to check the
 * "at most two full-size copies" budget: compressed file + raw int16 voxels + float32 output.
 * Last line: {"bench":"nifti","segloss_ms":…,"reference_ms":…,"ratio":reference/segloss,…}
 * Options: --size NI,NJ,NK (default 512,512,200), --repeat N (default 3).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNifti, writeNifti, makeVolume } from '../src/data/nifti.js';
import { diagonalAffine } from '../src/data/geometry.js';
import { Rng } from '../src/util/rng.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}

/** CT-like int16 content: body ellipse of soft tissue with smooth structure and noise, air outside. */
function ctLike(shape: [number, number, number]): Int16Array {
  const [ni, nj, nk] = shape;
  const rng = new Rng(1);
  const out = new Int16Array(ni * nj * nk);
  let n = 0;
  for (let k = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      const y = (j - nj / 2) / (0.38 * nj);
      for (let i = 0; i < ni; i++, n++) {
        const x = (i - ni / 2) / (0.45 * ni);
        const r = x * x + y * y;
        const tissue = 40 + 60 * Math.sin(i / 17 + k / 9) * Math.cos(j / 23);
        const v = r < 1 ? (r > 0.85 ? -100 : tissue) : -1000;
        out[n] = Math.round(v + 12 * rng.normal());
      }
    }
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

async function main(): Promise<void> {
  const shape = option('--size', '512,512,200').split(',').map(Number) as [number, number, number];
  const repeat = Number(option('--repeat', '3'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'segloss-bench-nifti-'));
  try {
    const file = path.join(dir, 'ct.nii.gz');
    process.stderr.write(`writing ${shape.join('x')} int16 CT-like volume ...\n`);
    const volume = makeVolume(ctLike(shape), shape, diagonalAffine([0.8, 0.8, 2.5]));
    const tw = Date.now();
    await writeNifti(file, volume);
    const writeMs = Date.now() - tw;
    const fileMb = statSync(file).size / 2 ** 20;
    const voxelMb = (shape[0] * shape[1] * shape[2] * 2) / 2 ** 20;
    process.stderr.write(`file ${fileMb.toFixed(1)} MiB (raw voxels ${voxelMb.toFixed(0)} MiB), written in ${writeMs} ms\n`);

    const times: number[] = [];
    let checksum = 0;
    for (let r = 0; r < repeat; r++) {
      const t0 = process.hrtime.bigint();
      const v = await readNifti(file);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      checksum = (v.data[12345] as number) + (v.data[v.data.length - 1] as number);
    }
    const seglossMs = Math.min(...times);
    process.stderr.write(`segloss readNifti: best ${seglossMs.toFixed(0)} ms, median ${median(times).toFixed(0)} ms\n`);

    // Peak memory of one read in a fresh process: VmHWM of the new address space (ru_maxrss would
    // inherit this parent's high-water mark across fork/exec on Linux).
    const reader = path.resolve(HERE, '..', 'src', 'data', 'nifti.js');
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', `import { readNiftiSync } from ${JSON.stringify(reader)}; import { readFileSync } from 'node:fs'; const hwm = () => Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]); const base = hwm(); const v = readNiftiSync(${JSON.stringify(file)}); console.log(JSON.stringify({ base, peak: hwm(), n: v.data.length }));`], { encoding: 'utf8' });
    let peakMb: number | null = null;
    let baseMb: number | null = null;
    if (child.status === 0) {
      const m = JSON.parse(child.stdout.trim()) as { base: number; peak: number };
      peakMb = m.peak / 1024;
      baseMb = m.base / 1024;
      process.stderr.write(`peak RSS of one read: ${peakMb.toFixed(0)} MiB (node baseline ${baseMb.toFixed(0)} MiB; int16 voxels ${voxelMb.toFixed(0)} MiB + float32 output ${(2 * voxelMb).toFixed(0)} MiB)\n`);
    }

    let referenceMs: number | null = null;
    let referenceNote = '';
    const probe = spawnSync(PYTHON, ['-c', 'import nibabel, numpy; print(nibabel.__version__)'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      referenceNote = 'nibabel not available (apt-get install -y python3-nibabel); reference skipped';
      process.stderr.write(referenceNote + '\n');
    } else {
      const script = [
        'import sys, time, nibabel as nib',
        'best = 1e99',
        `for _ in range(${repeat}):`,
        '    t = time.perf_counter()',
        '    d = nib.load(sys.argv[1]).get_fdata()',
        '    best = min(best, time.perf_counter() - t)',
        'print(best * 1000, d.ravel(order="F")[12345] + d.ravel(order="F")[-1])',
      ].join('\n');
      const ref = spawnSync(PYTHON, ['-c', script, file], { encoding: 'utf8' });
      if (ref.status === 0) {
        const [ms, sum] = ref.stdout.trim().split(/\s+/).map(Number) as [number, number];
        referenceMs = ms;
        if (Math.abs(sum - checksum) > 1e-3) throw new Error(`values differ from nibabel: ${sum} vs ${checksum}`);
        process.stderr.write(`nibabel ${probe.stdout.trim()} get_fdata(): best ${ms.toFixed(0)} ms (same values)\n`);
      } else {
        referenceNote = `nibabel failed: ${ref.stderr.split('\n').filter(Boolean).pop() ?? ''}`;
        process.stderr.write(referenceNote + '\n');
      }
    }
    const result: Record<string, unknown> = {
      bench: 'nifti',
      shape,
      datatype: 'int16',
      file_mb: Number(fileMb.toFixed(1)),
      segloss_ms: Math.round(seglossMs),
      reference_ms: referenceMs === null ? null : Math.round(referenceMs),
      ratio: referenceMs === null ? null : Number((referenceMs / seglossMs).toFixed(2)),
      write_ms: writeMs,
      peak_rss_mb: peakMb === null ? null : Math.round(peakMb),
      baseline_rss_mb: baseMb === null ? null : Math.round(baseMb),
      voxel_mb: Math.round(voxelMb),
    };
    if (referenceNote) result['note'] = referenceNote;
    console.log(JSON.stringify(result));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:nifti failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
