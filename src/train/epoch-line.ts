/**
 * The one-line summary `segloss train` prints on stderr after every epoch, fitted to the terminal
 * (100 columns when stderr is not one). The numbers a researcher watches come first and always
 * stay: epoch, training and validation loss, mean validation Dice, time, and the `best` marker.
 * What does not fit gives way in this order: the share of the epoch spent waiting for data, the
 * current learning rate (the run's label holds the initial one), the per-class Dice of multi-label
 * tasks; then the losses get 3 decimals and the time whole seconds; then the run's label is
 * shortened with an ellipsis. The full record of every epoch is in the run's log.jsonl either way.
 */
import { truncate } from '../util/width.js';
import type { EpochLogEntry } from './types.js';

const SEPARATOR = ' · ';

const formatDice = (d: number | null): string => (d === null ? '–' : d.toFixed(3));

/** The epoch's summary line (no newline) for the run `label` (task loss lr f<fold>/s<seed>), at most `columns` characters. */
export function formatEpochLine(label: string, entry: EpochLogEntry, columns: number): string {
  const perClass = entry.valDicePerClass.length > 1 ? ` (${entry.valDicePerClass.map(formatDice).join('/')})` : '';
  const waitPercent = Math.round(100 * entry.dataWaitShare);
  // Optional parts; dropped in the order of the loop below when the line is too long.
  const optional = {
    perClass,
    wait: waitPercent > 0 ? `data wait ${waitPercent}%` : '',
    lr: `lr ${entry.learningRate.toExponential(1)}`,
  };
  // Compact numbers (3 decimals, whole seconds from 10 s) before the run's label is cut.
  const build = (parts: typeof optional, compact = false): string =>
    [
      `epoch ${entry.epoch}`,
      `train ${entry.trainLoss.toFixed(compact ? 3 : 4)}`,
      `val ${entry.valLoss.toFixed(compact ? 3 : 4)}`,
      `Dice ${formatDice(entry.valDice)}${parts.perClass}`,
      parts.lr,
      `${entry.seconds.toFixed(compact && entry.seconds >= 10 ? 0 : 1)} s`,
      parts.wait,
      entry.newBest ? 'best' : '',
    ]
      .filter((p) => p !== '')
      .join(SEPARATOR);
  const fits = (body: string) => label.length + SEPARATOR.length + body.length <= columns;
  let parts = { ...optional };
  let body = build(parts);
  for (const drop of ['wait', 'lr', 'perClass'] as const) {
    if (fits(body)) break;
    parts = { ...parts, [drop]: '' };
    body = build(parts);
  }
  if (!fits(body)) body = build(parts, true);
  const room = columns - SEPARATOR.length - body.length;
  // Below a dozen characters a shortened label says nothing; the line then starts with the epoch.
  return room >= 12 ? `${truncate(label, room)}${SEPARATOR}${body}` : truncate(body, columns);
}
