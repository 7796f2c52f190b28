/**
 * Synthetic CT-like toy tasks: the embedded default data of `segloss benchmark`.
 *
 * Each case is a small abdomen, 32×32×16 voxels at 1.2×1.2×3.75 mm (RAS), int16 Hounsfield-like
 * intensities: air −1000, subcutaneous fat −100, a muscle wall, a cluttered interior mixing fat
 * (−90) and bowel (−10), spine (~350, cortex ~650), aorta and IVC, and nine organs (liver, spleen,
 * both kidneys, gallbladder, oesophagus, stomach with an air bubble, pancreas, duodenum) as
 * smoothly deformed ellipsoids and tubes with per-case size, position, contrast and texture, laid
 * out on a 48×48×24 reference grid (the same field of view). The image is blurred (partial
 * volume) and gets correlated and white noise.
 *
 * Every task renders the same anatomy; only the labelled organs differ. Generator v3 (this one) is
 * tuned so that a tiny U-Net learns every task within the 80 steps of a smoke-benchmark cell
 * (docs/benchmark.md, "The toy tasks of the smoke benchmark"): the whole volume is one training
 * patch, the labelled structures stand out in intensity, and toy-multiorgan labels three organs.
 *
 * Foreground:background ratios (BG:FG, paper Table 1) are met by carving an exact voxel count per
 * organ: count = round(N / (ratio + 1) · exp(0.15·z)), z ~ N(0,1) per case and organ.
 *
 * Determinism: case n of task t with seed s draws only from `new Rng(s).fork(t).fork(n)`, so the
 * same seed gives byte-identical files and case n does not depend on how many cases are made.
 */
import * as path from 'node:path';
import { Rng } from '../../util/rng.js';
import { UsageError } from '../../util/errors.js';
import type { Vec3 } from '../../util/vec3.js';
import { diagonalAffine } from '../geometry.js';
import { makeVolume, writeNifti } from '../nifti.js';
import { smoothField, blur3 } from './field.js';
import { ORGANS, carve, randomWarp, shapeDistance, voxelPoint, type OrganName, type Point, type Shape } from './anatomy.js';
import { writeDirectoryAtomic, writeJsonAtomic } from '../../util/atomic.js';

export const TOY_SHAPE: [number, number, number] = [32, 32, 16];
export const TOY_SPACING_MM: Vec3 = [1.2, 1.2, 3.75];
/**
 * Voxels per reference voxel: the anatomy is laid out on a 48×48×24 reference grid (anatomy.ts
 * voxelPoint) and sampled on TOY_SHAPE, the same field of view (38.4×38.4×60 mm).
 */
export const TOY_GRID_SCALE = TOY_SHAPE[0] / 48;
/** Version of the generator; stored in dataset.json so a cached toy dataset is remade when it changes. */
export const GENERATOR_VERSION = 4;

export type ToyTaskId = 'toy-liver' | 'toy-livertumor' | 'toy-pancreas' | 'toy-multiorgan';

export interface ToyTaskDefinition {
  id: ToyTaskId;
  /** Case id prefix: `<prefix>_<nnn>`. */
  prefix: string;
  /** Output label value → what it marks (organ name or 'tumour'). */
  labels: { value: number; name: string; source: OrganName | 'tumour' }[];
  /** Target BG:FG ratio per organ where it differs from ANATOMY_RATIOS. */
  ratios: Partial<Record<OrganName | 'tumour', number>>;
}

/**
 * Default BG:FG ratio per organ (every task renders every organ). Multi-organ values span the
 * paper's 30:1 (liver) to 1243:1 (gallbladder).
 */
export const ANATOMY_RATIOS: Record<OrganName | 'tumour', number> = {
  liver: 30,
  stomach: 100,
  spleen: 180,
  kidney_left: 250,
  kidney_right: 250,
  duodenum: 450,
  pancreas: 503,
  esophagus: 1000,
  gallbladder: 1243,
  tumour: 576,
};

