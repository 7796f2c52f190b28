/** segloss library API: every CLI command is a thin wrapper over these exports. */
export * from './util/errors.js';
export * from './util/rng.js';
export * from './util/atomic.js';
export * from './model/backend.js';
