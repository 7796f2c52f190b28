/**
 * Datasets on disk: the Medical Segmentation Decathlon layout and the nnU-Net v2 layout,
 * listed into cases, validated up front, and loaded case by case.
 *
 * MSD (also nnU-Net v1 raw): dataset.json with `modality` {"0": "CT"}, `labels` {"0": "background",
 * "1": "liver"} (value → name), `training` [{image, label}], optional `test` [path]; imagesTr/,
 * labelsTr/, imagesTs/. An image is one 3D file or one 4D file with a channel per modality; when the
 * listed `./imagesTr/<case>.nii.gz` does not exist but `<case>_0000.nii.gz`… do (nnU-Net v1 raw),
 * the per-channel files are used.
 *
 * nnU-Net v2: dataset.json with `channel_names` {"0": "CT"}, `labels` {"background": 0, "liver": 1}
 * (name → value; region entries with a list of values are ignored), `file_ending` (".nii.gz");
 * imagesTr/<case>_<XXXX><ending> (one file per channel), labelsTr/<case><ending>, imagesTs/.
 *
 * macOS resource forks (`._*`) and other hidden files are ignored everywhere.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { InputError, errorMessage } from '../util/errors.js';
import type { Volume } from './volume.js';
import { readNifti } from './nifti.js';
import { affineMismatch, orientationCode } from './geometry.js';

export interface CaseFiles {
  id: string;
  /** One file per channel (nnU-Net v2 / v1 raw) or one 3D/4D file (MSD). */
  images: string[];
  label?: string;
}

export interface DatasetLabel {
  value: number;
  name: string;
}

export interface Dataset {
  root: string;
  name: string;
  layout: 'msd' | 'nnunetv2';
  /** Per channel, e.g. ['CT'] or ['FLAIR', 'T1w', 't1gd', 'T2w']. */
  modalities: string[];
  /** Including 0 background, ascending. */
  labels: DatasetLabel[];
  training: CaseFiles[];
  test: CaseFiles[];
}

export interface DatasetProblem {
  case: string;
  file: string;
  message: string;
}

const visible = (name: string) => !name.startsWith('.');

function readDatasetJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(file, `cannot read dataset.json: ${errorMessage(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(file, `invalid JSON: ${errorMessage(err)}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InputError(file, 'expected a JSON object');
  return json as Record<string, unknown>;
}

function indexedNames(file: string, value: unknown, field: string): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError(file, `'${field}' must be an object {"0": name, ...}`);
  const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => {
    const n = Number(k);
    if (!Number.isInteger(n) || n < 0) throw new InputError(file, `'${field}' key '${k}' is not a channel index`);
    return [n, String(v)] as const;
  });
  entries.sort((a, b) => a[0] - b[0]);
  entries.forEach(([n], i) => {
    if (n !== i) throw new InputError(file, `'${field}' must number channels 0, 1, 2, … without gaps`);
  });
  if (entries.length === 0) throw new InputError(file, `'${field}' is empty`);
  return entries.map(([, v]) => v);
}

function sortedLabels(file: string, labels: DatasetLabel[]): DatasetLabel[] {
  labels.sort((a, b) => a.value - b.value);
  for (let i = 1; i < labels.length; i++) if (labels[i]!.value === labels[i - 1]!.value) throw new InputError(file, `label value ${labels[i]!.value} is declared twice`);
  if (labels[0]?.value !== 0) throw new InputError(file, "'labels' must declare 0 (background)");
  return labels;
}

/** Strip a known NIfTI ending. */
function stem(name: string, ending = '.nii.gz'): string {
  if (name.endsWith(ending)) return name.slice(0, -ending.length);
  if (name.endsWith('.nii')) return name.slice(0, -4);
  return name;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).filter(visible).sort();
  } catch {
    return [];
  }
}

/**
 * Group `<case>_<XXXX><ending>` files of a folder into cases with one file per channel (sorted by
 * channel index). Files that do not match the pattern are ignored.
 */
function channelCases(dir: string, ending: string, channels: number, labelDir?: string): CaseFiles[] {
  const byCase = new Map<string, string[]>();
  const pattern = /^(.*)_(\d{4})$/;
  for (const name of listDir(dir)) {
    if (!name.endsWith(ending)) continue;
    const m = pattern.exec(name.slice(0, -ending.length));
    if (m === null) continue;
    const id = m[1] as string;
    const files = byCase.get(id) ?? [];
    files[Number(m[2])] = path.join(dir, name);
    byCase.set(id, files);
  }
  return [...byCase.entries()].map(([id, files]) => {
    const images = Array.from({ length: Math.max(channels, files.length) }, (_, c) => files[c] ?? path.join(dir, `${id}_${String(c).padStart(4, '0')}${ending}`));
    const c: CaseFiles = { id, images };
    if (labelDir !== undefined) c.label = path.join(labelDir, id + ending);
    return c;
  });
}

