/** The one-line backend banner of `train` and `predict` (the full story is in `segloss doctor`). */
import type { BackendInfo } from '../engine/backend.js';
import { outputColumns, truncate } from '../util/width.js';

/** The package a skip reason is about: its first word when that is an npm package name. */
function skippedPackage(reason: string): string {
  const first = reason.split(' ')[0] ?? reason;
  return first.startsWith('@') ? first.replace('@tensorflow/', '') : first;
}

/**
 * One line: the backend, its threads, and which better backends were not used (named only; `segloss
 * doctor` says why). Cut to `width` columns.
 */
export function backendBanner(info: BackendInfo, width: number = outputColumns(process.stderr)): string {
  const threads = `${info.threads} thread${info.threads === 1 ? '' : 's'}`;
  const skipped = info.skipped.length > 0 ? `; not used: ${info.skipped.map(skippedPackage).join(', ')} (see segloss doctor)` : '';
  const description = info.description.replace(/@tensorflow\/(tfjs-backend-)?/, '');
  return truncate(`backend: ${description}, ${threads}${skipped}`, width);
}