export const TOY_TASKS: Record<ToyTaskId, ToyTaskDefinition> = {
  'toy-liver': { id: 'toy-liver', prefix: 'toyliver', labels: [{ value: 1, name: 'liver', source: 'liver' }], ratios: { liver: 42 } },
  'toy-livertumor': { id: 'toy-livertumor', prefix: 'toylivertumor', labels: [{ value: 1, name: 'tumour', source: 'tumour' }], ratios: { liver: 36, tumour: 576 } },
  'toy-pancreas': { id: 'toy-pancreas', prefix: 'toypancreas', labels: [{ value: 1, name: 'pancreas', source: 'pancreas' }], ratios: { pancreas: 503 } },
  'toy-multiorgan': {
    id: 'toy-multiorgan',
    prefix: 'toymultiorgan',
    // Label order of Gibson et al. (2018) / the paper §3.1.4, restricted to the labelled organs.
    // Generator v3 labels three of them (v2: the eight of the study): kidney, pancreas and the
    // smaller organs stayed at DSC 0 within a smoke cell's steps (docs/benchmark.md, toy tasks).
    labels: [
      { value: 1, name: 'spleen', source: 'spleen' },
      { value: 2, name: 'liver', source: 'liver' },
      { value: 3, name: 'stomach', source: 'stomach' },
    ],
    ratios: { liver: 30 },
  },
};

export function isToyTask(id: string): id is ToyTaskId {
  return Object.prototype.hasOwnProperty.call(TOY_TASKS, id);
}

export function toyTask(id: string): ToyTaskDefinition {
  if (!isToyTask(id)) throw new UsageError(`unknown toy task '${id}' (valid: ${Object.keys(TOY_TASKS).join(', ')})`);
  return TOY_TASKS[id];
}

/** Mean Hounsfield units of each organ (portal-venous phase), before per-case variation. */
const ORGAN_HU: Record<OrganName, number> = {
  liver: 95,
  // 85 HU above the liver (v2: 10, the same organ to a threshold). Within a smoke cell's 80 steps
  // the labelled spleen is still mostly not learned (docs/benchmark.md, toy tasks).
  spleen: 180,
  kidney_left: 150,
  kidney_right: 150,
  gallbladder: 15,
  esophagus: 45,
  // Positive oral contrast (v2: 30 HU, water): the labelled stomach stood out only by its gas.
  // Where the stomach is a label it is filled (no gas pocket, generator v4; see the intensities below).
  stomach: 250,
  // Brighter than the liver (pancreatic-phase enhancement), so the small organ stands out from the
  // fat/bowel clutter after the partial-volume blur (generator v3; v2 had 85, between the two).
  pancreas: 125,
  duodenum: 45,
};

export interface ToyCase {
  id: string;
  /** Hounsfield units, i fastest, shape TOY_SHAPE. */
  image: Int16Array;
  /** Task label values. */
  label: Uint8Array;
  /** Every organ of the toy abdomen (index into ORGANS + 1; 0 none), whatever the task labels. */
  anatomy: Uint8Array;
}

const jitter = (rng: Rng, p: Point, sd: number): Point => [p[0] + sd * rng.normal(), p[1] + sd * rng.normal(), p[2] + sd * rng.normal()];

