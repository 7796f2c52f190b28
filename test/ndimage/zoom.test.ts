/**
 * zoomGrid (src/ndimage/zoom.ts) against scipy.ndimage.zoom(mode='nearest', grid_mode=True) for
 * orders 1 and 3 on a line, and by hand. Whole volumes against scipy: test/preprocess/resample.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zoomGrid } from '../../src/ndimage/zoom.js';

test('zoomGrid equals scipy.ndimage.zoom(mode=nearest, grid_mode=True): order 1 and order 3', () => {
  // scipy 1.17.1: zoom([0, 1, 2, 3], 2, order=1, …)
  assert.deepEqual(Array.from(zoomGrid([0, 1, 2, 3], [4], [8], 1)), [0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3]);
  // zoom([0, 1, 0, 2, 5], 8/5, order=3, …)
  const want = [-0.11280815751226914, 0.5474269558291817, 0.9777744421145009, 0.22501456044531443, 0.2298619657429252, 1.7914143065849688, 3.936003400454217, 5.19773641793767];
  const got = zoomGrid([0, 1, 0, 2, 5], [5], [8], 3);
  for (let o = 0; o < 8; o++) assert.ok(Math.abs((got[o] as number) - (want[o] as number)) < 1e-6, `${o}: ${got[o]} vs ${want[o]}`);
});

test('zoomGrid by hand: nearest neighbour, unchanged axes, NaN read as 0', () => {
  // order 0 on [10, 20, 30] → 6 samples: x = (o + 0.5)/2 − 0.5 rounds to 0, 0, 1, 1, 2, 2
  assert.deepEqual(Array.from(zoomGrid([10, 20, 30], [3], [6], 0)), [10, 10, 20, 20, 30, 30]);
  // a [2, 3] array zoomed along j only keeps every i column separate
  assert.deepEqual(Array.from(zoomGrid([1, 5, 2, 6, 3, 7], [2, 3], [2, 6], 0)), [1, 5, 1, 5, 2, 6, 2, 6, 3, 7, 3, 7]);
  assert.deepEqual(Array.from(zoomGrid([NaN, 4], [2], [2], 1)), [0, 4]);
});
