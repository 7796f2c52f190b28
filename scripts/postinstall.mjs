#!/usr/bin/env node
// After `npm install`: one line when the optional native TensorFlow backends were skipped (their
// install downloads libtensorflow, which fails quietly without internet access or CUDA), so that
// nobody trains on WebAssembly thinking it is the GPU. Never fails the install.
import { createRequire } from 'node:module';

try {
  const require = createRequire(import.meta.url);
  const installed = (pkg) => {
    try {
      require.resolve(`${pkg}/package.json`);
      return true;
    } catch {
      return false;
    }
  };
  const missing = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].filter((p) => !installed(p));
  if (missing.length === 2) {
    process.stderr.write('segloss: optional native backends skipped, using WebAssembly (GPU: docs/gpu.md; segloss doctor)\n');
  } else if (missing.length === 1 && missing[0] === '@tensorflow/tfjs-node-gpu') {
    process.stderr.write('segloss: optional tfjs-node-gpu skipped, native CPU backend only (GPU: docs/gpu.md)\n');
  }
} catch {
  // a note must never break an install
}
process.exitCode = 0;