/** The organ shapes of one case (metric voxel space, see anatomy.ts), with random variation. */
function organShapes(rng: Rng, shift: Point, scale: number): Record<OrganName, Shape> {
  const at = (i: number, j: number, k: number): Point => jitter(rng, [24 + (i - 24) * scale + shift[0], 24 + (j - 24) * scale + shift[1], 18 + (k - 18) * scale + shift[2]], 0.8);
  const warp = () => randomWarp(rng, 0.9, 14);
  const ell = (c: Point, r: Point, angle: number): Shape => ({ kind: 'ellipsoid', center: c, radii: r, angle: angle + 0.15 * rng.normal(), warp: warp() });
  const tube = (pts: Point[], r0: number, r1: number): Shape => ({ kind: 'tube', path: pts, radius: [r0, r1], warp: warp() });
  return {
    liver: ell(at(33, 26, 22), [9, 8, 10], -0.35),
    gallbladder: ell(at(31, 33, 13), [2, 2.5, 3], 0.3),
    // Generator v4: rounder (v3: [4, 7, 7] centred a slice higher). The flat v3 spleen lay against
    // the body wall, 4–6 voxels thick, and the blur took its mean from 180 to ~140 HU, the liver's range.
    spleen: ell(at(13, 17, 22), [6, 6.5, 6], 0.5),
    kidney_left: ell(at(14, 12, 15), [3.5, 5, 8], 0.4),
    kidney_right: ell(at(34, 12, 12), [3.5, 5, 8], -0.4),
    stomach: ell(at(16, 30, 23), [7, 5, 6], -0.3),
    // Head and body only (v2 also had the tail, 12 → 29 voxels long): the same voxel count on a
    // path half as long makes the organ about twice as thick, a few voxels across.
    pancreas: tube([at(17, 21, 19), at(24, 22, 17)], 2.2, 2.6),
    duodenum: tube([at(30, 27, 21), at(34, 24, 16), at(33, 19, 11), at(27, 18, 9)], 1.8, 1.8),
    esophagus: tube([at(21, 18, 22), at(20, 19, 30), at(20, 18, 40)], 1.6, 1.6),
  };
}

