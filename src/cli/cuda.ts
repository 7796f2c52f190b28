/**
 * Which CUDA and cuDNN libraries the native GPU backend would find here. @tensorflow/tfjs-node-gpu
 * 4.22 ships libtensorflow 2.9.1, built against CUDA 11.2 and cuDNN 8.1; libtensorflow dlopen()s
 * these sonames at start-up (TensorFlow's tested build configurations,
 * tensorflow.org/install/source#gpu). The dynamic loader searches LD_LIBRARY_PATH first, then the
 * ldconfig cache; so does this check. Later CUDA majors (12.x) use other sonames and do not serve.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

export interface CudaLibrary {
  soname: string;
  /** What it is, for the report. */
  role: string;
}

/** The libraries libtensorflow 2.9 (CUDA 11.2, cuDNN 8) loads for the GPU, driver first. */
export const CUDA_LIBRARIES: readonly CudaLibrary[] = [
  { soname: 'libcuda.so.1', role: 'NVIDIA driver' },
  { soname: 'libcudart.so.11.0', role: 'CUDA 11 runtime' },
  { soname: 'libcublas.so.11', role: 'cuBLAS 11' },
  { soname: 'libcublasLt.so.11', role: 'cuBLASLt 11' },
  { soname: 'libcufft.so.10', role: 'cuFFT (CUDA 11)' },
  { soname: 'libcurand.so.10', role: 'cuRAND (CUDA 11)' },
  { soname: 'libcusolver.so.11', role: 'cuSOLVER 11' },
  { soname: 'libcusparse.so.11', role: 'cuSPARSE 11' },
  { soname: 'libcudnn.so.8', role: 'cuDNN 8' },
];

export interface CudaLibraryStatus extends CudaLibrary {
  /** Where the loader would find it, or null. */
  path: string | null;
  /** 'LD_LIBRARY_PATH' or 'ldconfig' when found. */
  source: 'LD_LIBRARY_PATH' | 'ldconfig' | null;
}

export interface CudaReport {
  libraries: CudaLibraryStatus[];
  /** Sonames not found, in CUDA_LIBRARIES order. */
  missing: string[];
}

/** soname → path from the output of `ldconfig -p` (lines "\tlibfoo.so.1 (libc6,x86-64) => /path"). */
export function parseLdconfig(output: string): Map<string, string> {
  const entries = new Map<string, { file: string; flags: string }[]>();
  for (const line of output.split('\n')) {
    const m = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)\s*$/.exec(line);
    if (m === null) continue;
    const list = entries.get(m[1]!) ?? [];
    list.push({ file: m[3]!, flags: m[2]! });
    entries.set(m[1]!, list);
  }
  // the loader of a 64-bit process takes the first 64-bit entry of a soname
  const found = new Map<string, string>();
  for (const [soname, list] of entries) found.set(soname, (list.find((e) => e.flags.includes('64')) ?? list[0]!).file);
  return found;
}

/** The ldconfig cache as `ldconfig -p` prints it, or '' when ldconfig is not available. */
export function readLdconfigCache(): string {
  for (const exe of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    const r = spawnSync(exe, ['-p'], { encoding: 'utf8', timeout: 10_000 });
    if (r.status === 0 && typeof r.stdout === 'string') return r.stdout;
  }
  return '';
}

/** Find each library in the LD_LIBRARY_PATH directories (in order), then in the ldconfig cache. */
export function findCudaLibraries(ldLibraryPath: string | undefined, ldconfigOutput: string, libraries: readonly CudaLibrary[] = CUDA_LIBRARIES): CudaReport {
  const dirs = (ldLibraryPath ?? '').split(':').filter((d) => d !== '');
  const cache = parseLdconfig(ldconfigOutput);
  const statuses = libraries.map((lib): CudaLibraryStatus => {
    for (const dir of dirs) {
      const file = path.join(dir, lib.soname);
      if (existsSync(file)) return { ...lib, path: file, source: 'LD_LIBRARY_PATH' };
    }
    const cached = cache.get(lib.soname);
    return cached !== undefined ? { ...lib, path: cached, source: 'ldconfig' } : { ...lib, path: null, source: null };
  });
  return { libraries: statuses, missing: statuses.filter((s) => s.path === null).map((s) => s.soname) };
}

/** The report for this process: its LD_LIBRARY_PATH and this machine's ldconfig cache. */
export function cudaReport(): CudaReport {
  return findCudaLibraries(process.env['LD_LIBRARY_PATH'], readLdconfigCache());
}
