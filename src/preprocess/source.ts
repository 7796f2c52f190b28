/**
 * Which dataset a preprocessed cache was made from (`<cache>/source.json`): the dataset folder's
 * resolved path and a fingerprint (SHA-256 of its dataset.json and of its sorted training case ids).
 * A cache is only used for the dataset it came from: a folder named like a registered task
 * (`segloss synth … --out data/toy-liver`, then `preprocess --data data/toy-liver`) must not be
 * trained on by `train --task toy-liver`, whose data is elsewhere. The same dataset moved to another
 * path (equal fingerprint) is still accepted. docs/preprocessing.md.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Dataset } from '../data/dataset.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import { pythonSorted } from './splits.js';

export const SOURCE_FILE = 'source.json';

export interface CacheSource {
  /** Resolved (real) path of the dataset folder. */
  dataset: string;
  /** SHA-256 of dataset.json's bytes. */
  dataset_json_sha256: string;
  /** Number of training cases and SHA-256 of their ids (Python-sorted, newline-joined). */
  cases: number;
  cases_sha256: string;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function realPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** The source record of a dataset. */
export function datasetSource(ds: Dataset): CacheSource {
  const ids = pythonSorted(ds.training.map((c) => c.id));
  return {
    dataset: realPath(ds.root),
    dataset_json_sha256: sha256(readFileSync(path.join(ds.root, 'dataset.json'))),
    cases: ids.length,
    cases_sha256: sha256(ids.join('\n')),
  };
}

/** The recorded source of a cache: source.json, else (older caches) plans.json's dataset_dir, else undefined. */
export function recordedSource(cacheDir: string): Partial<CacheSource> & { dataset: string } | undefined {
  try {
    const s = JSON.parse(readFileSync(path.join(cacheDir, SOURCE_FILE), 'utf8')) as Partial<CacheSource>;
    if (typeof s.dataset === 'string') return s as Partial<CacheSource> & { dataset: string };
  } catch {
    // no source.json
  }
  try {
    const p = JSON.parse(readFileSync(path.join(cacheDir, 'plans.json'), 'utf8')) as { dataset_dir?: unknown };
    if (typeof p.dataset_dir === 'string') return { dataset: p.dataset_dir };
  } catch {
    // no plans.json
  }
  return undefined;
}

const short = (s: Partial<CacheSource>) =>
  s.cases === undefined ? s.dataset : `${s.dataset} (${s.cases} cases, dataset.json ${s.dataset_json_sha256?.slice(0, 8) ?? '?'})`;

/**
 * 'new' (nothing recorded), 'same' (same folder, or the same fingerprint at another path) or a
 * one-line description of the collision.
 */
export function compareSource(recorded: (Partial<CacheSource> & { dataset: string }) | undefined, current: CacheSource): 'new' | 'same' | string {
  if (recorded === undefined) return 'new';
  if (realPath(recorded.dataset) === current.dataset) return 'same';
  if (recorded.dataset_json_sha256 === current.dataset_json_sha256 && recorded.cases_sha256 === current.cases_sha256) return 'same';
  return `was preprocessed from ${short(recorded)}, not from ${short(current)}`;
}

/**
 * Refuse (InputError, exit 2, one line naming both datasets) to use the cache `cacheDir` for `ds`
 * when it was made from another dataset.
 */
export function assertCacheSource(cacheDir: string, ds: Dataset): void {
  const verdict = compareSource(recordedSource(cacheDir), datasetSource(ds));
  if (verdict === 'new' || verdict === 'same') return;
  throw new InputError(cacheDir, `${verdict}; rebuild it with 'segloss preprocess … --force' or use another --out / --preprocessed folder`);
}

/**
 * Before preprocessing `ds` into `cacheDir`: refuse a cache of another dataset, or with `force`
 * empty the folder (rebuild from scratch). Records the source afterwards.
 */
export async function claimCache(cacheDir: string, ds: Dataset, force: boolean): Promise<void> {
  const current = datasetSource(ds);
  const verdict = compareSource(recordedSource(cacheDir), current);
  if (verdict !== 'new' && verdict !== 'same') {
    if (!force) throw new InputError(cacheDir, `${verdict}; rebuild it with 'segloss preprocess … --force' or use another --out / --preprocessed folder`);
    // Only what a cache holds (cases, plans, splits, fingerprint), so a mistaken --out loses nothing else.
    for (const name of existsSync(cacheDir) ? readdirSync(cacheDir) : []) {
      if (name === 'fingerprint' || /\.(nii|json)$/.test(name)) await fsp.rm(path.join(cacheDir, name), { recursive: true, force: true });
    }
  }
  await fsp.mkdir(cacheDir, { recursive: true });
  await writeJsonAtomic(path.join(cacheDir, SOURCE_FILE), current);
}
