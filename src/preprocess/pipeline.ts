/**
 * `preprocessDataset`: raw dataset → fingerprint → plan → splits → cached cases.
 *
 * Pass 1 (fingerprint) reads every training case, crops it and records spacing, shapes, the size
 * reduction and, for CT channels, every 10th foreground voxel; the per-case results are cached in
 * `fingerprint.json` (+ `fingerprint/<case>.f32` samples) keyed by the raw files' size and mtime,
 * so a re-run does not read unchanged cases again. Pass 2 preprocesses each case whose cache entry
 * is missing or stale (other plan hash or changed raw file). plans.json and splits.json are written
 * before pass 2, every file atomically; an interrupted run leaves complete cases only and resumes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Volume } from '../data/volume.js';
import type { Vec3 } from '../util/vec3.js';
import { loadDataset, loadCase, type CaseFiles, type Dataset } from '../data/dataset.js';
import { writeJsonAtomic, writeFileAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import { throwIfInterrupted } from '../util/interrupt.js';
import { cropToNonzero, boxShape } from './crop.js';
import { foregroundSamples, intensityStats, isCT, median, type CaseFingerprint, type IntensityStats } from './fingerprint.js';
import { planExperiment, topologyFromPlan } from './plan.js';
import { loadProfile } from './profile.js';
import { checkPublishedIds, makeSplits, publishedSplits, pythonSorted, readPublishedSplit, type Splits } from './splits.js';
import { caseMetaOf, preprocessArrays, type CaseMeta, type NormalizationPlan } from './case.js';
import { PREPROCESS_VERSION, casePlanOf, planHash, type Plans } from './plans.js';
import { sourceSignature, validCachedCase, writeCachedCase, type SourceFile } from './cache.js';
import { useNonzeroMask } from './normalize.js';
import { SEPARATE_Z_THRESHOLD } from './resample.js';
import { volumeChannels } from './inference.js';
import { processAlive } from '../util/process.js';
import { createHash } from 'node:crypto';
import type { TaskSpec } from '../data/tasks.js';
import { applyLabelMap, checkTaskLabels } from '../data/labels.js';
import { claimCache } from './source.js';

export interface PreprocessOptions {
  datasetDir: string;
  outDir: string;
  /** `paper`, `cpu` or a path to a profile YAML file. */
  profile: 'paper' | 'cpu' | string;
  /** Registered task id (used as the plan's task name and for profile overrides). */
  taskId?: string;
  /**
   * The task (from `resolveTask`): its labels are checked against dataset.json after its
   * `labelMap`, which is applied to every label map; its `split` file replaces the KFold test set.
   */
  task?: TaskSpec;
  /** Rebuild a cache that was made from another dataset instead of refusing it. */
  force?: boolean;
  /** Seed of the KFold splits (default 12345, nnU-Net's). */
  seed?: number;
  /** Called after each case of each pass. */
  onProgress?: (event: PreprocessProgress) => void;
  /** Called for every case skipped because of an empty non-zero region. */
  onWarning?: (message: string) => void;
}

export interface PreprocessProgress {
  stage: 'fingerprint' | 'preprocess';
  done: number;
  total: number;
  caseId: string;
  /** Pass 2: whether the case was taken from the cache. */
  cached?: boolean;
}

interface FingerprintEntry extends CaseFingerprint {
  source: SourceFile[];
  /** Per channel number of CT samples stored in fingerprint/<case>.f32 (channel after channel). */
  ctSamples: number[];
  empty: boolean;
}

interface FingerprintFile {
  version: number;
  modalities: string[];
  /** The label map the foreground samples were taken with (JSON; '' for none). */
  labelMap?: string;
  cases: Record<string, FingerprintEntry>;
}

function caseSources(c: CaseFiles): string[] {
  return c.label === undefined ? [...c.images] : [...c.images, c.label];
}

/** Geometry and label checks the preprocessing relies on; a bad case is a one-line InputError. */
function checkCase(ds: Dataset, c: CaseFiles, image: Volume, label: Volume | undefined): void {
  if (label === undefined) throw new InputError(c.images[0], `training case '${c.id}' has no label file`);
  const shape = image.shape.slice(0, 3);
  if (label.shape.slice(0, 3).some((n, a) => n !== shape[a]) || (label.shape[3] ?? 1) !== 1) {
    throw new InputError(c.label, `label shape [${label.shape.join(', ')}] differs from the image [${shape.join(', ')}]`);
  }
  if (image.spacingMm.some((s, a) => Math.abs(s - label.spacingMm[a]!) > 1e-3 * Math.max(1, s))) {
    throw new InputError(c.label, `label spacing [${label.spacingMm.join(', ')}] differs from the image [${image.spacingMm.join(', ')}]`);
  }
  const declared = new Set(ds.labels.map((l) => l.value));
  const seen = new Set<number>();
  for (let x = 0; x < label.data.length; x++) seen.add(label.data[x] as number);
  const bad = [...seen].filter((v) => !declared.has(v)).sort((a, b) => a - b);
  if (bad.length > 0) throw new InputError(c.label, `label values ${bad.join(', ')} are not declared in dataset.json (declared: ${[...declared].join(', ')})`);
}

