/**
 * `segloss losses verify`: evaluate every case of a SegLoss reference file (format:
 * its format in docs/losses.md, "Tests") with segloss's implementation and compare the value and the
 * gradient with respect to the logits.
 *
 * Layout: the reference stores logits and gradients channels-first [B, C, D, H, W] (torch); segloss
 * works channels-last [B, D, H, W, C], so both are transposed. Tolerance per number: pass when
 * |a − r| ≤ max(1e−4·|r|, 1e−6) (relative 1e−4, absolute 1e−6 near zero).
 *
 * The mapping from reference ids to segloss ids and options lives here (REFERENCE_MAP): fixed
 * options per id, plus the hyper-parameters recorded in each case's kwargs (batch_dice, do_bg,
 * smooth, weight, k, threshold, alpha, gamma, square) translated to segloss option names.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { InputError, errorMessage } from '../util/errors.js';
import { createLoss, getLossDefinition, type LossOptionValue } from './registry.js';

/** Where a reference id goes in segloss. */
export interface ReferenceMapping {
  lossId: string;
  options?: Record<string, LossOptionValue>;
  note?: string;
}

export const REFERENCE_MAP: Readonly<Record<string, ReferenceMapping>> = {
  ce: { lossId: 'ce' },
  wce: { lossId: 'wce' },
  topk10: { lossId: 'topk' },
  topk_thresh70: { lossId: 'topkt07' },
  topk_thresh90: { lossId: 'topkt09' },
  focal: { lossId: 'focal' },
  pce: { lossId: 'ce', note: 'the released DistPenalizedCE returns plain CE' },
  pce_weighted_intended: { lossId: 'pce', note: 'paper Eq. 6, the weighting DistPenalizedCE computes but drops' },
  ss: { lossId: 'ss' },
  ss_sample: { lossId: 'ss', options: { batch_dice: false } },
  dice: { lossId: 'dice' },
  dice_sample: { lossId: 'dicesample' },
  dice_sq: { lossId: 'dicesq' },
  dice_sample_sq: { lossId: 'dicesamplesq' },
  dice_square_flag: { lossId: 'dice', options: { square: true } },
  iou: { lossId: 'iou' },
  iou_sample: { lossId: 'iou', options: { batch_dice: false } },
  lovasz: { lossId: 'lovasz' },
  lovasz_softmax: { lossId: 'lovasz', options: { input: 'softmax' } },
  tversky: { lossId: 'tversky' },
  tversky_sample: { lossId: 'tversky', options: { batch_dice: false } },
  gdice: { lossId: 'gdice' },
  gdice_v1: { lossId: 'gdice', options: { variant: 'v1' } },
  focal_tversky: { lossId: 'focaltversky' },
  focal_tversky_sample: { lossId: 'focaltversky', options: { batch_dice: false } },
  asym: { lossId: 'asym' },
  asym_sample: { lossId: 'asym', options: { batch_dice: false } },
  pgdice: { lossId: 'pgdice' },
  bd: { lossId: 'bd' },
  hd: { lossId: 'hd' },
  dice_ce: { lossId: 'dicece' },
  ell: { lossId: 'ell' },
  dice_focal: { lossId: 'dicefocal' },
  dice_topk: { lossId: 'dicetopk' },
  dice_bd: { lossId: 'dicebd', options: { alpha_start: 0.01 }, note: 'the released fixed weights 0.01/0.99 = end of the α schedule' },
  dice_hd: { lossId: 'dicehd', note: 'gradient of the detached-weight form, as recorded' },
};

/** Translation of recorded SegLoss kwargs to segloss option names (applied when the loss has the option). */
const KWARG_NAMES: Record<string, string> = {
  batch_dice: 'batch_dice',
  do_bg: 'include_background',
  smooth: 'smooth',
  weight: 'class_weights',
  k: 'k',
  threshold: 'threshold',
  alpha: 'alpha',
  gamma: 'gamma',
  square: 'square',
};

/** One case of the reference file (only the fields segloss reads). */
export interface ReferenceCase {
  id: string;
  loss: string;
  kwargs: Record<string, unknown>;
  logits_shape: [number, number, number, number, number];
  logits: number[];
  labels: number[];
  grad: number[] | null;
  loss_value: number | null;
  loss_value_repr?: string;
}

