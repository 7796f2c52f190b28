/**
 * Experiment planning for 3d_fullres with nnU-Net V1's original `ExperimentPlanner` (the 2019
 * planner the study used, `ExperimentPlanner3D_v21`; docs/preprocessing.md): median target spacing, transposition of the
 * coarsest axis to the front, initial isotropic-in-mm patch clipped to the median shape,
 * late-pooling topology (`get_pool_and_conv_props_poolLateV2`), VRAM proxy shrink loop, batch size
 * rule, dummy-2D rule and the 3d_lowres stage count that switches batch Dice on.
 *
 * Internally everything runs in nnU-Net's transposed (z, y, x) order so that ties (argmax, argsort)
 * break exactly as in numpy; inputs and outputs are in segloss's (i, j, k) order
 * (zyx axis a = ijk axis 2 − a).
 */
import type { Vec3 } from '../util/vec3.js';
import type { NetworkTopology, StageTopology } from '../model/topology.js';
import { pyRound } from './resample.js';
import { median } from './fingerprint.js';

/** The numbers of a compute profile that planning uses (configs/profiles/*.yaml). */
export interface PlannerSettings {
  /** Features of the first stage (nnU-Net original planner: 30). */
  baseFeatures: number;
  /** Cap on features per stage (320). */
  maxFeatures: number;
  /** VRAM proxy budget `ref` (Generic_UNet.use_this_for_batch_size_computation_3D = 520e6). */
  vramRef: number;
  /** Batch size the budget corresponds to (DEFAULT_BATCH_SIZE_3D = 2). */
  defaultBatchSize: number;
  /** Floor of the batch-size cap (unet_min_batch_size = 2). */
  minBatchSize: number;
  /** A batch may cover at most this fraction of the dataset's voxels (0.05). */
  batchMaxDatasetFraction: number;
  /** Minimum bottleneck edge in voxels (unet_featuremap_min_edge_length = 4). */
  minBottleneckEdge: number;
  /** Maximum pooling operations per axis (999). */
  maxPoolsPerAxis: number;
  /** Convolutions per stage (2). */
  convPerStage: number;
  /** Target spacing = median spacing × this factor (1 = nnU-Net; >1 = coarser, cheaper). */
  targetSpacingFactor: number;
  /** 3d_lowres exists when median voxels ≥ this × patch voxels (4). */
  lowresPatientFactor: number;
}

export const NNUNET_V1_DEFAULTS: PlannerSettings = {
  baseFeatures: 30,
  maxFeatures: 320,
  vramRef: 520_000_000,
  defaultBatchSize: 2,
  minBatchSize: 2,
  batchMaxDatasetFraction: 0.05,
  minBottleneckEdge: 4,
  maxPoolsPerAxis: 999,
  convPerStage: 2,
  targetSpacingFactor: 1,
  lowresPatientFactor: 4,
};

export interface PoolConvProps {
  numPoolPerAxis: number[];
  /** Per pooling stage, stride per axis. */
  poolKernelSizes: number[][];
  /** Per encoder stage plus the bottleneck, kernel per axis. */
  convKernelSizes: number[][];
  /** Patch padded up to a multiple of `divisibleBy`. */
  patch: number[];
  divisibleBy: number[];
}

/** `get_pool_and_conv_props_poolLateV2`, in the order of the arrays given. */
export function poolLateV2(patchSize: readonly number[], minEdge: number, maxPool: number, spacing: readonly number[]): PoolConvProps {
  const dim = patchSize.length;
  const reach = Math.max(...spacing);
  const numPool = patchSize.map((p) => Math.min(Math.floor(Math.log(p / minEdge) / Math.log(2)), maxPool));
  const net = Math.max(...numPool);
  const poolKernelSizes: number[][] = [];
  const convKernelSizes: number[][] = [];
  let cur = [...spacing];
  for (let p = 0; p < net; p++) {
    const reached = cur.map((s) => s / reach > 0.5);
    const pool = numPool.map((n) => (n + p >= net ? 2 : 1));
    const conv = reached.every((r) => r) ? new Array<number>(dim).fill(3) : reached.map((r) => (r ? 1 : 3));
    poolKernelSizes.push(pool);
    convKernelSizes.push(conv);
    cur = cur.map((s, i) => s * (pool[i] as number));
  }
  convKernelSizes.push(new Array<number>(dim).fill(3));
  const divisibleBy = numPool.map((n) => 2 ** n);
  return { numPoolPerAxis: numPool, poolKernelSizes, convKernelSizes, patch: padShape(patchSize, divisibleBy), divisibleBy };
}

