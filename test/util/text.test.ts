import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printable, printablePath, formatBytes } from '../../src/util/text.js';
import { InputError } from '../../src/util/errors.js';

test('printable keeps printable text (non-ASCII letters and emoji included) as it is', () => {
  assert.equal(printable('n+1'), 'n+1');
  assert.equal(printable('Hippocampus é ü 海馬 😀'), 'Hippocampus é ü 海馬 😀');
  assert.equal(printable(''), '');
});

test('printable escapes controls, C1 (U+0085), separators, bidi and zero-width format characters, surrogates, private use, quotes and backslashes', () => {
  const cases: [string, string][] = [
    ['a\nb\r\tc\0', 'a\\nb\\r\\tc\\0'],
    ['\x07\x1b[31m\x7f', '\\x07\\x1b[31m\\x7f'],
    ['a\u0085b', 'a\\x85b'],
    ['\u2028\u2029', '\\u2028\\u2029'],
    ['abc\u202egnp.exe', 'abc\\u202egnp.exe'],
    ['zero\u200bwidth\ufeff', 'zero\\u200bwidth\\ufeff'],
    ['\ud800x', '\\ud800x'],
    ['\u{f0000}', '\\u{f0000}'],
    ['say "hi" \\ bye', 'say \\"hi\\" \\\\ bye'],
  ];
  for (const [input, expected] of cases) assert.equal(printable(input), expected, JSON.stringify(input));
  // Every byte 0..255 read as latin1 (how header strings are decoded) comes out printable.
  const all = printable(Buffer.from(Array.from({ length: 256 }, (_, n) => n)).toString('latin1'), 10_000);
  assert.doesNotMatch(all, /[\x00-\x1f\x7f-\x9f]/);
});

test('printable cuts to maxLength characters of output, marks the cut with …, and never splits an escape', () => {
  assert.equal(printable('a'.repeat(100), 10), 'aaaaaaaaaa…');
  assert.equal(printable('a'.repeat(10), 10), 'aaaaaaaaaa');
  assert.equal(printable('abcdefgh\n', 9), 'abcdefgh…');
  assert.equal(printable('\x85'.repeat(10), 8), '\\x85\\x85…');
  assert.equal(printable('x'.repeat(1000)).length, 81);
});

test('printablePath escapes control characters but keeps backslashes and quotes, and is never cut', () => {
  assert.equal(printablePath('C:\\data\\"x"\n.nii'), 'C:\\data\\"x"\\n.nii');
  const long = '/data/' + 'a'.repeat(500) + '.nii.gz';
  assert.equal(printablePath(long), long);
  // InputError names the file through it: one line whatever the name.
  const err = new InputError('/data/odd\u2028name\x85.nii', 'not a NIfTI file');
  assert.equal(err.message, '/data/odd\\u2028name\\x85.nii: not a NIfTI file');
});

test('formatBytes: binary units, one decimal below 100', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(64 * 1024), '64.0 KiB');
  assert.equal(formatBytes(500 * 2 ** 20), '500 MiB');
  assert.equal(formatBytes(1.5 * 2 ** 30), '1.5 GiB');
  assert.equal(formatBytes(512 * 512 * 1000 * 4), '1000 MiB');
  assert.equal(formatBytes(3 * 2 ** 40), '3.0 TiB');
});
