/**
 * Errors that the CLI turns into one-line messages and exit codes.
 *
 * Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad input, 130 interrupted.
 */
import { printablePath } from './text.js';

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_INTERRUPTED = 130;

/** Base class: the message is shown to the user as one line, without a stack trace. */
export class SeglossError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad command-line usage or bad configuration (unknown option, unknown loss id, …). Exit 2. */
export class UsageError extends SeglossError {
  constructor(message: string) {
    super(message, EXIT_BAD_INPUT);
  }
}

/**
 * A user-supplied file is unreadable or invalid. The message names the file (control characters
 * in the name escaped, so the message stays one line). Exit 2. Values echoed in `problem` should
 * go through `printable` (../util/text.ts).
 */
export class InputError extends SeglossError {
  readonly file: string | undefined;
  constructor(file: string | undefined, problem: string) {
    super(file === undefined ? problem : `${printablePath(file)}: ${problem}`, EXIT_BAD_INPUT);
    this.file = file;
  }
}

/** Something went wrong while computing (diverged training, failed backend). Exit 1. */
export class RuntimeFailure extends SeglossError {
  constructor(message: string) {
    super(message, EXIT_RUNTIME);
  }
}

/** Raised when SIGINT/SIGTERM asked the process to stop between two safe points. Exit 130. */
export class InterruptedError extends SeglossError {
  constructor(message = 'interrupted') {
    super(message, EXIT_INTERRUPTED);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