function loadMsd(root: string, file: string, json: Record<string, unknown>): Dataset {
  const modalities = indexedNames(file, json['modality'], 'modality');
  const labelsRaw = json['labels'];
  if (typeof labelsRaw !== 'object' || labelsRaw === null || Array.isArray(labelsRaw)) throw new InputError(file, "'labels' must be an object {\"0\": \"background\", ...}");
  const labels = sortedLabels(
    file,
    Object.entries(labelsRaw as Record<string, unknown>).map(([k, v]) => {
      const value = Number(k);
      if (!Number.isInteger(value) || value < 0) throw new InputError(file, `label key '${k}' is not a non-negative integer (MSD labels map value → name)`);
      return { value, name: String(v) };
    }),
  );
  // An image listed as <case>.nii.gz may be stored per channel as <case>_0000.nii.gz (nnU-Net v1 raw).
  const imagesFor = (image: string): string[] => {
    if (existsSync(image)) return [image];
    const base = stem(image);
    const perChannel = modalities.map((_, c) => `${base}_${String(c).padStart(4, '0')}.nii.gz`);
    return perChannel.every((f) => existsSync(f)) ? perChannel : [image];
  };
  const training: CaseFiles[] = [];
  const list = json['training'];
  if (list !== undefined) {
    if (!Array.isArray(list)) throw new InputError(file, "'training' must be a list of {image, label}");
    list.forEach((entry: unknown, n) => {
      const e = entry as { image?: unknown; label?: unknown };
      if (typeof e !== 'object' || e === null || typeof e.image !== 'string' || typeof e.label !== 'string') throw new InputError(file, `training[${n}] must have string 'image' and 'label'`);
      const image = path.resolve(root, e.image);
      if (path.basename(image).startsWith('._')) return;
      training.push({ id: stem(path.basename(image)), images: imagesFor(image), label: path.resolve(root, e.label) });
    });
  } else {
    for (const name of listDir(path.join(root, 'imagesTr'))) {
      if (!/\.nii(\.gz)?$/.test(name)) continue;
      training.push({ id: stem(name), images: [path.join(root, 'imagesTr', name)], label: path.join(root, 'labelsTr', name) });
    }
  }
  const test: CaseFiles[] = [];
  const testList = json['test'];
  if (Array.isArray(testList)) {
    for (const entry of testList) {
      const rel = typeof entry === 'string' ? entry : typeof entry === 'object' && entry !== null && typeof (entry as { image?: unknown }).image === 'string' ? (entry as { image: string }).image : undefined;
      if (rel === undefined) throw new InputError(file, "'test' entries must be paths");
      const image = path.resolve(root, rel);
      if (path.basename(image).startsWith('._')) continue;
      test.push({ id: stem(path.basename(image)), images: imagesFor(image) });
    }
  } else {
    for (const name of listDir(path.join(root, 'imagesTs'))) {
      if (/\.nii(\.gz)?$/.test(name)) test.push({ id: stem(name), images: [path.join(root, 'imagesTs', name)] });
    }
  }
  const name = typeof json['name'] === 'string' ? json['name'] : path.basename(root);
  return { root, name, layout: 'msd', modalities, labels, training, test };
}

function loadNnunetV2(root: string, file: string, json: Record<string, unknown>): Dataset {
  const modalities = indexedNames(file, json['channel_names'], 'channel_names');
  const labelsRaw = json['labels'];
  if (typeof labelsRaw !== 'object' || labelsRaw === null || Array.isArray(labelsRaw)) throw new InputError(file, "'labels' must be an object {\"background\": 0, ...}");
  const labels: DatasetLabel[] = [];
  for (const [name, v] of Object.entries(labelsRaw as Record<string, unknown>)) {
    if (Array.isArray(v)) continue; // region (a union of other labels), not a stored value
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new InputError(file, `label '${name}' must map to a non-negative integer (nnU-Net v2 labels map name → value)`);
    labels.push({ value: v, name });
  }
  sortedLabels(file, labels);
  const ending = typeof json['file_ending'] === 'string' ? json['file_ending'] : '.nii.gz';
  if (ending !== '.nii.gz' && ending !== '.nii') throw new InputError(file, `file_ending '${ending}' is not supported (segloss reads .nii and .nii.gz)`);
  const training = channelCases(path.join(root, 'imagesTr'), ending, modalities.length, path.join(root, 'labelsTr'));
  // Cases that have a label but no image file at all still count (their images are reported missing).
  const known = new Set(training.map((c) => c.id));
  for (const name of listDir(path.join(root, 'labelsTr'))) {
    if (!name.endsWith(ending)) continue;
    const id = name.slice(0, -ending.length);
    if (!known.has(id)) training.push({ id, images: modalities.map((_, c) => path.join(root, 'imagesTr', `${id}_${String(c).padStart(4, '0')}${ending}`)), label: path.join(root, 'labelsTr', name) });
  }
  training.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const test = channelCases(path.join(root, 'imagesTs'), ending, modalities.length).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const name = typeof json['name'] === 'string' ? json['name'] : path.basename(root);
  return { root, name, layout: 'nnunetv2', modalities, labels, training, test };
}

