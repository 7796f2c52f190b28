/**
 * Loss options: their specification, the specifications several losses share, and how user input
 * (CLI `--loss-opt`, a YAML mapping, a library call) becomes the resolved, typed options of a loss.
 *
 * One dialect: option names are snake_case, MONAI's and nnU-Net's names where they exist
 * (`include_background`, `batch_dice`, `smooth`), and the same across losses: a loss that has the
 * concept uses the shared specification below instead of declaring its own. The camelCase names of
 * earlier versions (`batchDice`, …) are still accepted everywhere, with a deprecation warning.
 */
import { UsageError } from '../util/errors.js';
import { warn } from '../util/log.js';
import type { RegionOptions } from './region.js';

export type LossOptionValue = number | boolean | string | number[];
export type LossOptions = Record<string, LossOptionValue>;

export interface LossOptionSpec {
  name: string;
  type: 'number' | 'boolean' | 'choice' | 'numbers';
  /** Default value; undefined means "unset" (documented in the description). */
  default: LossOptionValue | undefined;
  description: string;
  choices?: readonly string[];
  min?: number;
  max?: number;
}

// ---------------------------------------------------------------------------------------------
// Option specifications shared by several losses.

export const SMOOTH: LossOptionSpec = { name: 'smooth', type: 'number', default: 1e-5, min: 0, description: 'smoothing term s (the trainers pass 1e-5; constructor default 1)' };

export const BATCH_DICE = (d: boolean): LossOptionSpec => ({
  name: 'batch_dice',
  type: 'boolean',
  default: d,
  description: "sum the soft counts over the batch too (nnU-Net's batch_dice); training sets it from the plan",
});

export const INCLUDE_BACKGROUND: LossOptionSpec = { name: 'include_background', type: 'boolean', default: false, description: "keep class 0 in the class mean (MONAI's include_background; trainers: do_bg=False)" };

/** The options of every soft-count (region) term: batch Dice, background, smoothing. */
export const REGION_OPTIONS = (batch = true): LossOptionSpec[] => [BATCH_DICE(batch), INCLUDE_BACKGROUND, SMOOTH];

export const CLASS_WEIGHTS: LossOptionSpec = {
  name: 'class_weights',
  type: 'numbers',
  default: undefined,
  description: 'per-class CE weights; training sets the inverse class frequencies of the training set (unset: inverse frequencies of the batch)',
};

export const K_PERCENT = (k: number): LossOptionSpec => ({ name: 'k', type: 'number', default: k, min: 0, max: 100, description: 'percentage of the worst voxels of the batch kept' });

export const HD_DISTANCE: LossOptionSpec = {
  name: 'distance',
  type: 'choice',
  default: 'interior',
  choices: ['interior', 'unsigned'],
  description: "'interior': EDT inside the masks only (released code); 'unsigned': distance to the boundary on both sides (Karimi & Salcudean)",
};

// ---------------------------------------------------------------------------------------------
// Typed access to resolved options (resolveLossOptions has checked every type).

export const num = (o: LossOptions, k: string): number => o[k] as number;
export const bool = (o: LossOptions, k: string): boolean => o[k] as boolean;
export const str = (o: LossOptions, k: string): string => o[k] as string;

/** The region options (REGION_OPTIONS) of a resolved option set, as the formulas take them. */
export const regionOptionsOf = (o: LossOptions): RegionOptions => ({ batchDice: bool(o, 'batch_dice'), includeBackground: bool(o, 'include_background'), smooth: num(o, 'smooth') });

// ---------------------------------------------------------------------------------------------
// Deprecated names: the camelCase dialect of earlier versions, still accepted.

/** Deprecated option name → current name (every loss that has the option uses the current name). */
export const DEPRECATED_OPTION_NAMES: ReadonlyMap<string, string> = new Map([
  ['batchDice', 'batch_dice'],
  ['includeBackground', 'include_background'],
  ['classWeights', 'class_weights'],
  ['thresholdOn', 'threshold_on'],
  ['perClass', 'per_class'],
  ['wDice', 'w_dice'],
  ['wCe', 'w_ce'],
  ['exponentOn', 'exponent_on'],
  ['alphaStart', 'alpha_start'],
  ['alphaStep', 'alpha_step'],
  ['alphaMin', 'alpha_min'],
]);

/** Deprecated values of choice options, per (current) option name: deprecated value → current value. */
export const DEPRECATED_CHOICE_VALUES: ReadonlyMap<string, ReadonlyMap<string, string>> = new Map([
  ['exponent_on', new Map([['meanDice', 'mean_dice'], ['perClass', 'per_class']])],
]);

/** Deprecations already warned about: one warning per message and process, not one per call. */
const warnedDeprecated = new Set<string>();

/**
 * The same options under their current names: a deprecated name is renamed, with a one-line
 * warning on stderr (shown even with --quiet) naming the new name. Giving an option under both
 * names is a UsageError. `source` (a file, a flag) prefixes the messages when given.
 */
