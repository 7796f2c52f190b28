/** Small synthetic datasets on disk (MSD and nnU-Net v2 layouts) for the task, label and split tests. */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Vec3 } from '../../src/util/vec3.js';
import type { Affine } from '../../src/data/volume.js';
import { makeVolume, writeNifti } from '../../src/data/nifti.js';
import { diagonalAffine } from '../../src/data/geometry.js';
import { synthesizeDataset } from '../../src/data/synth/toy.js';
import { preprocessDataset } from '../../src/preprocess/pipeline.js';
import type { Plans } from '../../src/preprocess/plans.js';
import { tempDir } from '../helpers.js';

export const SHAPE: Vec3 = [10, 9, 6];
export const SPACING: Vec3 = [1, 1, 2];

/**
 * Case n: CT-like image (−1000 outside, 40 + n inside a box; never 0, so nothing is cropped) and a
 * label map with a 6×5×4 box of `outer` holding a 2×2×2 core of `inner` (inner 0: no core).
 */
export function smallCase(n: number, outer = 1, inner = 2): { image: Float32Array; label: Uint8Array } {
  const [ni, nj, nk] = SHAPE;
  const image = new Float32Array(ni * nj * nk).fill(-1000);
  const label = new Uint8Array(ni * nj * nk);
  for (let k = 1; k < 5; k++)
    for (let j = 2; j < 7; j++)
      for (let i = 2; i < 8; i++) {
        const x = i + ni * (j + nj * k);
        image[x] = 40 + n + ((i + j + k) % 3);
        label[x] = outer;
        if (inner > 0 && i >= 4 && i < 6 && j >= 3 && j < 5 && k >= 2 && k < 4) label[x] = inner;
      }
  return { image, label };
}

/** Voxels of the outer box (6·5·4) and of the core (2·2·2) of `smallCase`. */
export const BOX_VOXELS = 120;
export const CORE_VOXELS = 8;

export interface SmallDatasetOptions {
  labels?: Record<string, string>;
  /** Label values written: outer box and core. */
  outer?: number;
  inner?: number;
  /** Affine of case `id`'s label (default: the image's). */
  labelAffine?: (id: string, imageAffine: Affine) => Affine;
  /** Ids listed in dataset.json without files. */
  missing?: string[];
}

/** An MSD-layout dataset (dataset.json with modality/labels/training, imagesTr/, labelsTr/). */
export async function writeMsdDataset(dir: string, ids: readonly string[], options: SmallDatasetOptions = {}): Promise<void> {
  mkdirSync(path.join(dir, 'imagesTr'), { recursive: true });
  mkdirSync(path.join(dir, 'labelsTr'), { recursive: true });
  const affine = diagonalAffine(SPACING, [-5, -4, 10]);
  for (const [n, id] of ids.entries()) {
    const c = smallCase(n, options.outer ?? 1, options.inner ?? 2);
    await writeNifti(path.join(dir, 'imagesTr', `${id}.nii.gz`), makeVolume(c.image, [...SHAPE], affine));
    await writeNifti(path.join(dir, 'labelsTr', `${id}.nii.gz`), makeVolume(c.label, [...SHAPE], options.labelAffine?.(id, affine) ?? affine), { datatype: 'uint8' });
  }
  const listed = [...ids, ...(options.missing ?? [])];
  writeFileSync(
    path.join(dir, 'dataset.json'),
    JSON.stringify({
      name: path.basename(dir),
      modality: { '0': 'CT' },
      labels: options.labels ?? { '0': 'background', '1': 'liver', '2': 'tumour' },
      training: listed.map((id) => ({ image: `./imagesTr/${id}.nii.gz`, label: `./labelsTr/${id}.nii.gz` })),
      test: [],
    }),
  );
}

/** An nnU-Net v2 dataset (dataset.json with channel_names/labels/file_ending, imagesTr/<id>_0000.nii.gz). */
export async function writeNnunetV2Dataset(dir: string, ids: readonly string[], labels: Record<string, number> = { background: 0, organ: 1, core: 2 }): Promise<void> {
  mkdirSync(path.join(dir, 'imagesTr'), { recursive: true });
  mkdirSync(path.join(dir, 'labelsTr'), { recursive: true });
  const affine = diagonalAffine(SPACING);
  for (const [n, id] of ids.entries()) {
    const c = smallCase(n);
    await writeNifti(path.join(dir, 'imagesTr', `${id}_0000.nii.gz`), makeVolume(c.image, [...SHAPE], affine));
    await writeNifti(path.join(dir, 'labelsTr', `${id}.nii.gz`), makeVolume(c.label, [...SHAPE], affine), { datatype: 'uint8' });
  }
  writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify({ channel_names: { '0': 'CT' }, labels, numTraining: ids.length, file_ending: '.nii.gz' }));
}

/**
 * Six toy-liver cases (seed 3) synthesized under a fresh temporary `root` (root/raw) and
 * preprocessed with the cpu profile (root/pre): the inputs of the prediction tests.
 */
export async function preprocessedToyLiver(prefix: string): Promise<{ root: string; raw: string; pre: string; plans: Plans }> {
  const root = tempDir(prefix);
  const raw = path.join(root, 'raw');
  const pre = path.join(root, 'pre');
  await synthesizeDataset('toy-liver', raw, { cases: 6, seed: 3 });
  const plans = await preprocessDataset({ datasetDir: raw, outDir: pre, profile: 'cpu' });
  return { root, raw, pre, plans };
}