/** List a dataset folder (MSD or nnU-Net v2 layout, told apart by `channel_names`). */
export function loadDataset(dir: string): Dataset {
  const root = path.resolve(dir);
  const file = path.join(root, 'dataset.json');
  if (!existsSync(root)) throw new InputError(root, 'dataset folder does not exist');
  if (!existsSync(file)) throw new InputError(file, 'missing: a dataset folder needs dataset.json (MSD or nnU-Net v2 layout)');
  const json = readDatasetJson(file);
  if (json['channel_names'] !== undefined) return loadNnunetV2(root, file, json);
  if (json['modality'] !== undefined) return loadMsd(root, file, json);
  throw new InputError(file, "neither 'modality' (MSD) nor 'channel_names' (nnU-Net v2) is present");
}

/**
 * Read a case: the image as one Volume (3D for one channel, else 4D [ni, nj, nk, nc] with the
 * channels of separate files stacked) and the label (kind 'label') when the case has one.
 * Geometry of a multi-file image is the first channel's.
 */
export async function loadCase(ds: Dataset, c: CaseFiles): Promise<{ image: Volume; label?: Volume }> {
  const volumes = await Promise.all(c.images.map((f) => readNifti(f)));
  let image = volumes[0] as Volume;
  if (volumes.length > 1) {
    const n = (image.shape[0] as number) * (image.shape[1] as number) * (image.shape[2] as number);
    const data = new Float32Array(n * volumes.length);
    volumes.forEach((v, ch) => {
      if (v.data.length !== n) throw new InputError(c.images[ch], `channel ${ch} has shape [${v.shape.join(', ')}] but channel 0 has [${image.shape.join(', ')}]`);
      data.set(v.data, ch * n);
    });
    image = { ...image, shape: [...image.shape.slice(0, 3), volumes.length], data };
  }
  const channels = image.shape[3] ?? 1;
  if (channels !== ds.modalities.length) throw new InputError(c.images[0], `image has ${channels} channel(s) but dataset.json declares ${ds.modalities.length} (${ds.modalities.join(', ')})`);
  if (c.label === undefined) return { image };
  return { image, label: await readNifti(c.label, { kind: 'label' }) };
}

/** Per-case facts gathered while validating (for `segloss check`). */
export interface CaseSummary {
  id: string;
  split: 'training' | 'test';
  shape: number[];
  spacingMm: number[];
  orientation: string;
  /** Per channel: [min, max] intensity. */
  intensityRange: [number, number][];
  /** Label value → voxel count (training cases). */
  labelCounts?: Record<string, number>;
}

const sameSpacing = (a: readonly number[], b: readonly number[]) => a.every((v, i) => Math.abs(v - (b[i] as number)) <= 1e-3 * Math.max(Math.abs(v), Math.abs(b[i] as number)));
const fmt = (xs: readonly number[]) => `[${xs.map((x) => Number(x.toPrecision(6))).join(', ')}]`;

/**
 * Check every case: files exist and read, images have no NaN/∞, channels share a grid,
 * label shape and spacing match the image (spacing within 1e-3 relative), label values are
 * declared in dataset.json. Returns every problem found plus the summaries of the valid cases.
 */
