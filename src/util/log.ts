/**
 * Console output policy: human text on stdout, machine-readable JSON on stdout with
 * `--json`, messages and progress bars on stderr; progress bars only when stderr is a terminal;
 * no colour when NO_COLOR is set.
 */
import cliProgress from 'cli-progress';

export interface OutputOptions {
  quiet: boolean;
  json: boolean;
  verbose: boolean;
}

const output: OutputOptions = { quiet: false, json: false, verbose: false };

export function configureOutput(options: Partial<OutputOptions>): void {
  Object.assign(output, options);
}

export function outputOptions(): Readonly<OutputOptions> {
  return output;
}

export function useColour(): boolean {
  return process.env['NO_COLOR'] === undefined && process.stderr.isTTY === true;
}

/** Informational message on stderr (suppressed by --quiet). */
export function info(message: string): void {
  if (!output.quiet) process.stderr.write(message + '\n');
}

/** Warning on stderr (always shown). */
export function warn(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

/** Debug detail on stderr, only with --verbose. */
export function debug(message: string): void {
  if (output.verbose) process.stderr.write(message + '\n');
}

/** The command's result for humans on stdout (skipped in --json mode, where printJson is used). */
export function print(message: string): void {
  if (!output.json) process.stdout.write(message + '\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export interface Progress {
  update(value: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

/**
 * Bars running now. cli-progress turns line wrap and the cursor off while a bar runs and back on
 * only in stop(); an interrupt, an error or process.exit between the two must stop them all
 * (stopProgressBars), or the user's terminal stays without wrap and cursor.
 */
const activeBars = new Set<() => void>();
let terminalModesTouched = false;

/** Stop every running bar (each ends its line and restores wrap and cursor); returns how many. */
export function stopProgressBars(): number {
  const stops = [...activeBars];
  for (const stop of stops) stop();
  return stops.length;
}

/** Whether a bar has ever run in this process (so the terminal modes may need restoring). */
export function progressBarsStarted(): boolean {
  return terminalModesTouched;
}

/** A progress bar on stderr when it is a terminal and output is not quiet; otherwise a no-op. */
export function progressBar(total: number, label: string, fields: string[] = []): Progress {
  if (output.quiet || output.json || process.stderr.isTTY !== true) {
    return { update: () => undefined, stop: () => undefined };
  }
  const extra = fields.map((f) => `${f} {${f}}`).join(' | ');
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {value}/{total} | ETA {eta_formatted}${extra ? ' | ' + extra : ''}`,
      barCompleteChar: '#',
      barIncompleteChar: '.',
      hideCursor: useColour(),
      clearOnComplete: false,
    },
    cliProgress.Presets.legacy,
  );
  const initial: Record<string, string> = {};
  for (const f of fields) initial[f] = '-';
  terminalModesTouched = true;
  bar.start(total, 0, initial);
  let running = true;
  const stop = (): void => {
    if (!running) return;
    running = false;
    activeBars.delete(stop);
    bar.stop();
  };
  activeBars.add(stop);
  return {
    // after stop (e.g. by an interrupt) an update must not redraw the bar under a message
    update: (value, payload) => {
      if (running) bar.update(value, payload ?? {});
    },
    stop,
  };
}

/** Format rows as an aligned plain-text table. */
export function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(cells[0] as string[]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