export interface CaseResult {
  id: string;
  referenceLoss: string;
  lossId?: string;
  status: 'passed' | 'failed' | 'skipped';
  reason?: string;
  value?: number;
  referenceValue?: number;
  valueAbsError?: number;
  valueRelError?: number;
  gradAbsError?: number;
  gradRelError?: number;
}

export interface LossSummary {
  referenceLoss: string;
  lossId: string | null;
  passed: number;
  failed: number;
  skipped: number;
  worstAbsError: number;
  worstRelError: number;
  reasons: string[];
}

export interface VerifyReport {
  file: string;
  backend: string;
  passed: number;
  failed: number;
  skipped: number;
  cases: CaseResult[];
  losses: LossSummary[];
}

export const VALUE_REL_TOL = 1e-4;
export const VALUE_ABS_TOL = 1e-6;

/** Read and minimally validate a reference file. */
export function readReferenceFile(file: string): ReferenceCase[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(file, `cannot read reference cases: ${errorMessage(err).split('\n')[0]}`);
  }
  const cases = (data as { cases?: unknown }).cases;
  if (!Array.isArray(cases)) throw new InputError(file, "expected an object with a 'cases' array (format: docs/losses.md)");
  for (const c of cases as ReferenceCase[]) {
    if (typeof c.id !== 'string' || typeof c.loss !== 'string' || !Array.isArray(c.logits) || !Array.isArray(c.labels) || !Array.isArray(c.logits_shape)) {
      throw new InputError(file, `case ${String((c as { id?: unknown }).id)}: missing id, loss, logits, logits_shape or labels`);
    }
  }
  return cases as ReferenceCase[];
}

function flattenKwargs(kwargs: Record<string, unknown>, out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(kwargs ?? {})) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flattenKwargs(v as Record<string, unknown>, out);
    else out[k] = v;
  }
  return out;
}

/** segloss id and options for a reference case, or the reason it is skipped. */
export function mapCase(c: ReferenceCase): { mapping: ReferenceMapping & { options: Record<string, LossOptionValue> } } | { skip: string } | { fail: string } {
  if (c.loss.startsWith('lp_')) return { skip: 'stand-alone losses_pytorch copy, no segloss counterpart' };
  if (c.loss_value === null) return { skip: 'reference value is NaN' };
  const m = REFERENCE_MAP[c.loss];
  if (m === undefined) return { fail: `no segloss counterpart known for reference loss '${c.loss}'` };
  const def = getLossDefinition(m.lossId);
  const names = new Set(def.options.map((o) => o.name));
  const options: Record<string, LossOptionValue> = {};
  for (const [k, v] of Object.entries(flattenKwargs(c.kwargs))) {
    const name = KWARG_NAMES[k];
    if (name !== undefined && names.has(name) && (typeof v === 'number' || typeof v === 'boolean' || Array.isArray(v))) options[name] = v as LossOptionValue;
  }
  return { mapping: { ...m, options: { ...options, ...(m.options ?? {}) } } };
}

/** [B, C, D, H, W] flat (torch) → [B, D, H, W, C] flat. */
export function channelsLast(values: ArrayLike<number>, shape: [number, number, number, number, number]): Float32Array {
  const [b, c, d, h, w] = shape;
  const v = d * h * w;
  const out = new Float32Array(b * v * c);
  for (let ib = 0; ib < b; ib++) {
    for (let ic = 0; ic < c; ic++) {
      const src = (ib * c + ic) * v;
      for (let i = 0; i < v; i++) out[(ib * v + i) * c + ic] = values[src + i]!;
    }
  }
  return out;
}

function errors(actual: ArrayLike<number>, expected: ArrayLike<number>): { abs: number; rel: number; ok: boolean } {
  let abs = 0;
  let rel = 0;
  let ok = true;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const r = expected[i]!;
    const e = Math.abs(a - r);
    if (!(e <= Math.max(VALUE_REL_TOL * Math.abs(r), VALUE_ABS_TOL))) ok = false;
    if (!(e <= abs)) abs = Number.isNaN(e) ? NaN : Math.max(abs, e);
    // The relative error is the binding criterion only where |r| > abs/rel tolerance ratio.
    if (Math.abs(r) > VALUE_ABS_TOL / VALUE_REL_TOL && !(e / Math.abs(r) <= rel)) rel = Number.isNaN(e) ? NaN : Math.max(rel, e / Math.abs(r));
  }
  return { abs, rel, ok };
}

