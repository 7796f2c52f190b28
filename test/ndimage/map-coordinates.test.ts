/**
 * map_coordinates (src/ndimage/map-coordinates.ts, with the cubic prefilter of
 * src/ndimage/bspline.ts) against scipy.ndimage.map_coordinates(mode='constant') at 40 random
 * points of a random volume (fixture test/fixtures/ndimage/ndimage_reference.py), and by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers.js';
import type { Vec3 } from '../../src/util/vec3.js';
import { mapCoordinates } from '../../src/ndimage/map-coordinates.js';
import { splineFilter } from '../../src/ndimage/bspline.js';

const ref = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/ndimage/ndimage-reference.json'), 'utf8')) as {
  shape: Vec3; volume: number[]; gaussian: { sigma: number; filtered: number[] }; coords: number[][]; order1: number[]; order3: number[];
};

test('trilinear and cubic B-spline sampling equal scipy map_coordinates inside the volume', () => {
  const coords = new Float32Array(3 * ref.order1.length);
  ref.coords.forEach((axis, d) => axis.forEach((v, p) => (coords[d * ref.order1.length + p] = v)));
  const out1 = new Float32Array(ref.order1.length);
  mapCoordinates(Float32Array.from(ref.volume), ref.shape, coords, 1, 0, out1);
  const coeffs = Float32Array.from(ref.volume);
  splineFilter(coeffs, ref.shape, 'mirror');
  const out3 = new Float32Array(ref.order3.length);
  mapCoordinates(coeffs, ref.shape, coords, 3, 0, out3);
  const inside = (p: number) => ref.coords.every((axis, d) => (axis[p] as number) >= 0 && (axis[p] as number) <= (ref.shape[d] as number) - 1);
  let checked = 0;
  for (let p = 0; p < ref.order1.length; p++) {
    if (!inside(p)) continue;
    checked++;
    assert.ok(Math.abs((out1[p] as number) - (ref.order1[p] as number)) < 1e-5, `order 1 at ${p}`);
    assert.ok(Math.abs((out3[p] as number) - (ref.order3[p] as number)) < 1e-4, `order 3 at ${p}: ${out3[p]} vs ${ref.order3[p]}`);
  }
  assert.ok(checked >= 10);
});

test('map_coordinates by hand: trilinear midpoint, grid points exact, outside gets cval', () => {
  // 2×2×2 volume with values 0…7 (i fastest): the centre is their mean 3.5
  const vol = Float32Array.from({ length: 8 }, (_, q) => q);
  const coords = Float32Array.from([0.5, 1, -0.01, /* j */ 0.5, 1, 0, /* k */ 0.5, 0, 0]);
  const out = new Float32Array(3);
  mapCoordinates(vol, [2, 2, 2], coords, 1, -9, out);
  assert.deepEqual(Array.from(out), [3.5, 3, -9]); // value(i, j, k) = i + 2j + 4k
});
