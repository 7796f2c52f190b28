import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runSegloss, tempDir } from '../helpers.js';
import { parseResultsCsv, readResultsCsv } from '../../src/rank/results.js';
import { rankResults } from '../../src/rank/ranking.js';
import { InputError } from '../../src/util/errors.js';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('no error');
}

const HUGE = 'x'.repeat(5 * 1024 * 1024);
const opts = { metrics: ['dsc'], alpha: 0.05, bootstrap: 0, seed: 1 };

test('echoed values are cut: a 5 MB case id, metric or value gives a one-line message of bounded length', () => {
  const header = 'task,loss,case,metric,value\n';
  const dup = parseResultsCsv(`${header}t,a,${HUGE},dsc,0.5\nt,a,${HUGE},dsc,0.6\n`, 'big.csv');
  const m1 = messageOf(() => rankResults(dup, opts));
  assert.match(m1, /^big\.csv:3: duplicate row task=t loss=a case=x{80}… metric=dsc \(first at big\.csv:2\)$/);
  const missing = parseResultsCsv(`${header}t,a,${HUGE},dsc,0.5\nt,a,c2,dsc,0.5\nt,b,c2,dsc,0.4\n`, 'big.csv');
  const m2 = messageOf(() => rankResults(missing, opts));
  assert.ok(m2.length < 300, `${m2.length} characters`);
  assert.match(m2, /loss 'b' has no row for case\(s\) x+…/);
  const m3 = messageOf(() => parseResultsCsv(`${header}t,a,c1,${HUGE},0.5\n`, 'big.csv'));
  assert.ok(m3.length < 300 && /^big\.csv: line 2: unknown metric 'x+…'/.test(m3), m3.slice(0, 200));
  const m4 = messageOf(() => parseResultsCsv(`${header}t,a,c1,dsc,${HUGE}\n`, 'big.csv'));
  assert.ok(m4.length < 300 && /value 'x+…' is not a number/.test(m4), m4.slice(0, 200));
  const m5 = messageOf(() => parseResultsCsv(`${header}t,a,c1,dsc,0.5\u202e\n`, 'bidi.csv'));
  assert.match(m5, /value '0\.5\\u202e' is not a number/);
});

test('a header-only results file names the file; a row with more fields than the header names file:line', () => {
  const dir = tempDir('segloss-rank-err-');
  const headerOnly = path.join(dir, 'results.csv');
  writeFileSync(headerOnly, 'task,loss,case,metric,value\n');
  assert.match(messageOf(() => readResultsCsv([headerOnly])), /results\.csv: no data rows \(only the header on line 1\)$/);
  assert.equal(messageOf(() => parseResultsCsv('task,loss,case,metric,value\nt,a,c1,dsc,0.5\nt,a,c2,dsc,0.5,extra\n', 'r.csv')), 'r.csv: line 3: 6 field(s), the header has 5');
  // A case id with a comma must be quoted; unquoted it is one field too many, not silently cut.
  assert.match(messageOf(() => parseResultsCsv('task,loss,case,metric,value\nt,a,case 1,2,dsc,0.5\n', 'r.csv')), /^r\.csv: line 2: 6 field\(s\)/);
  const cli = runSegloss(['rank', '--results', headerOnly, '--out', path.join(dir, 'out')]);
  assert.equal(cli.status, 2);
  assert.match(cli.stderr, /results\.csv: no data rows/);
  assert.equal(cli.stderr.trim().split('\n').length, 1);
});
