/**
 * A small case for the input checks of `segloss evaluate` (evaluate-geometry.test.ts,
 * evaluate-labels.test.ts): a reference box of 40 voxels and a prediction with one voxel moved,
 * so DSC = 78/80 = 0.975 when both are aligned and valid.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runSegloss, tempDir } from '../helpers.js';
import type { Affine, VoxelArray } from '../../src/data/volume.js';
import { makeVolume, writeNiftiSync } from '../../src/data/nifti.js';

export const SHAPE = [10, 10, 6];
/** 1 × 1 × 2 mm voxels, origin (−20, 30, 5) mm, RAS. */
export const AFFINE: Affine = [[1, 0, 0, -20], [0, 1, 0, 30], [0, 0, 2, 5], [0, 0, 0, 1]];
export const index = (i: number, j: number, k: number) => i + SHAPE[0]! * (j + SHAPE[1]! * k);

/** Reference: a 4 × 5 × 2 box of label 1 (40 voxels). */
export function reference(): Uint8Array {
  const data = new Uint8Array(SHAPE[0]! * SHAPE[1]! * SHAPE[2]!);
  for (let k = 1; k < 3; k++) for (let j = 2; j < 7; j++) for (let i = 2; i < 6; i++) data[index(i, j, k)] = 1;
  return data;
}

/** Prediction: the box with one voxel moved just outside it: |G ∩ P| = 39, DSC = 78/80 = 0.975. */
export function prediction<T extends VoxelArray>(make: (n: number) => T): T {
  const data = make(SHAPE[0]! * SHAPE[1]! * SHAPE[2]!);
  reference().forEach((v, i) => (data[i] = v));
  data[index(2, 2, 1)] = 0;
  data[index(6, 2, 1)] = 1;
  return data;
}

export interface Case {
  root: string;
  gtFile: string;
  predFile: string;
}

export function writeCase(pred: VoxelArray, predAffine: Affine = AFFINE, gt: VoxelArray = reference()): Case {
  const root = tempDir('segloss-eval-inputs-');
  const gtFile = path.join(root, 'gt', 'case_1.nii.gz');
  const predFile = path.join(root, 'pred', 'case_1.nii.gz');
  writeNiftiSync(gtFile, makeVolume(gt, SHAPE, AFFINE));
  writeNiftiSync(predFile, makeVolume(pred, SHAPE, predAffine));
  return { root, gtFile, predFile };
}

export function evaluate(c: Case, ...extra: string[]) {
  return runSegloss(['evaluate', '--pred', path.dirname(c.predFile), '--gt', path.dirname(c.gtFile), '--out', path.join(c.root, 'out'), '--task', 'T', '--loss', 'L', '--workers', '1', ...extra]);
}

export function meanDsc(c: Case): number {
  const summary = JSON.parse(readFileSync(path.join(c.root, 'out', 'segloss_summary.json'), 'utf8')) as { foreground_mean: { dsc: number } };
  return summary.foreground_mean.dsc;
}
