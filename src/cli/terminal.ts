/**
 * Leaving the terminal as we found it. Progress bars switch off line wrap (DECAWM, `ESC[?7l`) and
 * hide the cursor (DECTCEM, `ESC[?25l`) while they run; every way out of a command — success, an
 * error, an interrupt, a second Ctrl-C that calls process.exit — must stop them and switch both
 * back on, or the shell is left without wrap and cursor until `reset`.
 */
import { progressBarsStarted, stopProgressBars } from '../util/log.js';

/** DECAWM on (line wrap) and DECTCEM on (cursor visible). */
export const RESTORE_TERMINAL_MODES = '\x1b[?7h\x1b[?25h';

/**
 * Stop running bars and, when a bar ever ran on this terminal, switch wrap and cursor back on.
 * Synchronous (it also runs in the 'exit' handler) and idempotent.
 */
export function restoreTerminal(): void {
  stopProgressBars();
  if (progressBarsStarted() && process.stderr.isTTY === true) {
    try {
      process.stderr.write(RESTORE_TERMINAL_MODES);
    } catch {
      // stderr already closed: nothing left to restore on it
    }
  }
}

let installed = false;

/** Restore the terminal on every exit of the process, including process.exit() from a signal handler. */
export function installTerminalRestore(): void {
  if (installed) return;
  installed = true;
  process.on('exit', restoreTerminal);
}