/** Evaluate one reference case: value and d loss / d logits. */
export function verifyCase(c: ReferenceCase): CaseResult {
  const mapped = mapCase(c);
  const base: CaseResult = { id: c.id, referenceLoss: c.loss, status: 'skipped' };
  if ('skip' in mapped) return { ...base, reason: mapped.skip };
  if ('fail' in mapped) return { ...base, status: 'failed', reason: mapped.fail };
  const { lossId, options } = mapped.mapping;
  const configured = createLoss(lossId, options);
  const [b, ch, d, h, w] = c.logits_shape;
  const logits = tf.tensor5d(channelsLast(c.logits, c.logits_shape), [b, d, h, w, ch], 'float32');
  const labels = tf.tensor4d(Int32Array.from(c.labels), [b, d, h, w], 'int32');
  try {
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => configured.fn(x as tf.Tensor5D, labels))(logits);
    const v = value.dataSync()[0]!;
    const gradValues = grad.dataSync();
    value.dispose();
    grad.dispose();
    const ref = c.loss_value_repr !== undefined ? Number(c.loss_value_repr) : c.loss_value!;
    const ve = errors([v], [ref]);
    const result: CaseResult = {
      ...base,
      lossId,
      value: v,
      referenceValue: ref,
      valueAbsError: ve.abs,
      valueRelError: ve.rel,
      status: ve.ok ? 'passed' : 'failed',
    };
    if (!ve.ok) result.reason = `value ${v} vs reference ${ref}`;
    if (c.grad !== null && c.grad !== undefined) {
      const ge = errors(gradValues, channelsLast(c.grad, c.logits_shape));
      result.gradAbsError = ge.abs;
      result.gradRelError = ge.rel;
      if (!ge.ok) {
        result.status = 'failed';
        result.reason = (result.reason ? result.reason + '; ' : '') + `gradient differs (worst abs ${ge.abs.toExponential(2)}, rel ${ge.rel.toExponential(2)})`;
      }
    }
    return result;
  } finally {
    logits.dispose();
    labels.dispose();
  }
}

/** Verify every case of a reference file; grouped per reference loss id in file order. */
export function verifyReferenceFile(file: string): VerifyReport {
  const cases = readReferenceFile(file);
  const results = cases.map((c) => {
    try {
      return verifyCase(c);
    } catch (err) {
      return { id: c.id, referenceLoss: c.loss, status: 'failed', reason: errorMessage(err).split('\n')[0] } satisfies CaseResult;
    }
  });
  const groups = new Map<string, LossSummary>();
  for (const r of results) {
    let s = groups.get(r.referenceLoss);
    if (s === undefined) {
      s = { referenceLoss: r.referenceLoss, lossId: r.lossId ?? REFERENCE_MAP[r.referenceLoss]?.lossId ?? null, passed: 0, failed: 0, skipped: 0, worstAbsError: 0, worstRelError: 0, reasons: [] };
      groups.set(r.referenceLoss, s);
    }
    s[r.status] += 1;
    for (const e of [r.valueAbsError, r.gradAbsError]) if (e !== undefined) s.worstAbsError = Number.isNaN(e) ? NaN : Math.max(s.worstAbsError, e);
    for (const e of [r.valueRelError, r.gradRelError]) if (e !== undefined) s.worstRelError = Number.isNaN(e) ? NaN : Math.max(s.worstRelError, e);
    if (r.reason !== undefined && !s.reasons.includes(r.reason)) s.reasons.push(r.status === 'failed' ? `${r.id}: ${r.reason}` : r.reason);
  }
  return {
    file,
    backend: tf.getBackend(),
    passed: results.filter((r) => r.status === 'passed').length,
    failed: results.filter((r) => r.status === 'failed').length,
    skipped: results.filter((r) => r.status === 'skipped').length,
    cases: results,
    losses: [...groups.values()],
  };
}