/** nnU-Net `pad_shape`: round each axis up to the next multiple (unchanged if already one). */
export function padShape(shape: readonly number[], divisibleBy: readonly number[]): number[] {
  return shape.map((s, i) => {
    const d = divisibleBy[i] as number;
    return s % d === 0 ? s : s + d - (s % d);
  });
}

/** `Generic_UNet.compute_approx_vram_consumption` without deep supervision. */
export function vramProxy(
  patch: readonly number[],
  poolKernelSizes: readonly number[][],
  baseFeatures: number,
  maxFeatures: number,
  numModalities: number,
  numClasses: number,
  convPerStage = 2,
): number {
  const mapSize = [...patch];
  const prod = (a: readonly number[]) => a.reduce((x, y) => x * y, 1);
  let total = (convPerStage * 2 + 1) * prod(mapSize) * baseFeatures + numModalities * prod(mapSize) + numClasses * prod(mapSize);
  let feat = baseFeatures;
  const npool = poolKernelSizes.length;
  for (let p = 0; p < npool; p++) {
    for (let a = 0; a < mapSize.length; a++) mapSize[a] = Math.trunc((mapSize[a] as number) / ((poolKernelSizes[p] as number[])[a] as number));
    feat = Math.min(feat * 2, maxFeatures);
    const blocks = p < npool - 1 ? convPerStage * 2 + 1 : convPerStage;
    total += blocks * prod(mapSize) * feat;
  }
  return total;
}

/** One stage of a plan, in transposed order (as nnU-Net stores it). */
export interface StagePlan {
  batchSize: number;
  numPoolPerAxis: number[];
  patchSize: number[];
  medianPatientSizeInVoxels: number[];
  currentSpacing: number[];
  originalSpacing: number[];
  doDummy2DDataAug: boolean;
  poolKernelSizes: number[][];
  convKernelSizes: number[][];
  vramProxy: number;
}

/** `get_properties_for_stage` of the original planner with the v1-final shrink loop. */
export function propertiesForStage(
  currentSpacing: readonly number[],
  originalSpacing: readonly number[],
  originalShape: readonly number[],
  numCases: number,
  numModalities: number,
  numClasses: number,
  s: PlannerSettings,
): StagePlan {
  const newMedianShape = originalShape.map((n, a) => pyRound(((originalSpacing[a] as number) / (currentSpacing[a] as number)) * n));
  const datasetVoxels = newMedianShape.reduce((x, y) => x * y, 1) * numCases;
  let v = currentSpacing.map((sp) => 1 / sp);
  const mean = v.reduce((x, y) => x + y, 0) / v.length;
  v = v.map((x) => x / mean);
  const factor = (1 / Math.min(...v)) * 512;
  const initial = v.map((x) => pyRound(x * factor)).map((x, a) => Math.min(x, newMedianShape[a] as number));

  const props = (shape: readonly number[]) => poolLateV2(shape, s.minBottleneckEdge, s.maxPoolsPerAxis, currentSpacing);
  const vram = (pc: PoolConvProps) => vramProxy(pc.patch, pc.poolKernelSizes, s.baseFeatures, s.maxFeatures, numModalities, numClasses, s.convPerStage);
  let pc = props(initial);
  let here = vram(pc);
  while (here > s.vramRef) {
    const ratios = pc.patch.map((p, a) => p / (newMedianShape[a] as number));
    const axis = argsortLast(ratios);
    const tmp = [...pc.patch];
    tmp[axis] = (tmp[axis] as number) - (pc.divisibleBy[axis] as number);
    const divNew = props(tmp).divisibleBy;
    const shrunk = [...pc.patch];
    shrunk[axis] = (shrunk[axis] as number) - (divNew[axis] as number);
    if ((shrunk[axis] as number) < 1) break; // cannot shrink further (a budget below any network)
    pc = props(shrunk);
    here = vram(pc);
  }
  const patch = pc.patch;
  let bs = Math.floor(Math.max(s.vramRef / here, 1) * s.defaultBatchSize);
  const maxBs = Math.max(pyRound((s.batchMaxDatasetFraction * datasetVoxels) / patch.reduce((x, y) => x * y, 1)), s.minBatchSize);
  bs = Math.max(1, Math.min(bs, maxBs));
  return {
    batchSize: bs,
    numPoolPerAxis: pc.numPoolPerAxis,
    patchSize: patch,
    medianPatientSizeInVoxels: newMedianShape,
    currentSpacing: [...currentSpacing],
    originalSpacing: [...originalSpacing],
    doDummy2DDataAug: Math.max(...patch) / (patch[0] as number) > 3,
    poolKernelSizes: pc.poolKernelSizes,
    convKernelSizes: pc.convKernelSizes,
    vramProxy: here,
  };
}

