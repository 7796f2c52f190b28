import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runSegloss, tempDir } from '../helpers.js';
import { affineMismatch, diagonalAffine } from '../../src/data/geometry.js';
import type { Affine } from '../../src/data/volume.js';
import { writeMsdDataset } from './small-datasets.js';

test('affineMismatch: spacing, then direction, then origin, with np.allclose tolerances', () => {
  const a = diagonalAffine([1, 1, 2], [-5, -4, 10]);
  assert.equal(affineMismatch(a, a), null);
  // 1e-5 mm on an origin of −5 mm is inside 1e-8 + 1e-5·5; 1e-3 mm is not.
  assert.equal(affineMismatch(diagonalAffine([1, 1, 2], [-5 + 1e-5, -4, 10]), a), null);
  assert.equal(affineMismatch(diagonalAffine([1, 1, 2], [-5.001, -4, 10]), a, "the image's"), "origin (-5.001, -4, 10) mm differs from the image's (-5, -4, 10) mm");
  assert.equal(affineMismatch(diagonalAffine([1, 1, 2.5], [-5, -4, 10]), a), "voxel sizes (1, 1, 2.5) mm differ from the reference's (1, 1, 2) mm");
  const flipped: Affine = [[-1, 0, 0, 4], [0, 1, 0, -4], [0, 0, 2, 10], [0, 0, 0, 1]];
  assert.equal(affineMismatch(flipped, a), "axis directions LAS [-1 0 0; 0 1 0; 0 0 1] differ from the reference's RAS [1 0 0; 0 1 0; 0 0 1]");
});

test('segloss check compares each label affine with its image: shifted and flipped labels are problem lines', async () => {
  const dir = path.join(tempDir(), 'shifted');
  await writeMsdDataset(dir, ['a', 'b', 'c', 'd'], {
    labelAffine: (id, image) => {
      if (id === 'b') return image.map((row, i) => (i === 0 ? [row[0]!, row[1]!, row[2]!, row[3]! + 50] : [...row])) as Affine;
      if (id === 'c') return [[-1, 0, 0, 4], [0, 1, 0, -4], [0, 0, 2, 10], [0, 0, 0, 1]];
      if (id === 'd') return image.map((row, i) => (i === 2 ? [row[0]!, row[1]!, row[2]!, row[3]! + 1e-5] : [...row])) as Affine;
      return image;
    },
  });
  const r = runSegloss(['--json', 'check', dir]);
  assert.equal(r.status, 2, r.stderr);
  const report = JSON.parse(r.stdout) as { problems: { case: string; file: string; message: string }[]; cases: number };
  assert.deepEqual(
    report.problems.map((p) => [p.case, path.relative(dir, p.file), p.message]),
    [
      ['b', 'labelsTr/b.nii.gz', "label origin (45, -4, 10) mm differs from the image's (-5, -4, 10) mm (np.allclose: 1e-8 + 1e-5·|image| per component)"],
      ['c', 'labelsTr/c.nii.gz', "label axis directions LAS [-1 0 0; 0 1 0; 0 0 1] differ from the image's RAS [1 0 0; 0 1 0; 0 0 1] (np.allclose: 1e-8 + 1e-5·|image| per component)"],
    ],
  );
  assert.equal(report.cases, 2); // a and d (1e-5 mm off, within tolerance)
  const human = runSegloss(['check', dir]);
  assert.equal(human.status, 2);
  assert.match(human.stdout, /2 problem\(s\):/);
  assert.match(human.stdout, /b +labelsTr\/b\.nii\.gz +label origin \(45, -4, 10\) mm differs from the image's \(-5, -4, 10\) mm/);
});
