/**
 * Text helpers for messages that echo user-supplied values (file contents, names, header
 * strings). Every bad input is reported on one line (see ./errors.ts), so an echoed value must not
 * be able to break that line, hide text or flood the terminal.
 */

/** Characters that are not safe to print verbatim: controls (C0, DEL, C1 such as U+0085 NEL),
 * format characters (bidi overrides, zero-width), line/paragraph separators, surrogates, private
 * use and unassigned code points. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}]/u;

const SHORT_ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0' };

function escapeCodePoint(ch: string, quoted: boolean): string {
  const short = SHORT_ESCAPES[ch];
  if (short !== undefined && (quoted || (ch !== '\\' && ch !== '"'))) return short;
  if (!UNSAFE.test(ch)) return ch;
  const code = ch.codePointAt(0) as number;
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

/**
 * `value` made safe to echo inside a one-line message between double quotes: backslash, double
 * quote and every non-printable character are escaped (`\n`, `\x85`, `\u202e`, …), and the result
 * is cut to at most `maxLength` characters (an escape is never split) with `…` marking the cut.
 * Printable text, including non-ASCII letters, is kept as it is.
 */
export function printable(value: string, maxLength = 80): string {
  let out = '';
  for (const ch of value) {
    const piece = escapeCodePoint(ch, true);
    if (out.length + piece.length > maxLength) return `${out}…`;
    out += piece;
  }
  return out;
}

/**
 * A file path made safe to start a one-line message with: non-printable characters are escaped as
 * in `printable`, but backslashes and quotes are kept (paths are shown unquoted, and Windows paths
 * must stay readable) and the path is never cut.
 */
export function printablePath(file: string): string {
  let out = '';
  for (const ch of file) out += escapeCodePoint(ch, false);
  return out;
}

/** A byte count for messages: "512 B", "64.0 KiB", "500 MiB", "1.5 GiB" (binary units; one decimal below 100). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = unit === 0 || value >= 100 ? Math.round(value).toString() : value.toFixed(1);
  return `${shown} ${units[unit]}`;
}