/** numpy `argsort(x)[-1]` for short arrays (stable sort): the last index among the maxima. */
function argsortLast(x: readonly number[]): number {
  let best = 0;
  for (let a = 1; a < x.length; a++) if ((x[a] as number) >= (x[best] as number)) best = a;
  return best;
}

/** Planner input: per training case spacing and cropped shape, (i, j, k). */
export interface PlanningInput {
  spacingsMm: Vec3[];
  shapesAfterCrop: Vec3[];
  numModalities: number;
  /** Number of classes including background. */
  numClasses: number;
}

export interface ExperimentPlan {
  /** Target spacing (i, j, k). */
  targetSpacingMm: Vec3;
  /** nnU-Net transpose_forward in its (z, y, x) order. */
  transposeForward: number[];
  transposeBackward: number[];
  /** Median shape after resampling to the target spacing (i, j, k, float). */
  medianShape: Vec3;
  /** The 3d_fullres stage in (i, j, k) order. */
  patchSize: Vec3;
  batchSize: number;
  numPoolPerAxis: Vec3;
  /** Strides per pooling stage, (i, j, k). */
  poolKernelSizes: Vec3[];
  /** Kernels per encoder stage + bottleneck, (i, j, k). */
  convKernelSizes: Vec3[];
  doDummy2DDataAug: boolean;
  /** Number of stages nnU-Net would plan (2 when a 3d_lowres stage exists). */
  numStages: number;
  /** nnU-Net's batch_dice for 3d_fullres: true iff a 3d_lowres stage exists (`nnUNetTrainer.process_plans`). */
  batchDice: boolean;
  /** The VRAM proxy of the final patch and the budget it was compared with. */
  vramProxy: number;
  vramRef: number;
  /** The 3d_fullres stage exactly as nnU-Net records it (transposed order). */
  stage: StagePlan;
}

/** (z, y, x) ↔ (i, j, k): reversal. */
const rev = <T>(a: readonly T[]): T[] => [...a].reverse();

