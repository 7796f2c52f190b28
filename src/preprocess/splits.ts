/**
 * Train/test split and 5-fold cross-validation exactly as nnU-Net V1 makes them
 * (nnU-Net V1 `nnUNetTrainer.do_split`).
 *
 * keys = case ids sorted as strings (Python `sorted`, i.e. by UTF-16 code unit for ASCII ids);
 * sklearn `KFold(n_splits=5, shuffle=True, random_state=12345)`: the index list 0..n−1 is shuffled
 * with numpy's legacy `RandomState(12345).shuffle`, then cut into 5 contiguous chunks of
 * ⌊n/5⌋ (+1 for the first n mod 5 chunks). Chunk k is fold k's validation set. Fold 0 is the
 * study's 80/20 train/test split; the 5 folds of its training part give validation folds.
 */

import { readFileSync } from 'node:fs';
import { InputError, errorMessage } from '../util/errors.js';

/** numpy's MT19937 (legacy seeding `init_genrand`), producing the same 32-bit stream. */
export class MersenneTwister {
  private readonly mt = new Uint32Array(624);
  private index = 624;

  constructor(seed: number) {
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = this.mt[i - 1] as number;
      const x = (prev ^ (prev >>> 30)) >>> 0;
      // 1812433253 · x + i (mod 2^32), split to stay exact in doubles.
      this.mt[i] = (Math.imul(1812433253, x) + i) >>> 0;
    }
  }

  nextUint32(): number {
    const mt = this.mt;
    if (this.index >= 624) {
      for (let i = 0; i < 624; i++) {
        const y = ((mt[i] as number) & 0x80000000) | ((mt[(i + 1) % 624] as number) & 0x7fffffff);
        let v = (mt[(i + 397) % 624] as number) ^ (y >>> 1);
        if (y & 1) v ^= 0x9908b0df;
        mt[i] = v >>> 0;
      }
      this.index = 0;
    }
    let y = mt[this.index++] as number;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * numpy legacy bounded integer in [0, max] by masked rejection sampling
   * (mask = smallest 2^k − 1 ≥ max; draw u32 & mask until ≤ max). Valid for max < 2^32.
   */
  boundedInt(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    for (;;) {
      const v = (this.nextUint32() & mask) >>> 0;
      if (v <= max) return v;
    }
  }

  /** numpy legacy `RandomState.shuffle` of a 1-D array: Fisher–Yates from the end. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.boundedInt(i);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }
}

/** Python's default string sort (code-unit order; `liver_10` < `liver_2`). */
export function pythonSorted(ids: readonly string[]): string[] {
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export interface Fold {
  train: string[];
  val: string[];
}

/**
 * sklearn KFold(n_splits, shuffle=True, random_state=seed) over `pythonSorted(ids)`.
 * Within a fold, train and val keep the order of the sorted key list (as nnU-Net's
 * `keys[train_idx]` with sorted sklearn indices does).
 */
export function kFold(ids: readonly string[], nSplits = 5, seed = 12345): Fold[] {
  const keys = pythonSorted(ids);
  const n = keys.length;
  if (n < nSplits) throw new Error(`cannot make ${nSplits} folds from ${n} cases`);
  const idx = new MersenneTwister(seed).shuffle(Array.from({ length: n }, (_, i) => i));
  const folds: Fold[] = [];
  let start = 0;
  for (let k = 0; k < nSplits; k++) {
    const size = Math.floor(n / nSplits) + (k < n % nSplits ? 1 : 0);
    const valSet = new Set(idx.slice(start, start + size));
    start += size;
    folds.push({
      train: keys.filter((_, i) => !valSet.has(i)),
      val: keys.filter((_, i) => valSet.has(i)),
    });
  }
  return folds;
}

/** splits.json: the study's held-out test set (fold 0 of the full KFold) and CV folds of the rest. */
export interface Splits {
  /** Seed used for both KFold levels. */
  seed: number;
  /** 80/20 test cases: validation part of fold 0 of KFold(5) over all cases. */
  test: string[];
  /** KFold(5) of the remaining training cases; `val` is used for choosing learning rates. */
  folds: Fold[];
  /** The published split file the test set came from (absent: made by `makeSplits`). */
  published?: string;
}

/**
 * The study's splits: `test` = validation chunk of fold 0 of KFold(nFolds) over all cases (the
 * 80/20 split), `folds` = KFold(nFolds) over the remaining cases, same seed.
 * Small datasets: with fewer than `nFolds` cases there is no test set and the folds are
 * KFold(n) over all cases (leave-one-out); when the training part has fewer than `nFolds` cases
 * it gets KFold(its size). Fewer than 2 cases is an error (nothing to validate on).
 */
export function makeSplits(caseIds: readonly string[], seed = 12345, nFolds = 5): Splits {
  const n = caseIds.length;
  if (n < 2) throw new Error(`a dataset needs at least 2 training cases, got ${n}`);
  let test: string[] = [];
  let trainPart = pythonSorted(caseIds);
  if (n >= nFolds) {
    const outer = kFold(caseIds, nFolds, seed)[0] as Fold;
    test = outer.val;
    trainPart = outer.train;
  }
  return { seed, test, folds: kFold(trainPart, Math.min(nFolds, trainPart.length), seed) };
}

/** A split file as the study published it: nnU-Net V1 `splits_final.pkl` as JSON (configs/published/). */
export interface PublishedSplit {
  file: string;
  source: string | null;
  folds: Fold[];
}

/** Read a split file: {"folds": [{"train": [...], "val": [...]}, ...]} (or the bare list of folds). */
export function readPublishedSplit(file: string): PublishedSplit {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(file, `cannot read the split file: ${errorMessage(err)}`);
  }
  const folds = Array.isArray(json) ? json : (json as { folds?: unknown } | null)?.folds;
  const isIds = (x: unknown) => Array.isArray(x) && x.every((v) => typeof v === 'string');
  if (!Array.isArray(folds) || folds.length === 0 || folds.some((f: { train?: unknown; val?: unknown } | null) => f === null || !isIds(f.train) || !isIds(f.val))) {
    throw new InputError(file, 'expected {"folds": [{"train": [case ids], "val": [case ids]}, ...]}');
  }
  const fold0 = folds[0] as Fold;
  if (fold0.val.length === 0 || fold0.train.length < 2) throw new InputError(file, 'fold 0 needs a non-empty val list (the test set) and at least 2 training cases');
  const source = Array.isArray(json) ? null : (json as { source?: unknown }).source;
  return { file, source: typeof source === 'string' ? source : null, folds: folds as Fold[] };
}

const firstFew = (ids: readonly string[], n = 5) => ids.slice(0, n).join(', ') + (ids.length > n ? ', …' : '');

/**
 * Stop (InputError, exit 2) unless the dataset's case ids are exactly the published split's (fold 0's
 * train ∪ val): a dataset named otherwise would silently get another test set than the study's.
 */
export function checkPublishedIds(split: PublishedSplit, datasetRoot: string, caseIds: readonly string[]): void {
  const fold0 = split.folds[0] as Fold;
  const published = [...fold0.train, ...fold0.val];
  const have = new Set(caseIds);
  const want = new Set(published);
  const missing = pythonSorted(published.filter((id) => !have.has(id)));
  const extra = pythonSorted(caseIds.filter((id) => !want.has(id)));
  if (missing.length === 0 && extra.length === 0) return;
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`${missing.length} of the split's ${published.length} case ids are missing from the dataset (${firstFew(missing)})`);
  if (extra.length > 0) parts.push(`${extra.length} dataset case(s) are not in the split (${firstFew(extra)})`);
  throw new InputError(datasetRoot, `does not match the published split ${split.file}: ${parts.join('; ')}; rename the cases as docs/data.md describes`);
}

/**
 * The study's splits from a published split file: `test` = fold 0's `val` list, training cases =
 * fold 0's `train` list, `folds` = KFold(nFolds) of those with `seed` (the nested validation folds,
 * as `makeSplits` makes them). `checkPublishedIds` first.
 */
export function publishedSplits(split: PublishedSplit, seed = 12345, nFolds = 5): Splits {
  const fold0 = split.folds[0] as Fold;
  const trainPart = pythonSorted(fold0.train);
  return { seed, test: pythonSorted(fold0.val), folds: kFold(trainPart, Math.min(nFolds, trainPart.length), seed), published: split.file };
}
