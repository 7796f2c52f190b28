/**
 * Where things live: raw data under $SEGLOSS_DATA (falling back to $nnUNet_raw), the
 * preprocessed cache under $SEGLOSS_PREPROCESSED (default ./.segloss/preprocessed), runs under
 * $SEGLOSS_RESULTS (default ./results). Command-line flags override the environment.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository / package root (where configs/ lives), independent of the working directory. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CONFIG_DIR = path.join(PACKAGE_ROOT, 'configs');

export function dataRoot(flag?: string): string | undefined {
  return flag ?? process.env['SEGLOSS_DATA'] ?? process.env['nnUNet_raw'];
}

export function preprocessedRoot(flag?: string): string {
  return path.resolve(flag ?? process.env['SEGLOSS_PREPROCESSED'] ?? path.join('.segloss', 'preprocessed'));
}

export function resultsRoot(flag?: string): string {
  return path.resolve(flag ?? process.env['SEGLOSS_RESULTS'] ?? 'results');
}

/** Where toy tasks are synthesized on first use: $SEGLOSS_SYNTH or ./.segloss/synth. */
export function synthRoot(flag?: string): string {
  return path.resolve(flag ?? process.env['SEGLOSS_SYNTH'] ?? path.join('.segloss', 'synth'));
}
