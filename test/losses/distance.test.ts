import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { SHARED } from '../helpers.js';
import { computeDistanceMaps } from '../../src/losses/distance.js';
import { channelsLast, readReferenceFile } from '../../src/losses/verify.js';

// The reference cases record every internal distance map of the released code; the maps segloss
// computes from the labels must be the same.
const cases = readReferenceFile(path.join(SHARED, 'fixtures', 'losses', 'segloss-reference.json'));

function compareMap(id: string, mapName: string, actual: ArrayLike<number>, expected: (number | null)[], shape: number[]): void {
  const values = shape.length === 5 ? channelsLast(expected as number[], shape as [number, number, number, number, number]) : Float32Array.from(expected as number[]);
  let worst = 0;
  for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - values[i]!));
  assert.ok(worst < 1e-5, `${id} ${mapName}: worst difference ${worst}`);
}

type Maps = Record<string, { shape: number[]; values: (number | null)[] }>;

test('signed (BD), interior (HD) and penalty (pCE) maps equal the released code\'s maps', () => {
  let checked = 0;
  for (const c of cases) {
    const maps = (c as unknown as { distance_maps?: Maps }).distance_maps;
    if (maps === undefined || c.loss.startsWith('lp_')) continue;
    const [b, ch, d, h, w] = c.logits_shape;
    const shape: [number, number, number, number] = [b, d, h, w];
    if (maps['gt_sdf']) {
      compareMap(c.id, 'gt_sdf', computeDistanceMaps(c.labels, shape, ch, 'signed'), maps['gt_sdf'].values, maps['gt_sdf'].shape);
      checked++;
    }
    if (maps['gt_dtm']) {
      compareMap(c.id, 'gt_dtm', computeDistanceMaps(c.labels, shape, ch, 'interior'), maps['gt_dtm'].values, maps['gt_dtm'].shape);
      checked++;
    }
    if (maps['dist'] && (c.loss === 'pce' || c.loss === 'pce_weighted_intended') && !maps['dist'].values.includes(null)) {
      compareMap(c.id, 'dist', computeDistanceMaps(c.labels, shape, ch, 'penalty'), maps['dist'].values, maps['dist'].shape);
      checked++;
    }
  }
  assert.equal(checked, 4 * 4 + 6);
});

test('unsigned map = EDT inside + EDT outside for present classes, 0 for absent ones and channel 0', () => {
  // 1 x 1 x 1 x 5 volume, labels [0, 1, 1, 0, 0], C = 3 (class 2 absent)
  const m = computeDistanceMaps([0, 1, 1, 0, 0], [1, 1, 1, 5], 3, 'unsigned');
  const channel = (c: number) => Array.from({ length: 5 }, (_, i) => m[i * 3 + c]);
  assert.deepEqual(channel(0), [0, 0, 0, 0, 0]);
  assert.deepEqual(channel(1), [1, 1, 1, 1, 2]);
  assert.deepEqual(channel(2), [0, 0, 0, 0, 0]);
});