/** Plan 3d_fullres for a dataset (the original `ExperimentPlanner.plan_experiment`). */
export function planExperiment(input: PlanningInput, s: PlannerSettings): ExperimentPlan {
  const n = input.spacingsMm.length;
  if (n === 0) throw new Error('cannot plan without cases');
  const spacingsZyx = input.spacingsMm.map((sp) => rev(sp));
  const sizesZyx = input.shapesAfterCrop.map((sh) => rev(sh));
  const target = [0, 1, 2].map((a) => median(spacingsZyx.map((sp) => sp[a] as number)) * s.targetSpacingFactor);
  const newShapes = spacingsZyx.map((sp, c) => sp.map((x, a) => (x / (target[a] as number)) * ((sizesZyx[c] as number[])[a] as number)));
  let maxAxis = 0;
  for (let a = 1; a < 3; a++) if ((target[a] as number) > (target[maxAxis] as number)) maxAxis = a;
  const tf = [maxAxis, ...[0, 1, 2].filter((a) => a !== maxAxis)];
  const tb = [0, 1, 2].map((a) => tf.indexOf(a));
  const medianShape = [0, 1, 2].map((a) => median(newShapes.map((sh) => sh[a] as number)));
  const targetT = tf.map((a) => target[a] as number);
  const medianT = tf.map((a) => medianShape[a] as number);
  const full = propertiesForStage(targetT, targetT, medianT, n, input.numModalities, input.numClasses, s);

  // 3d_lowres (`ExperimentPlanner3D_v21`, v1-final logic): only its existence matters here (batch Dice).
  let numStages = 1;
  let patchVoxels = full.patchSize.reduce((x, y) => x * y, 1);
  const medianVoxels = medianShape.reduce((x, y) => x * y, 1);
  if (medianVoxels / patchVoxels >= s.lowresPatientFactor) {
    const lowres = [...target];
    let numVoxels = medianVoxels;
    let stage: StagePlan | undefined;
    let guard = 0;
    while (numVoxels > s.lowresPatientFactor * patchVoxels && guard++ < 10_000) {
      const maxSp = Math.max(...lowres);
      const coarse = lowres.map((x) => maxSp / x > 2);
      if (coarse.some((c) => c)) lowres.forEach((x, a) => (lowres[a] = coarse[a] ? x * 1.01 : x));
      else lowres.forEach((x, a) => (lowres[a] = x * 1.01));
      numVoxels = [0, 1, 2].reduce((p, a) => p * (((target[a] as number) / (lowres[a] as number)) * (medianShape[a] as number)), 1);
      stage = propertiesForStage(tf.map((a) => lowres[a] as number), targetT, medianT, n, input.numModalities, input.numClasses, s);
      patchVoxels = stage.patchSize.reduce((x, y) => x * y, 1);
    }
    const prod = (a: readonly number[]) => a.reduce((x, y) => x * y, 1);
    if (stage !== undefined && 2 * prod(stage.medianPatientSizeInVoxels) < prod(full.medianPatientSizeInVoxels)) numStages = 2;
  }

  // Back from transposed (t) order to (z, y, x) to (i, j, k).
  const toIjk = (t: readonly number[]): Vec3 => rev(tb.map((a) => t[a] as number)) as Vec3;
  return {
    targetSpacingMm: rev(target) as Vec3,
    transposeForward: tf,
    transposeBackward: tb,
    medianShape: rev(medianShape) as Vec3,
    patchSize: toIjk(full.patchSize),
    batchSize: full.batchSize,
    numPoolPerAxis: toIjk(full.numPoolPerAxis),
    poolKernelSizes: full.poolKernelSizes.map(toIjk),
    convKernelSizes: full.convKernelSizes.map(toIjk),
    doDummy2DDataAug: full.doDummy2DDataAug,
    numStages,
    batchDice: numStages > 1,
    vramProxy: full.vramProxy,
    vramRef: s.vramRef,
    stage: full,
  };
}

/**
 * Generic_UNet topology of a plan (`Generic_UNet` as `get_properties_for_stage` sizes it): stage d has features min(base·2^d, max), the
 * plan's kernel, and stride = pooling kernel d−1 (strided-conv downsampling); the last stage is
 * the bottleneck (kernel 3³). No deep supervision (nnUNetTrainer).
 */
export function topologyFromPlan(plan: ExperimentPlan, s: Pick<PlannerSettings, 'baseFeatures' | 'maxFeatures'>, inChannels: number, numClasses: number): NetworkTopology {
  const stages: StageTopology[] = [];
  let features = s.baseFeatures;
  for (let d = 0; d < plan.convKernelSizes.length; d++) {
    if (d > 0) features = Math.min(Math.round(2 * features), s.maxFeatures);
    stages.push({
      features,
      kernelSize: plan.convKernelSizes[d] as Vec3,
      stride: d === 0 ? [1, 1, 1] : (plan.poolKernelSizes[d - 1] as Vec3),
    });
  }
  return { inChannels, numClasses, stages, deepSupervision: false };
}
