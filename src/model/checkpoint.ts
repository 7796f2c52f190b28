/**
 * Model and tensor checkpoints in the TensorFlow.js format, written through segloss's own file IO
 * handler (only tfjs-node brings `file://`, and it is an optional dependency).
 *
 * A model directory holds
 *   model.json   — tfjs ModelJSON: `format` "segloss-unet3d", `modelTopology` = { format, version,
 *                  topology: NetworkTopology }, `weightsManifest` = [{ paths: ["weights.bin"], weights: specs }],
 *                  plus `seglossWeights` = { bytes, sha256 } of weights.bin;
 *   weights.bin  — the float32 weights concatenated in manifest order (little-endian, as tfjs).
 * `saveTensors(dir, name, …)` writes `<name>.json` + `<name>.bin` the same way (optimizer moments,
 * training state tensors). Every file is written atomically (temporary sibling + rename); the
 * binary is written first and its checksum stored in the JSON, so a reader never pairs a JSON with
 * a torn or foreign binary (it gets an InputError instead).
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import type { NetworkTopology } from './topology.js';
import { UNet3D, validateTopology } from './unet.js';

export const MODEL_FORMAT = 'segloss-unet3d';
const TENSORS_FORMAT = 'segloss-tensors';
const FORMAT_VERSION = 1;

interface SeglossWeightsInfo {
  bytes: number;
  sha256: string;
}

interface StoredJson {
  format: string;
  generatedBy: string;
  convertedBy: null;
  modelTopology: unknown;
  weightsManifest: tf.io.WeightsManifestConfig;
  seglossWeights: SeglossWeightsInfo;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function toBytes(data: tf.io.WeightData): Uint8Array {
  const buffer = Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
  return new Uint8Array(buffer);
}

/**
 * A tfjs IOHandler for a directory: `save` writes `<base>.bin` then `<base>.json` atomically,
 * `load` reads and verifies them. `base` is "model" for models; `weightsFile` defaults to "weights.bin"
 * for models (tfjs convention) and "<base>.bin" otherwise.
 */
