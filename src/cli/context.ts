/** Global options shared by every command. */
import type { Command } from 'commander';
import { configureOutput } from '../util/log.js';
import { parseIntOption } from './settings.js';
import type { BackendRequest } from '../engine/backend.js';
import { DEFAULT_SEED } from '../util/rng.js';

export interface GlobalOptions {
  seed: number;
  backend: BackendRequest;
  quiet: boolean;
  json: boolean;
  verbose: boolean;
}

/** Global options of the command being run, with environment fallbacks (SEGLOSS_SEED, SEGLOSS_BACKEND). */
export function globalOptions(cmd: Command): GlobalOptions {
  const all = cmd.optsWithGlobals<Record<string, unknown>>();
  const seedRaw = all['seed'] ?? process.env['SEGLOSS_SEED'];
  const options: GlobalOptions = {
    seed: seedRaw === undefined ? DEFAULT_SEED : parseIntOption('--seed')(String(seedRaw)),
    backend: (all['backend'] ?? process.env['SEGLOSS_BACKEND'] ?? 'auto') as BackendRequest,
    quiet: all['quiet'] === true,
    json: all['json'] === true,
    verbose: all['verbose'] === true,
  };
  configureOutput({ quiet: options.quiet, json: options.json, verbose: options.verbose });
  return options;
}
