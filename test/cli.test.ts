import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSegloss } from './helpers.js';

test('segloss --help lists the commands and exits 0', () => {
  const r = runSegloss(['--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /doctor/);
});

test('segloss doctor --json reports the machine and a usable backend', () => {
  const r = runSegloss(['--json', 'doctor']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { cpuCores: number; backends: { name: string; available: boolean; reason: string }[]; selected: { backend: string } };
  assert.ok(report.cpuCores >= 1);
  const gpu = report.backends.find((b) => b.name === '@tensorflow/tfjs-node-gpu');
  assert.ok(gpu !== undefined && gpu.reason.length > 0);
  assert.ok(['tensorflow', 'wasm', 'cpu'].includes(report.selected.backend));
});

test('an unknown option is a usage error with exit code 2', () => {
  const r = runSegloss(['doctor', '--no-such-option']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no-such-option/);
});

test('an unknown backend is a usage error with exit code 2', () => {
  const r = runSegloss(['--backend', 'quantum', 'doctor']);
  assert.equal(r.status, 2);
});