export function directoryIOHandler(dir: string, base = 'model', weightsFile = base === 'model' ? 'weights.bin' : `${base}.bin`): tf.io.IOHandler {
  const jsonPath = path.join(dir, `${base}.json`);
  const binPath = path.join(dir, weightsFile);
  return {
    save: async (artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> => {
      const bytes = artifacts.weightData === undefined ? new Uint8Array(0) : toBytes(artifacts.weightData);
      await writeFileAtomic(binPath, bytes);
      const json: StoredJson = {
        format: artifacts.format ?? TENSORS_FORMAT,
        generatedBy: artifacts.generatedBy ?? 'segloss',
        convertedBy: null,
        modelTopology: artifacts.modelTopology ?? null,
        weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs ?? [] }],
        seglossWeights: { bytes: bytes.byteLength, sha256: sha256(bytes) },
      };
      await writeJsonAtomic(jsonPath, json);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    load: async (): Promise<tf.io.ModelArtifacts> => {
      let text: string;
      try {
        text = await fsp.readFile(jsonPath, 'utf8');
      } catch (err) {
        throw new InputError(jsonPath, `cannot read checkpoint: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      let json: StoredJson;
      try {
        json = JSON.parse(text) as StoredJson;
      } catch {
        throw new InputError(jsonPath, 'not valid JSON');
      }
      const group = json.weightsManifest?.[0];
      if (group === undefined || !Array.isArray(group.weights) || group.paths?.[0] === undefined) {
        throw new InputError(jsonPath, 'no weightsManifest');
      }
      const weightsPath = path.join(dir, group.paths[0]);
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await fsp.readFile(weightsPath));
      } catch (err) {
        throw new InputError(weightsPath, `cannot read weights: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      if (json.seglossWeights !== undefined && (bytes.byteLength !== json.seglossWeights.bytes || sha256(bytes) !== json.seglossWeights.sha256)) {
        throw new InputError(weightsPath, `does not match ${path.basename(jsonPath)} (size or sha256 differs: torn or mixed checkpoint)`);
      }
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      return {
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: null,
        modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
        weightSpecs: group.weights,
        weightData: buffer,
      };
    },
  };
}

async function encode(tensors: Array<{ name: string; tensor: tf.Tensor }>): Promise<{ data: ArrayBuffer; specs: tf.io.WeightsManifestEntry[] }> {
  return tf.io.encodeWeights(tensors);
}

/** Save a model's topology and weights to `dir` (created if needed). */
export async function saveModel(dir: string, model: UNet3D): Promise<void> {
  const { data, specs } = await encode(model.namedVariables().map(({ name, variable }) => ({ name, tensor: variable })));
  await directoryIOHandler(dir).save!({
    format: MODEL_FORMAT,
    generatedBy: 'segloss',
    convertedBy: null,
    modelTopology: { format: MODEL_FORMAT, version: FORMAT_VERSION, topology: model.topology } as unknown as tf.io.ModelArtifacts['modelTopology'],
    weightSpecs: specs,
    weightData: data,
  });
}

/** Load a model saved by saveModel. Throws InputError for missing, foreign or inconsistent files. */
export async function loadModel(dir: string): Promise<UNet3D> {
  const jsonPath = path.join(dir, 'model.json');
  const artifacts = await directoryIOHandler(dir).load!();
  const meta = artifacts.modelTopology as unknown as { format?: string; version?: number; topology?: NetworkTopology } | null;
  if (artifacts.format !== MODEL_FORMAT || meta?.format !== MODEL_FORMAT || meta.topology === undefined) {
    throw new InputError(jsonPath, `not a ${MODEL_FORMAT} checkpoint (format '${artifacts.format}')`);
  }
  if (meta.version !== FORMAT_VERSION) throw new InputError(jsonPath, `unsupported checkpoint version ${meta.version}`);
  try {
    validateTopology(meta.topology);
  } catch (err) {
    throw new InputError(jsonPath, (err as Error).message);
  }
  const weights = tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs!);
  const model = new UNet3D(meta.topology, { seed: 0 });
  try {
    for (const { name, variable } of model.namedVariables()) {
      const t = weights[name];
      if (t === undefined) throw new InputError(jsonPath, `weight '${name}' missing`);
      if (!tf.util.arraysEqual(t.shape, variable.shape)) throw new InputError(jsonPath, `weight '${name}' has shape [${t.shape}], expected [${variable.shape}]`);
      variable.assign(t);
    }
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    tf.dispose(Object.values(weights));
  }
  return model;
}

/** Save named tensors as `<dir>/<name>.json` + `<dir>/<name>.bin` (e.g. optimizer moments). */
export async function saveTensors(dir: string, name: string, tensors: Record<string, tf.Tensor>): Promise<void> {
  const { data, specs } = await encode(Object.entries(tensors).map(([n, tensor]) => ({ name: n, tensor })));
  await directoryIOHandler(dir, name).save!({
    format: TENSORS_FORMAT,
    generatedBy: 'segloss',
    convertedBy: null,
    modelTopology: { format: TENSORS_FORMAT, version: FORMAT_VERSION } as unknown as tf.io.ModelArtifacts['modelTopology'],
    weightSpecs: specs,
    weightData: data,
  });
}

/** Load tensors saved by saveTensors; the caller owns (and disposes) them. */
export async function loadTensors(dir: string, name: string): Promise<Record<string, tf.Tensor>> {
  const artifacts = await directoryIOHandler(dir, name).load!();
  if (artifacts.format !== TENSORS_FORMAT) throw new InputError(path.join(dir, `${name}.json`), `not a ${TENSORS_FORMAT} file (format '${artifacts.format}')`);
  return tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs!);
}