/** Generate one case of a toy task. */
export function synthesizeToyCase(taskId: ToyTaskId, seed: number, caseIndex: number): ToyCase {
  const task = TOY_TASKS[taskId];
  const rng = new Rng(seed).fork(taskId).fork(caseIndex);
  const shape = TOY_SHAPE;
  const [ni, nj, nk] = shape;
  const total = ni * nj * nk;
  const countFor = (ratio: number) => Math.max(4, Math.round((total / (ratio + 1)) * Math.exp(0.15 * rng.normal())));

  // Body: an elliptic cylinder with a smoothly wobbling outline.
  const scale = rng.uniform(0.94, 1.04);
  const shift: Point = [rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5), rng.uniform(-2, 2)];
  const bodyRadii: [number, number] = [21.5 * scale, 17 * scale];
  const bodyWarp = randomWarp(rng, 0.6, 20);
  const spine = { c: [24 + shift[0], 11.5 + shift[1]] as [number, number], r: 4.2 * scale };
  const aorta = { c: [20.5 + shift[0], 17 + shift[1]] as [number, number], r: 2.1 };
  const ivc = { c: [28 + shift[0], 17.5 + shift[1]] as [number, number], r: 2.0 };
  const bodyF = new Float32Array(total);
  const region = new Uint8Array(total); // 0 air, 1 fat layer, 2 muscle wall, 3 interior, 4 spine, 5 aorta, 6 ivc
  for (let k = 0, n = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++, n++) {
        const p = voxelPoint(i, j, k, TOY_GRID_SCALE);
        const w = shapeDistance({ kind: 'ellipsoid', center: [24 + shift[0], 24 + shift[1], 0], radii: [bodyRadii[0], bodyRadii[1], 1e9], angle: 0, warp: bodyWarp }, p);
        bodyF[n] = w;
        const inCircle = (c: { c: [number, number]; r: number }) => Math.hypot(p[0] - c.c[0], p[1] - c.c[1]) < c.r;
        region[n] = w >= 1 ? 0 : w > 0.9 ? 1 : w > 0.82 ? 2 : inCircle(spine) ? 4 : inCircle(aorta) ? 5 : inCircle(ivc) ? 6 : 3;
      }
    }
  }

  // Organs, carved smallest first with exact voxel counts.
  const ratios = { ...ANATOMY_RATIOS, ...task.ratios };
  const shapes = organShapes(rng, shift, scale);
  const anatomy = new Uint8Array(total);
  const interior = (n: number) => region[n] === 3 && (bodyF[n] as number) < 0.8;
  ORGANS.forEach((organ, index) => carve(anatomy, shape, index + 1, shapes[organ], countFor(ratios[organ]), interior, 3, TOY_GRID_SCALE));

  // Tumour: one hyper-enhancing lesion (arterial-phase, like HCC) strictly inside the liver. v2 had
  // 1–2 hypodense ones (55–75 HU below the liver), which at the fat/gallbladder intensities were
  // not learned within a benchmark cell's steps.
  const liverIndex = ORGANS.indexOf('liver') + 1;
  const tumour = new Uint8Array(total);
  const tumourCount = Math.max(3, countFor(ratios.tumour));
  const liverShape = shapes.liver;
  const deepLiver: number[] = [];
  for (let k = 0, n = 0; k < nk; k++) for (let j = 0; j < nj; j++) for (let i = 0; i < ni; i++, n++) if (anatomy[n] === liverIndex && shapeDistance(liverShape, voxelPoint(i, j, k, TOY_GRID_SCALE)) < 0.6) deepLiver.push(n);
  if (deepLiver.length > 0) {
    const centre = deepLiver[rng.int(deepLiver.length)] as number;
    const ci = centre % ni;
    const cj = Math.floor(centre / ni) % nj;
    const ck = Math.floor(centre / (ni * nj));
    const r = rng.uniform(0.8, 1.25);
    const lesion: Shape = { kind: 'ellipsoid', center: voxelPoint(ci, cj, ck, TOY_GRID_SCALE), radii: [r, r * rng.uniform(0.8, 1.25), r], angle: rng.uniform(0, Math.PI), warp: randomWarp(rng, 0.4, 6) };
    carve(tumour, shape, 1, lesion, tumourCount, (n) => anatomy[n] === liverIndex, 8, TOY_GRID_SCALE);
  }

  // Intensities.
  // Correlation lengths in reference voxels, scaled to the grid.
  const cells = (c: [number, number, number]) => c.map((v) => v * TOY_GRID_SCALE) as [number, number, number];
  const clutter = smoothField(shape, cells([5, 5, 3]), rng);
  const texture = smoothField(shape, cells([3, 3, 2]), rng);
  const bias = smoothField(shape, cells([16, 16, 8]), rng);
  const organHu = ORGANS.map((o) => ORGAN_HU[o] + 10 * rng.normal());
  const tumourHu = organHu[liverIndex - 1]! + rng.uniform(80, 110);
  const stomachIndex = ORGANS.indexOf('stomach') + 1;
  const stomachLabelled = task.labels.some((l) => l.source === 'stomach');
  const stomachTop = shapes.stomach.kind === 'ellipsoid' ? shapes.stomach.center : ([0, 0, 0] as Point);
  const img = new Float32Array(total);
  for (let k = 0, n = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++, n++) {
        const t = texture[n] as number;
        const p = voxelPoint(i, j, k, TOY_GRID_SCALE);
        let v: number;
        switch (region[n]) {
          case 0: v = -1000; break;
          case 1: v = -100 + 8 * t; break;
          case 2: v = 50 + 8 * t; break;
          case 4: v = Math.hypot(p[0] - spine.c[0], p[1] - spine.c[1]) > spine.r - 1.2 ? 650 : 300 + 40 * t; break;
          case 5: v = 170 + 5 * t; break;
          case 6: v = 125 + 5 * t; break;
          default: {
            // Interior clutter: a smooth mix of fat and bowel/soft tissue.
            const s = 1 / (1 + Math.exp(-2.2 * (clutter[n] as number)));
            // From fat (−90) to −10 HU (v2: to +30, which hid the small organs in the clutter).
            v = -90 + 80 * s + 10 * t;
          }
        }
        const organ = anatomy[n] as number;
        if (organ > 0) {
          v = (organHu[organ - 1] as number) + 9 * t;
          // Gas in the stomach fundus (the anterior-superior part) where the stomach is not a label. In
          // a label the gas would set the CT normalisation's lower clip (0.5th percentile of the
          // labelled voxels, nnU-Net V1) near −600 HU instead of +30 and shrink every soft-tissue
          // contrast the network sees by about 1.7× (foreground SD 101 → 59 HU).
          if (organ === stomachIndex && !stomachLabelled && p[1] > stomachTop[1] + 2 && p[2] > stomachTop[2] + 1) v = -850 + 30 * t;
        }
        if (tumour[n] === 1) v = tumourHu + 12 * t;
        img[n] = v;
      }
    }
  }
  // The same partial-volume blur in millimetres as v2's [0.2, 0.2, 0.12] on the reference grid,
  // so fewer voxel widths on the coarser grid.
  blur3(img, shape, [0.2 * TOY_GRID_SCALE, 0.2 * TOY_GRID_SCALE, 0.12 * TOY_GRID_SCALE]);
  const noiseSd = rng.uniform(6, 10); // v2: 12–18 HU
  const out = new Int16Array(total);
  for (let n = 0; n < total; n++) {
    const v = (img[n] as number) + 8 * (bias[n] as number) + noiseSd * rng.normal();
    out[n] = Math.max(-1024, Math.min(3071, Math.round(v)));
  }

  // Task labels.
  const label = new Uint8Array(total);
  for (const l of task.labels) {
    if (l.source === 'tumour') {
      for (let n = 0; n < total; n++) if (tumour[n] === 1) label[n] = l.value;
    } else {
      const index = ORGANS.indexOf(l.source) + 1;
      for (let n = 0; n < total; n++) if (anatomy[n] === index) label[n] = l.value;
    }
  }
  return { id: `${task.prefix}_${String(caseIndex).padStart(3, '0')}`, image: out, label, anatomy };
}

