/** `segloss doctor`'s CUDA/cuDNN report: sonames found in LD_LIBRARY_PATH directories or the ldconfig cache, and what is missing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { runSegloss, tempDir } from '../helpers.js';
import { CUDA_LIBRARIES, findCudaLibraries, parseLdconfig, readLdconfigCache } from '../../src/cli/cuda.js';

const LDCONFIG = [
  '1234 libs found in cache `/etc/ld.so.cache\'',
  '\tlibcublas.so.11 (libc6,x86-64) => /usr/local/cuda-11.2/lib64/libcublas.so.11',
  '\tlibcudnn.so.8 (libc6) => /usr/lib32/libcudnn.so.8',
  '\tlibcudnn.so.8 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudnn.so.8',
  '\tlibc.so.6 (libc6,x86-64, OS ABI: Linux 3.2.0) => /lib/x86_64-linux-gnu/libc.so.6',
].join('\n');

test('parseLdconfig: soname → path, the 64-bit entry when there are several', () => {
  const m = parseLdconfig(LDCONFIG);
  assert.equal(m.get('libcublas.so.11'), '/usr/local/cuda-11.2/lib64/libcublas.so.11');
  assert.equal(m.get('libcudnn.so.8'), '/usr/lib/x86_64-linux-gnu/libcudnn.so.8');
  assert.equal(m.get('libc.so.6'), '/lib/x86_64-linux-gnu/libc.so.6');
  assert.equal(m.size, 3);
});

test('findCudaLibraries: LD_LIBRARY_PATH directories first (in order), then the ldconfig cache; the rest missing', () => {
  const root = tempDir();
  const a = path.join(root, 'a');
  const b = path.join(root, 'b');
  mkdirSync(a);
  mkdirSync(b);
  writeFileSync(path.join(a, 'libcudart.so.11.0'), '');
  writeFileSync(path.join(b, 'libcudart.so.11.0'), '');
  writeFileSync(path.join(b, 'libcudnn.so.8'), '');
  const r = findCudaLibraries(`${path.join(root, 'none')}:${a}:${b}`, LDCONFIG);
  const where = Object.fromEntries(r.libraries.map((l) => [l.soname, [l.path, l.source]]));
  assert.deepEqual(where['libcudart.so.11.0'], [path.join(a, 'libcudart.so.11.0'), 'LD_LIBRARY_PATH']);
  assert.deepEqual(where['libcudnn.so.8'], [path.join(b, 'libcudnn.so.8'), 'LD_LIBRARY_PATH']);
  assert.deepEqual(where['libcublas.so.11'], ['/usr/local/cuda-11.2/lib64/libcublas.so.11', 'ldconfig']);
  assert.deepEqual(r.missing, ['libcuda.so.1', 'libcublasLt.so.11', 'libcufft.so.10', 'libcurand.so.10', 'libcusolver.so.11', 'libcusparse.so.11']);
});

test('segloss doctor on a fake LD_LIBRARY_PATH with dummy libraries: found by soname, exactly the others missing', () => {
  const dir = tempDir();
  const present = ['libcudart.so.11.0', 'libcudnn.so.8', 'libcublas.so.11'];
  for (const f of present) writeFileSync(path.join(dir, f), '');
  // a CUDA 12 library has another soname and must not count
  writeFileSync(path.join(dir, 'libcudart.so.12'), '');
  const inCache = parseLdconfig(readLdconfigCache());
  const json = runSegloss(['--json', 'doctor'], { env: { LD_LIBRARY_PATH: dir } });
  assert.equal(json.status, 0, json.stderr);
  const report = JSON.parse(json.stdout) as { cuda: { libraries: { soname: string; path: string | null; source: string | null }[]; missing: string[] } };
  for (const f of present) {
    const lib = report.cuda.libraries.find((l) => l.soname === f)!;
    assert.deepEqual([lib.path, lib.source], [path.join(dir, f), 'LD_LIBRARY_PATH']);
  }
  const expectedMissing = CUDA_LIBRARIES.map((l) => l.soname).filter((s) => !present.includes(s) && !inCache.has(s));
  assert.deepEqual(report.cuda.missing, expectedMissing);

  const human = runSegloss(['doctor'], { env: { LD_LIBRARY_PATH: dir } });
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`libcudnn\\.so\\.8 +cuDNN 8 +${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/libcudnn\\.so\\.8 \\(LD_LIBRARY_PATH\\)`));
  if (expectedMissing.length > 0) {
    const missingText = human.stdout.slice(human.stdout.indexOf('missing: ')).split('\n\n')[0]!.replace(/\s+/g, ' ');
    assert.ok(missingText.startsWith(`missing: ${expectedMissing.join(', ')} (`), missingText);
  }
});