async function readFingerprintCache(file: string, modalities: string[], labelMap: string): Promise<FingerprintFile> {
  try {
    const f = JSON.parse(await fsp.readFile(file, 'utf8')) as FingerprintFile;
    if (f.version === PREPROCESS_VERSION && JSON.stringify(f.modalities) === JSON.stringify(modalities) && (f.labelMap ?? '') === labelMap) return f;
  } catch {
    // missing or unreadable: start afresh
  }
  return { version: PREPROCESS_VERSION, modalities, labelMap, cases: {} };
}

/** The label map as a stable string ('' when there is none): part of the fingerprint and case cache keys. */
function labelMapKey(labelMap: Readonly<Record<number, number>> | undefined): string {
  if (labelMap === undefined || Object.keys(labelMap).length === 0) return '';
  return JSON.stringify(Object.entries(labelMap).map(([k, v]) => [Number(k), v]).sort((a, b) => (a[0] as number) - (b[0] as number)));
}

/** A case read from the raw dataset with the task's label map applied to its label. */
async function loadMappedCase(ds: Dataset, c: CaseFiles, labelMap: Readonly<Record<number, number>> | undefined, check: boolean): Promise<{ image: Volume; label?: Volume }> {
  for (const f of caseSources(c)) if (!existsSync(f)) throw new InputError(f, `file of case '${c.id}' listed in dataset.json is missing`);
  const { image, label } = await loadCase(ds, c);
  if (check) checkCase(ds, c, image, label);
  if (label === undefined) return { image };
  return { image, label: { ...label, data: applyLabelMap(label.data, labelMap) } };
}

function sameSource(a: readonly SourceFile[], b: readonly SourceFile[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Pass 1: per-case fingerprint (cached). Returns entries in dataset order. */
async function fingerprintCases(ds: Dataset, outDir: string, ctChannels: boolean[], options: PreprocessOptions): Promise<{ entries: FingerprintEntry[]; samples: Map<string, Float32Array[]> }> {
  const cacheFile = path.join(outDir, 'fingerprint.json');
  const sampleDir = path.join(outDir, 'fingerprint');
  const labelMap = options.task?.labelMap;
  const cache = await readFingerprintCache(cacheFile, ds.modalities, labelMapKey(labelMap));
  const entries: FingerprintEntry[] = [];
  const samples = new Map<string, Float32Array[]>();
  const anyCT = ctChannels.some((x) => x);
  let dirty = false;
  for (let idx = 0; idx < ds.training.length; idx++) {
    throwIfInterrupted();
    const c = ds.training[idx] as CaseFiles;
    const files = caseSources(c);
    const absent = files.find((f) => !existsSync(f));
    if (absent !== undefined) throw new InputError(absent, `file of case '${c.id}' listed in dataset.json is missing`);
    const source = sourceSignature(files);
    const cached = cache.cases[c.id];
    const sampleFile = path.join(sampleDir, `${c.id}.f32`);
    if (cached !== undefined && sameSource(cached.source, source) && (!anyCT || cached.empty || existsSync(sampleFile))) {
      entries.push(cached);
      if (anyCT && !cached.empty) {
        const buf = readFileSync(sampleFile);
        const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
        let off = 0;
        samples.set(c.id, cached.ctSamples.map((n) => all.subarray(off, (off += n))));
      }
    } else {
      const { image, label } = await loadMappedCase(ds, c, labelMap, true);
      const shape = image.shape.slice(0, 3) as Vec3;
      const channels = volumeChannels(image);
      const cropped = cropToNonzero(channels, label?.data, shape);
      const entry: FingerprintEntry = {
        id: c.id,
        spacingMm: [...image.spacingMm] as Vec3,
        originalShape: shape,
        shapeAfterCrop: cropped === null ? [0, 0, 0] : boxShape(cropped.box),
        sizeReduction: cropped === null ? 0 : cropped.seg.length / (shape[0] * shape[1] * shape[2]),
        source,
        ctSamples: [],
        empty: cropped === null,
      };
      if (cropped !== null && anyCT) {
        const perChannel = cropped.channels.map((ch, k) => (ctChannels[k] ? foregroundSamples(ch, cropped.seg) : new Float32Array(0)));
        entry.ctSamples = perChannel.map((s) => s.length);
        const all = new Float32Array(perChannel.reduce((n, s) => n + s.length, 0));
        let off = 0;
        for (const s of perChannel) {
          all.set(s, off);
          off += s.length;
        }
        await writeFileAtomic(sampleFile, new Uint8Array(all.buffer));
        samples.set(c.id, perChannel);
      }
      cache.cases[c.id] = entry;
      entries.push(entry);
      dirty = true;
    }
    options.onProgress?.({ stage: 'fingerprint', done: idx + 1, total: ds.training.length, caseId: c.id });
  }
  if (dirty) await writeJsonAtomic(cacheFile, cache);
  return { entries, samples };
}

/**
 * Remove temporary files left by a killed run (atomic writes go to `.<name>.tmp-<pid>-<n>`);
 * files of a process that is still running are left alone.
 */
async function removeStaleTemporaries(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const name of await fsp.readdir(dir)) {
    const m = /\.tmp-(\d+)-\d+$/.exec(name);
    if (m === null) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && !processAlive(pid)) await fsp.rm(path.join(dir, name), { force: true, recursive: true });
  }
}

