/**
 * The public face of the loss catalogue: look up a loss's definition and configure a loss by id.
 *
 * `createLoss('topk', { k: 30 })` returns a `ConfiguredLoss` whose `fn` is a pure
 * `LossFunction(logits [B,D,H,W,C], labels [B,D,H,W], context?) → Scalar`. Unknown ids or options
 * are a `UsageError` that lists the valid ones.
 *
 * Where things live: a loss's formula in its family file (./distribution.ts, ./region.ts,
 * ./lovasz.ts, ./boundary.ts, ./compound.ts); its catalogue entry (metadata, options, how to build
 * it, any option reconciliation) in ./catalogue/<family>.ts; options shared by several losses and
 * the parsing of user input in ./options.ts. This file only assembles them (docs/architecture.md,
 * "Extending segloss").
 */
import { UsageError } from '../util/errors.js';
import { BOUNDARY_LOSSES } from './catalogue/boundary.js';
import { COMPOUND_LOSSES } from './catalogue/compound.js';
import { DISTRIBUTION_LOSSES } from './catalogue/distribution.js';
import { REGION_LOSSES } from './catalogue/region.js';
import type { ConfiguredLoss, LossDefinition } from './definition.js';
import type { CatalogueEntry } from './entry.js';
import { resolveLossOptions, type LossOptionValue } from './options.js';

export type { ConfiguredLoss, LossDefinition, LossFamily, LossSchedule } from './definition.js';
export type { LossOptions, LossOptionSpec, LossOptionValue } from './options.js';
export { canonicalLossOptions, lossOptionsFromConfig, parseLossOptions } from './options.js';
export { inverseClassFrequencies } from './common.js';
export { STUDY_EPOCH_ITERATIONS } from './compound.js';

/** Every loss, in catalogue order: the families in the paper's order (§2.1–2.4). */
const CATALOGUE: readonly CatalogueEntry[] = [...DISTRIBUTION_LOSSES, ...REGION_LOSSES, ...BOUNDARY_LOSSES, ...COMPOUND_LOSSES];

const BY_ID = new Map<string, CatalogueEntry>();
for (const e of CATALOGUE) {
  for (const id of [e.id, ...e.aliases]) BY_ID.set(id, e);
}

/** Canonical loss ids, in catalogue order (aliases such as topk10 are accepted by createLoss too). */
export const LOSS_IDS: readonly string[] = CATALOGUE.map((e) => e.id);

function entryOf(id: string): CatalogueEntry {
  const e = BY_ID.get(id);
  if (e === undefined) throw new UsageError(`unknown loss '${id}' (valid: ${[...BY_ID.keys()].join(', ')})`);
  return e;
}

/** The definition part of an entry (no functions), as a copy the caller may change. */
function definitionOf(e: CatalogueEntry): LossDefinition {
  return {
    id: e.id,
    aliases: [...e.aliases],
    name: e.name,
    family: e.family,
    paperEquation: e.paperEquation,
    role: e.role,
    options: e.options.map((s) => ({ ...s })),
    reference: e.reference,
    notes: e.notes,
    ...(e.schedule !== undefined ? { schedule: { ...e.schedule } } : {}),
  };
}

/** Metadata of every loss (no functions), for `segloss losses` and documentation. */
export function listLosses(): LossDefinition[] {
  return CATALOGUE.map(definitionOf);
}

export function getLossDefinition(id: string): LossDefinition {
  return definitionOf(entryOf(id));
}

/**
 * Configure a loss by id with option overrides (CLI `--loss-opt`, YAML). Unknown ids and options
 * are a UsageError listing the valid ones; values are checked and coerced to the option's type.
 */
export function createLoss(id: string, options: Record<string, LossOptionValue> = {}): ConfiguredLoss {
  const entry = entryOf(id);
  const merged = resolveLossOptions(entry.id, entry.options, options);
  const resolved = entry.resolveOptions !== undefined ? entry.resolveOptions(merged) : merged;
  return { id: entry.id, options: resolved, ...entry.build(resolved) };
}