export function canonicalLossOptions<V>(given: Readonly<Record<string, V>>, source?: string): Record<string, V> {
  const where = source !== undefined ? `${source}: ` : '';
  const out: Record<string, V> = {};
  for (const [name, value] of Object.entries(given)) {
    const current = DEPRECATED_OPTION_NAMES.get(name);
    if (current === undefined) {
      out[name] = value;
      continue;
    }
    if (Object.prototype.hasOwnProperty.call(given, current)) {
      throw new UsageError(`${where}loss options ${name} and ${current} are the same option (${name} is its deprecated name); give only ${current}`);
    }
    warnDeprecated(`${where}loss option ${name} is deprecated; use ${current}`);
    out[current] = value;
  }
  return out;
}

function warnDeprecated(message: string): void {
  if (warnedDeprecated.has(message)) return;
  warnedDeprecated.add(message);
  warn(message);
}

// ---------------------------------------------------------------------------------------------
// From user input to resolved options.

function coerce(lossId: string, spec: LossOptionSpec, value: LossOptionValue): LossOptionValue {
  const bad = (why: string): never => {
    throw new UsageError(`loss '${lossId}' option ${spec.name}: ${why}`);
  };
  switch (spec.type) {
    case 'number': {
      const v = typeof value === 'string' ? Number(value) : value;
      if (typeof v !== 'number' || !Number.isFinite(v)) return bad(`expected a number, got '${String(value)}'`);
      if (spec.min !== undefined && v < spec.min) return bad(`must be ≥ ${spec.min}, got ${v}`);
      if (spec.max !== undefined && v > spec.max) return bad(`must be ≤ ${spec.max}, got ${v}`);
      return v;
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1' || value === 1) return true;
      if (value === 'false' || value === '0' || value === 0) return false;
      return bad(`expected true or false, got '${String(value)}'`);
    }
    case 'choice': {
      let v = String(value);
      const current = DEPRECATED_CHOICE_VALUES.get(spec.name)?.get(v);
      if (current !== undefined) {
        warnDeprecated(`loss option ${spec.name}=${v} is deprecated; use ${spec.name}=${current}`);
        v = current;
      }
      if (!spec.choices!.includes(v)) return bad(`expected one of ${spec.choices!.join(', ')}, got '${v}'`);
      return v;
    }
    case 'numbers': {
      const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',').map((s) => Number(s.trim())) : [value];
      if (list.length === 0 || list.some((v) => typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
        return bad(`expected a comma-separated list of non-negative numbers, got '${String(value)}'`);
      }
      return list as number[];
    }
  }
}

/**
 * The defaults of `specs` overridden by `given` (deprecated names accepted), each value checked and
 * coerced to its option's type. An option the loss does not have is a UsageError listing the valid ones.
 */
export function resolveLossOptions(lossId: string, specs: readonly LossOptionSpec[], given: Record<string, LossOptionValue>): LossOptions {
  const resolved: LossOptions = {};
  for (const spec of specs) if (spec.default !== undefined) resolved[spec.name] = spec.default;
  for (const [name, value] of Object.entries(canonicalLossOptions(given))) {
    const spec = specs.find((s) => s.name === name);
    if (spec === undefined) {
      const valid = specs.map((s) => s.name);
      throw new UsageError(`loss '${lossId}' has no option '${name}' (valid: ${valid.length > 0 ? valid.join(', ') : 'none'})`);
    }
    resolved[name] = coerce(lossId, spec, value);
  }
  return resolved;
}

/**
 * Parse `--loss-opt key=value` pairs. Numbers become numbers, true/false booleans, comma lists of
 * numbers arrays (class_weights=1,42.8); anything else stays a string (createLoss checks types).
 * Deprecated names come back under their current names (with a warning).
 */
export function parseLossOptions(pairs: string[]): Record<string, LossOptionValue> {
  const out: Record<string, LossOptionValue> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--loss-opt: expected key=value, got '${pair}'`);
    const key = pair.slice(0, eq).trim();
    const raw = pair.slice(eq + 1).trim();
    if (raw === '') throw new UsageError(`--loss-opt ${key}: empty value`);
    let value: LossOptionValue;
    if (raw === 'true' || raw === 'false') value = raw === 'true';
    else if (raw.includes(',') && raw.split(',').every((s) => s.trim() !== '' && Number.isFinite(Number(s)))) value = raw.split(',').map(Number);
    else if (Number.isFinite(Number(raw))) value = Number(raw);
    else value = raw;
    out[key] = value;
  }
  return canonicalLossOptions(out, '--loss-opt');
}

/**
 * Loss options from a configuration file (YAML/JSON mapping such as `loss_options: {k: 30}`):
 * checks that it is a mapping of numbers, booleans, strings or number lists and renames deprecated
 * names (with a warning); `createLoss` then checks names and types against the loss. `source`
 * names the file or key in messages.
 */
export function lossOptionsFromConfig(raw: unknown, source: string): Record<string, LossOptionValue> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new UsageError(`${source}: loss options must be a mapping of name: value`);
  const out: Record<string, LossOptionValue> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const ok = typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'number'));
    if (!ok) throw new UsageError(`${source}: loss option ${k} must be a number, boolean, string or list of numbers`);
    out[k] = v as LossOptionValue;
  }
  return canonicalLossOptions(out, source);
}
