/**
 * Human output that fits the terminal: tables whose wide columns wrap inside their cells, and prose
 * wrapped at word boundaries. The width is the terminal's when the stream is a terminal, else 100
 * columns (a pipe, a file, a CI log). `--json` output is never wrapped.
 */

/** Width used when the stream is not a terminal. */
export const DEFAULT_COLUMNS = 100;

/** Columns available on `stream`: its terminal width, or DEFAULT_COLUMNS when it is not a terminal. */
export function outputColumns(stream: NodeJS.WriteStream = process.stdout): number {
  return stream.isTTY === true && typeof stream.columns === 'number' && stream.columns > 0 ? stream.columns : DEFAULT_COLUMNS;
}

/**
 * `text` broken into lines of at most `width` characters: at spaces where possible, a word longer
 * than the line is cut. Existing line breaks are kept; `indent` prefixes continuation lines.
 */
export function wrapText(text: string, width: number, indent = ''): string[] {
  const out: string[] = [];
  const room = Math.max(1, width);
  for (const paragraph of text.split('\n')) {
    // words with the spaces that follow them, so that aligned columns keep their spacing
    const words = paragraph.match(/^ +|\S+ */g) ?? [];
    let line = '';
    const flush = () => {
      out.push(line.trimEnd());
      line = indent;
    };
    for (const spaced of words) {
      const word = spaced.trimEnd();
      if (line.length + word.length <= room) {
        line += spaced;
        continue;
      }
      if (line.trim() !== '') flush();
      let rest = word;
      while (line.length + rest.length > room) {
        let take = Math.max(1, room - line.length);
        // cut after a separator when there is one in the second half of the piece (file.py::Class)
        const cut = Math.max(...BREAK_AFTER.map((c) => rest.lastIndexOf(c, take - 1)));
        if (cut + 1 >= take / 2) take = cut + 1;
        line += rest.slice(0, take);
        rest = rest.slice(take);
        flush();
      }
      line += rest + spaced.slice(word.length);
    }
    out.push(line.trimEnd());
  }
  return out;
}

/** Characters after which a word too long for its line is preferably cut. */
const BREAK_AFTER = [':', '/', ',', '=', '-', '.', '_'];

/** `text` cut to `width` characters, with an ellipsis when something was cut. */
export function truncate(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 1 ? text.slice(0, width) : text.slice(0, width - 1) + '…';
}

const GAP = 2;

/**
 * Column widths for `rows` within `width`: the natural widths, then the widest column narrowed one
 * character at a time until the row fits. Prose columns (cells with spaces, which wrap between
 * words) give way first, down to 12 characters; identifiers (ids, file::Class) only after them,
 * down to 8; the first column, which names the row, counts as an identifier. A column never gets narrower than its header.
 */
export function fitColumnWidths(header: string[], rows: string[][], width: number): number[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  // the first column names the row: it keeps its width as long as possible
  const prose = header.map((_, i) => i > 0 && rows.some((r) => (r[i] ?? '').trim().includes(' ')));
  const total = () => widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1);
  const passes: ((i: number) => number | undefined)[] = [
    (i) => (prose[i] ? Math.max(header[i]!.length, 12) : undefined),
    (i) => Math.max(header[i]!.length, 8),
  ];
  for (const minimum of passes) {
    while (total() > width) {
      let widest = -1;
      for (let i = 0; i < widths.length; i++) {
        const min = minimum(i);
        if (min !== undefined && widths[i]! > min && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
      }
      if (widest < 0) break;
      widths[widest]!--;
    }
  }
  return widths;
}

/**
 * An aligned plain-text table (the layout of util/log's formatTable) that fits `width` columns:
 * cells of narrowed columns wrap onto continuation lines of their row.
 */
export function formatTableFit(header: string[], rows: (string | number)[][], width: number = outputColumns()): string {
  const cells = rows.map((r) => header.map((_, i) => String(r[i] ?? '')));
  const widths = fitColumnWidths(header, cells, width);
  const lines: string[] = [];
  const emit = (row: string[]) => {
    const wrapped = row.map((c, i) => wrapText(c, widths[i]!));
    const height = Math.max(...wrapped.map((w) => w.length));
    for (let k = 0; k < height; k++) lines.push(wrapped.map((w, i) => (w[k] ?? '').padEnd(widths[i]!)).join(' '.repeat(GAP)).trimEnd());
  };
  emit(header);
  lines.push(widths.map((w) => '-'.repeat(w)).join(' '.repeat(GAP)));
  for (const row of cells) emit(row);
  return lines.join('\n');
}