export interface SynthOptions {
  cases: number;
  seed: number;
  /** Called after each case is written (for progress bars). */
  onCase?: (done: number, total: number) => void;
}

/** The affine of every toy case: RAS, spacing TOY_SPACING_MM, volume centred on the origin. */
export function toyAffine() {
  const origin = TOY_SHAPE.map((n, d) => -((n - 1) / 2) * (TOY_SPACING_MM[d] as number)) as Vec3;
  return diagonalAffine(TOY_SPACING_MM, origin);
}

/** Marker stored in dataset.json so ensureTaskData can tell a segloss toy dataset and its settings. */
export interface SynthProvenance {
  generator: 'segloss-synth';
  version: number;
  task: ToyTaskId;
  seed: number;
  cases: number;
}

/**
 * Write an MSD-layout dataset (dataset.json, imagesTr/, labelsTr/) of `cases` toy cases to `outDir`,
 * replacing the directory atomically (it appears complete or not at all).
 */
export async function synthesizeDataset(taskId: string, outDir: string, options: SynthOptions): Promise<void> {
  const task = toyTask(taskId);
  if (!(Number.isInteger(options.cases) && options.cases >= 1 && options.cases <= 10000)) throw new UsageError(`--cases: expected an integer from 1 to 10000, got ${options.cases}`);
  const affine = toyAffine();
  await writeDirectoryAtomic(path.resolve(outDir), async (dir) => {
    const training: { image: string; label: string }[] = [];
    for (let n = 0; n < options.cases; n++) {
      const c = synthesizeToyCase(task.id, options.seed, n);
      await writeNifti(path.join(dir, 'imagesTr', `${c.id}.nii.gz`), makeVolume(c.image, [...TOY_SHAPE], affine));
      await writeNifti(path.join(dir, 'labelsTr', `${c.id}.nii.gz`), makeVolume(c.label, [...TOY_SHAPE], affine));
      training.push({ image: `./imagesTr/${c.id}.nii.gz`, label: `./labelsTr/${c.id}.nii.gz` });
      options.onCase?.(n + 1, options.cases);
    }
    const provenance: SynthProvenance = { generator: 'segloss-synth', version: GENERATOR_VERSION, task: task.id, seed: options.seed, cases: options.cases };
    const labels: Record<string, string> = { '0': 'background' };
    for (const l of task.labels) labels[String(l.value)] = l.name;
    await writeJsonAtomic(path.join(dir, 'dataset.json'), {
      name: task.id,
      description: `segloss synthetic CT-like toy task ${task.id} (${TOY_SHAPE.join('x')} voxels at ${TOY_SPACING_MM.join('x')} mm)`,
      reference: 'segloss synth (synthetic, no patient data)',
      licence: 'CC0',
      release: `segloss-synth v${GENERATOR_VERSION}`,
      tensorImageSize: '3D',
      modality: { '0': 'CT' },
      labels,
      numTraining: options.cases,
      numTest: 0,
      training,
      test: [],
      segloss: provenance,
    });
  });
}
