/**
 * Cooperative interruption: the first Ctrl-C (SIGINT) or SIGTERM asks long loops to stop at the
 * next safe point (between cases, after a checkpoint), a second one exits at once with 130.
 * Because every output is written atomically, an immediate exit never leaves a partial file.
 */
import { InterruptedError } from './errors.js';
import { stopProgressBars } from './log.js';

let requested = false;
let installed = false;
const listeners = new Set<(signal: NodeJS.Signals) => void>();

/** Call `listener` on the first interrupt (e.g. to pass it on to child processes); returns an unsubscribe. */
export function onInterrupt(listener: (signal: NodeJS.Signals) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function installInterruptHandlers(): void {
  if (installed) return;
  installed = true;
  const handler = (signal: NodeJS.Signals) => {
    if (requested) process.exit(130);
    requested = true;
    // the bar ends its line and gives back wrap and cursor, so the message gets a line of its own
    const barsStopped = stopProgressBars();
    process.stderr.write(`${barsStopped > 0 ? '' : '\n'}${signal}: stopping at the next safe point (press Ctrl-C again to quit now)\n`);
    for (const listener of listeners) listener(signal);
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
