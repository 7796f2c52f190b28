/** Human output fits 100 columns when it is not a terminal; the backend banner is one line after argument validation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSegloss, tempDir } from '../helpers.js';
import { formatTableFit, wrapText, truncate, fitColumnWidths } from '../../src/util/width.js';
import { backendBanner } from '../../src/cli/banner.js';

function overlong(text: string, width = 100): string[] {
  return text.split('\n').filter((l) => l.length > width);
}

test('wrapText: breaks at spaces, keeps aligned spacing, cuts long words after a separator', () => {
  assert.deepEqual(wrapText('aaa bbb ccc', 7), ['aaa bbb', 'ccc']);
  assert.deepEqual(wrapText('key    value', 20), ['key    value']);
  assert.deepEqual(wrapText('ND_Crossentropy.py::CrossentropyND', 21), ['ND_Crossentropy.py::', 'CrossentropyND']);
  assert.deepEqual(wrapText('abcdefghij', 4), ['abcd', 'efgh', 'ij']);
  assert.deepEqual(wrapText('one two three', 8, '  '), ['one two', '  three']);
  assert.equal(truncate('abcdef', 4), 'abc…');
  assert.equal(truncate('abc', 4), 'abc');
});

test('formatTableFit: the widest column narrows first, its cells wrap within the row', () => {
  // natural widths 1 + 2 + 20 = 23, plus 2 gaps of 2 = 27 > 20: the third column narrows to 13,
  // starting at column 1 + 2 + 2 + 2 = 7
  assert.deepEqual(fitColumnWidths(['a', 'bb', 'c'], [['x', 'yy', 'one two three four s']], 20), [1, 2, 13]);
  const t = formatTableFit(['a', 'bb', 'c'], [['x', 'yy', 'one two three four s']], 20);
  assert.equal(t, ['a  bb  c', '-  --  -------------', 'x  yy  one two three', '       four s'].join('\n'));
});

test('`segloss losses`, every `segloss losses <id>` and `segloss doctor`: no line over 100 characters', () => {
  const list = runSegloss(['losses']);
  assert.equal(list.status, 0, list.stderr);
  assert.deepEqual(overlong(list.stdout), []);
  assert.match(list.stdout, /^dicetopk /m);
  const ids = (JSON.parse(runSegloss(['--json', 'losses']).stdout) as { id: string }[]).map((d) => d.id);
  assert.ok(ids.length >= 27);
  for (const id of ['dicebd', 'topkt01', 'tversky', 'hd']) {
    const one = runSegloss(['losses', id]);
    assert.equal(one.status, 0, one.stderr);
    assert.deepEqual(overlong(one.stdout), [], id);
  }
  const doctor = runSegloss(['doctor']);
  assert.equal(doctor.status, 0, doctor.stderr);
  assert.deepEqual(overlong(doctor.stdout), []);
  assert.deepEqual(overlong(doctor.stderr), []);
});

test('train: a usage error prints no banner; a run prints a one-line banner within 100 columns', () => {
  const root = tempDir();
  for (const args of [['--loss', 'nosuchloss'], ['--loss', 'dice', '--epochs', '0'], ['--loss', 'dice', '--loss-opt', 'smooth=-1']]) {
    const r = runSegloss(['train', '--task', 'toy-liver', ...args, '--results', root]);
    assert.equal(r.status, 2, r.stderr);
    assert.doesNotMatch(r.stderr, /backend/, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const banner = backendBanner({ backend: 'wasm', description: '@tensorflow/tfjs-backend-wasm (WebAssembly SIMD)', threads: 1, gpu: false, skipped: ['@tensorflow/tfjs-node-gpu not installed: long reason', '@tensorflow/tfjs-node not installed: long reason'] }, 100);
  assert.equal(banner, 'backend: wasm (WebAssembly SIMD), 1 thread; not used: tfjs-node-gpu, tfjs-node (see segloss doctor)');
  assert.equal(backendBanner({ backend: 'cpu', description: '@tensorflow/tfjs-backend-cpu (plain JavaScript)', threads: 1, gpu: false, skipped: ['x'.repeat(200)] }, 40).length, 40);
});