export async function inspectDataset(ds: Dataset, onCase?: (done: number, total: number) => void): Promise<{ problems: DatasetProblem[]; cases: CaseSummary[] }> {
  const problems: DatasetProblem[] = [];
  const summaries: CaseSummary[] = [];
  const declared = new Set(ds.labels.map((l) => l.value));
  const all = [...ds.training.map((c) => ({ c, split: 'training' as const })), ...ds.test.map((c) => ({ c, split: 'test' as const }))];
  let done = 0;
  for (const { c, split } of all) {
    const before = problems.length;
    const report = (file: string, message: string) => problems.push({ case: c.id, file, message });
    const summary: CaseSummary = { id: c.id, split, shape: [], spacingMm: [], orientation: '', intensityRange: [] };
    const images: Volume[] = [];
    for (const f of c.images) {
      if (!existsSync(f)) {
        report(f, 'image file is missing');
        continue;
      }
      try {
        images.push(await readNifti(f));
      } catch (err) {
        report(f, err instanceof InputError ? err.message.replace(`${f}: `, '') : errorMessage(err));
      }
    }
    if (images.length === c.images.length && images.length > 0) {
      const first = images[0] as Volume;
      const channels = images.length > 1 ? images.length : first.shape[3] ?? 1;
      if (channels !== ds.modalities.length) report(c.images[0] as string, `image has ${channels} channel(s) but dataset.json declares ${ds.modalities.length} (${ds.modalities.join(', ')})`);
      images.forEach((v, ch) => {
        if (ch > 0 && (v.shape.slice(0, 3).join() !== first.shape.slice(0, 3).join() || !sameSpacing(v.spacingMm, first.spacingMm))) {
          report(c.images[ch] as string, `channel ${ch} grid ${fmt(v.shape)} at ${fmt(v.spacingMm)} mm differs from channel 0 ${fmt(first.shape)} at ${fmt(first.spacingMm)} mm`);
        }
      });
      const n = (first.shape[0] as number) * (first.shape[1] as number) * (first.shape[2] as number);
      for (const [ch, v] of images.entries()) {
        const perFile = v.shape[3] ?? 1;
        for (let sub = 0; sub < perFile; sub++) {
          let min = Infinity;
          let max = -Infinity;
          let bad = -1;
          for (let m = sub * n; m < (sub + 1) * n; m++) {
            const x = v.data[m] as number;
            if (!Number.isFinite(x)) {
              if (bad < 0) bad = m - sub * n;
              continue;
            }
            if (x < min) min = x;
            if (x > max) max = x;
          }
          if (bad >= 0) report(c.images[ch] as string, `intensity is NaN or infinite (first at voxel ${bad}${perFile > 1 ? ` of channel ${sub}` : ''})`);
          summary.intensityRange.push([min, max]);
        }
      }
      summary.shape = first.shape.slice(0, 3);
      summary.spacingMm = [...first.spacingMm];
      summary.orientation = orientationCode(first.affine);
      if (split === 'training') {
        if (c.label === undefined) {
          report(c.images[0] as string, 'training case has no label');
        } else if (!existsSync(c.label)) {
          report(c.label, 'label file is missing');
        } else {
          try {
            const label = await readNifti(c.label, { kind: 'label' });
            // Shape, pixdim spacing, then the full affine (spacing, direction, origin: np.allclose, as nnU-Net v2's check_cases).
            const grid = affineMismatch(label.affine, first.affine, "the image's");
            if (label.shape.join() !== first.shape.slice(0, 3).join()) {
              report(c.label, `label shape ${fmt(label.shape)} does not match image shape ${fmt(first.shape.slice(0, 3))}`);
            } else if (!sameSpacing(label.spacingMm, first.spacingMm)) {
              report(c.label, `label spacing ${fmt(label.spacingMm)} mm does not match image spacing ${fmt(first.spacingMm)} mm`);
            } else if (grid !== null) {
              report(c.label, `label ${grid} (np.allclose: 1e-8 + 1e-5·|image| per component)`);
            }
            const counts = new Map<number, number>();
            for (let m = 0; m < label.data.length; m++) {
              const x = label.data[m] as number;
              counts.set(x, (counts.get(x) ?? 0) + 1);
            }
            const undeclared = [...counts.keys()].filter((x) => !declared.has(x)).sort((a, b) => a - b);
            if (undeclared.length > 0) report(c.label, `label value(s) ${undeclared.join(', ')} not declared in dataset.json (declared: ${[...declared].join(', ')})`);
            summary.labelCounts = Object.fromEntries([...counts.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v]));
          } catch (err) {
            report(c.label, err instanceof InputError ? err.message.replace(`${c.label}: `, '') : errorMessage(err));
          }
        }
      }
    }
    if (problems.length === before) summaries.push(summary);
    done += 1;
    onCase?.(done, all.length);
  }
  return { problems, cases: summaries };
}

/** Validate every case; all problems at once (empty when the dataset is usable). */
export async function validateDataset(ds: Dataset): Promise<DatasetProblem[]> {
  return (await inspectDataset(ds)).problems;
}
