/**
 * The loss of a training command, resolved once: its id, its special schedule (a fact of the
 * catalogue definition, paper §3.2) and its options, checked before any data work so that a typo
 * is a usage error (exit 2). The configured loss a stage trains with is made from it once the
 * plan and the fold's cases are known (plan-dependent defaults), and reused while those stay the
 * same (every rate of a learning-rate search).
 */
import { LOSS_IDS, canonicalLossOptions, createLoss, getLossDefinition, inverseClassFrequencies, type ConfiguredLoss, type LossOptionValue, type LossSchedule } from '../losses/registry.js';
import type { RunData } from './data.js';

export interface RunLoss {
  /** The id as given (an alias such as topk10 names its own run directories). */
  id: string;
  /** The study's special schedule of the loss; undefined for plug-and-play and custom losses. */
  schedule: LossSchedule | undefined;
  /** The loss for a run's data: a catalogue loss gets the plan's batch Dice and the fold's WCE class weights unless given. */
  configure(data: RunData): ConfiguredLoss;
}

/** Resolve a loss id with its options (validated here), or take a configured loss object as it is. */
export function resolveRunLoss(loss: string | ConfiguredLoss, options: Record<string, LossOptionValue> = {}): RunLoss {
  if (typeof loss !== 'string') {
    // A library-configured loss: a catalogue id keeps its schedule; a custom one has none.
    const schedule = LOSS_IDS.includes(loss.id) ? getLossDefinition(loss.id).schedule : undefined;
    return { id: loss.id, schedule, configure: () => loss };
  }
  const definition = getLossDefinition(loss);
  let configured = createLoss(loss, options);
  let configuredWith = JSON.stringify(options);
  const optionNames = new Set(definition.options.map((o) => o.name));
  return {
    id: loss,
    schedule: definition.schedule,
    configure(data: RunData): ConfiguredLoss {
      // Under their current names first: a deprecated camelCase name must not stand beside the default added here.
      const resolved: Record<string, LossOptionValue> = canonicalLossOptions(options);
      if (optionNames.has('batch_dice') && resolved['batch_dice'] === undefined) resolved['batch_dice'] = data.plans.batch_dice;
      if (optionNames.has('class_weights') && resolved['class_weights'] === undefined) resolved['class_weights'] = inverseClassFrequencies(data.classCounts);
      const key = JSON.stringify(resolved);
      if (key !== configuredWith) {
        configured = createLoss(loss, resolved);
        configuredWith = key;
      }
      return configured;
    },
  };
}
