/**
 * Cooperative interruption: the first Ctrl-C (SIGINT) or SIGTERM asks long loops to stop at the
 * next safe point (between cases, after a checkpoint), a second one exits at once with 130.
 * Because every output is written atomically, an immediate exit never leaves a partial file.
 */
import { InterruptedError } from './errors.js';

let requested = false;
let installed = false;

export function installInterruptHandlers(): void {
  if (installed) return;
  installed = true;
  const handler = (signal: NodeJS.Signals) => {
    if (requested) process.exit(130);
    requested = true;
    process.stderr.write(`\n${signal}: stopping at the next safe point (press Ctrl-C again to quit now)\n`);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

export function interruptRequested(): boolean {
  return requested;
}

/** Throw InterruptedError if the user asked to stop. Call between units of work. */
export function throwIfInterrupted(): void {
  if (requested) throw new InterruptedError();
}