/** Write JSON atomically unless the file already holds exactly this content (keeps re-runs idempotent). */
async function writeJsonIfChanged(file: string, value: unknown): Promise<void> {
  const text = JSON.stringify(value, null, 2) + '\n';
  try {
    if ((await fsp.readFile(file, 'utf8')) === text) return;
  } catch {
    // missing: write it
  }
  await writeFileAtomic(file, text);
}

/** Preprocess a dataset into `outDir` (idempotent: finished, valid cases are kept). */
export async function preprocessDataset(options: PreprocessOptions): Promise<Plans> {
  const ds = loadDataset(options.datasetDir);
  const dsFile = path.join(ds.root, 'dataset.json');
  if (ds.modalities.length === 0) throw new InputError(dsFile, 'no modality declared (dataset.json "modality" / "channel_names" is empty)');
  if (ds.training.length < 2) throw new InputError(dsFile, `preprocessing needs at least 2 training cases, found ${ds.training.length}`);
  const task = options.task;
  if (task !== undefined) checkTaskLabels(dsFile, task.id, task.labels, task.labelMap, ds.labels);
  const published = task?.split === undefined ? undefined : readPublishedSplit(task.split);
  if (published !== undefined) checkPublishedIds(published, ds.root, ds.training.map((c) => c.id));
  const taskName = options.taskId ?? task?.id ?? ds.name;
  const profile = loadProfile(options.profile, [options.taskId ?? task?.id, ds.name, path.basename(ds.root)].filter((x): x is string => x !== undefined));
  const outDir = path.resolve(options.outDir);
  await claimCache(outDir, ds, options.force === true);
  await removeStaleTemporaries(outDir);
  await removeStaleTemporaries(path.join(outDir, 'fingerprint'));

  // Pass 1: fingerprint.
  const ctChannels = ds.modalities.map(isCT);
  const { entries, samples } = await fingerprintCases(ds, outDir, ctChannels, options);
  const skipped = entries.filter((e) => e.empty).map((e) => ({ id: e.id, reason: 'the non-zero region is empty' }));
  for (const s of skipped) options.onWarning?.(`case ${s.id}: ${s.reason}; skipped`);
  const usable = entries.filter((e) => !e.empty);
  if (usable.length < 2) throw new InputError(dsFile, `preprocessing needs at least 2 usable training cases, found ${usable.length}`);

  // Plan.
  const labels = task?.labels ?? ds.labels;
  const numClasses = labels.filter((l) => l.value > 0).length + 1;
  const plan = planExperiment(
    { spacingsMm: usable.map((e) => e.spacingMm), shapesAfterCrop: usable.map((e) => e.shapeAfterCrop), numModalities: ds.modalities.length, numClasses },
    profile,
  );
  let intensity: (IntensityStats | null)[] | undefined;
  if (ctChannels.some((x) => x)) {
    intensity = ds.modalities.map((_, k) => {
      if (!ctChannels[k]) return null;
      const parts = usable.map((e) => samples.get(e.id)?.[k] ?? new Float32Array(0));
      const pooled = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
      let off = 0;
      for (const p of parts) {
        pooled.set(p, off);
        off += p.length;
      }
      if (pooled.length === 0) throw new InputError(dsFile, `CT channel ${k}: no foreground voxel in any training case, cannot compute intensity statistics`);
      return intensityStats(pooled);
    });
  }
  const maskRule = useNonzeroMask(usable.map((e) => e.sizeReduction));
  const normalization: NormalizationPlan = {
    schemes: ctChannels.map((ct) => (ct ? 'CT' : 'zscore')),
    // nnU-Net tests `"CT" in modality` (a substring) here, unlike the exact match for the scheme.
    use_nonzero_mask: ds.modalities.map((m) => !m.includes('CT') && maskRule),
  };
  const casePlan = casePlanOf({ target_spacing_mm: plan.targetSpacingMm, normalization, ...(intensity === undefined ? {} : { intensity }) });
  // A label map changes the cached seg files, so it is part of their key.
  const mapKey = labelMapKey(task?.labelMap);
  const hash = mapKey === '' ? planHash(casePlan) : createHash('sha256').update(`${planHash(casePlan)}|${mapKey}`).digest('hex').slice(0, 16);
  const cases = pythonSorted(usable.map((e) => e.id));
  const plans: Plans = {
    version: PREPROCESS_VERSION,
    task: taskName,
    profile: profile.name,
    profile_settings: {
      base_features: profile.baseFeatures,
      max_features: profile.maxFeatures,
      vram_ref: profile.vramRef,
      target_spacing_factor: profile.targetSpacingFactor,
      batch_size: profile.batchSize,
      overrides: profile.appliedOverrides,
    },
    dataset_dir: ds.root,
    modalities: [...ds.modalities],
    labels: labels.map((l) => ({ value: l.value, name: l.name })),
    numClasses,
    ...(mapKey === '' ? {} : { label_map: Object.fromEntries(Object.entries(task?.labelMap ?? {}).map(([k, v]) => [k, v])) }),
    target_spacing_mm: plan.targetSpacingMm,
    median_shape: plan.medianShape,
    patch_size: plan.patchSize,
    batch_size: profile.batchSize ?? plan.batchSize,
    planned_batch_size: plan.batchSize,
    batch_dice: plan.batchDice,
    do_dummy_2D_data_aug: plan.doDummy2DDataAug,
    num_pool_per_axis: plan.numPoolPerAxis,
    pool_op_kernel_sizes: plan.poolKernelSizes,
    conv_kernel_sizes: plan.convKernelSizes,
    transpose_forward: plan.transposeForward,
    num_stages: plan.numStages,
    vram_proxy: plan.vramProxy,
    vram_ref: plan.vramRef,
    network: topologyFromPlan(plan, profile, ds.modalities.length, numClasses),
    ...(intensity === undefined ? {} : { intensity }),
    normalization,
    resampling: { image_order: 3, label_order: 1, order_z: 0, separate_z_threshold: SEPARATE_Z_THRESHOLD },
    median_size_reduction: median(usable.map((e) => e.sizeReduction)),
    cases,
    skipped_cases: skipped,
    plan_hash: hash,
  };
  await writeJsonIfChanged(path.join(outDir, 'plans.json'), plans);
  let splits: Splits;
  if (published !== undefined) {
    // Cases skipped for an empty non-zero region cannot be in the study's split.
    if (skipped.length > 0) throw new InputError(dsFile, `case(s) ${skipped.map((x) => x.id).join(', ')} of the published split ${published.file} have an empty non-zero region`);
    splits = publishedSplits(published, options.seed ?? 12345);
  } else {
    splits = makeSplits(cases, options.seed ?? 12345);
  }
  await writeJsonIfChanged(path.join(outDir, 'splits.json'), splits);

  // Pass 2: cases.
  const byId = new Map(ds.training.map((c) => [c.id, c]));
  for (let idx = 0; idx < usable.length; idx++) {
    throwIfInterrupted();
    const entry = usable[idx] as FingerprintEntry;
    const c = byId.get(entry.id) as CaseFiles;
    const source = entry.source;
    const cached = validCachedCase(outDir, c.id, hash, source) !== null;
    if (!cached) {
      const { image, label } = await loadMappedCase(ds, c, task?.labelMap, false);
      const shape = image.shape.slice(0, 3) as Vec3;
      const r = preprocessArrays(volumeChannels(image), label?.data, shape, image.spacingMm, casePlan);
      if (r === null) throw new InputError(c.images[0], 'the non-zero region became empty between passes (file changed while preprocessing?)');
      const meta = caseMetaOf(c.id, image, r, plan.targetSpacingMm);
      await writeCachedCase(outDir, r, meta, hash, source);
    }
    options.onProgress?.({ stage: 'preprocess', done: idx + 1, total: usable.length, caseId: c.id, cached });
  }
  return plans;
}
