import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { SHARED } from '../helpers.js';
import { selectBackend } from '../../src/engine/backend.js';
import { verifyReferenceFile } from '../../src/losses/verify.js';

test('the same reference cases pass on the plain cpu backend', async () => {
  await selectBackend('cpu');
  const report = verifyReferenceFile(path.join(SHARED, 'fixtures', 'losses', 'segloss-reference.json'));
  assert.equal(report.backend, 'cpu');
  assert.deepEqual(report.cases.filter((c) => c.status === 'failed').map((c) => `${c.id}: ${c.reason}`), []);
  assert.equal(report.passed, 143);
});
