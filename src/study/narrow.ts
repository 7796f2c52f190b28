/**
 * Human output of the benchmark in a 100-column terminal: lines cut with an ellipsis, tables whose
 * widest columns are shortened, and wide tables cut to the columns that fit (the files keep all).
 */

/** The width human output is laid out for. */
export const OUTPUT_COLUMNS = 100;

/** `text` cut to `width` characters, the last one an ellipsis when cut. */
export function fitLine(text: string, width: number = OUTPUT_COLUMNS): string {
  if (text.length <= width) return text;
  return width <= 1 ? text.slice(0, width) : text.slice(0, width - 1) + '…';
}

const GAP = 2;

function layout(header: string[], rows: string[][], widths: number[]): string {
  const line = (r: string[]) => r.map((c, i) => fitLine(c, widths[i]).padEnd(widths[i] ?? 0)).join(' '.repeat(GAP)).trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join(' '.repeat(GAP)), ...rows.map(line)].join('\n');
}

/**
 * An aligned table no wider than `width`: the last column (free text such as a failure reason) is
 * cut first, down to 16 characters; then, while still too wide, the widest column loses a character.
 * Cut cells end in an ellipsis; no column gets narrower than its header or 8 characters.
 */
export function fitTable(header: string[], rows: (string | number)[][], width: number = OUTPUT_COLUMNS): string {
  const cells = rows.map((r) => header.map((_, i) => String(r[i] ?? '')));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] as string).length)));
  const floor = header.map((h) => Math.max(h.length, 8));
  const total = () => widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1);
  const last = widths.length - 1;
  if (last > 0 && total() > width) {
    const lastFloor = Math.max(floor[last] as number, 16);
    widths[last] = Math.max(lastFloor, Math.min(widths[last] as number, (widths[last] as number) - (total() - width)));
  }
  while (total() > width) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) {
      if ((widths[i] as number) > (floor[i] as number) && (widest < 0 || (widths[i] as number) > (widths[widest] as number))) widest = i;
    }
    if (widest < 0) break;
    widths[widest] = (widths[widest] as number) - 1;
  }
  return layout(header, cells, widths);
}

/**
 * The leading columns of a table that fit in `width` (at least `keep` of them), and how many
 * columns were left out.
 */
export function leadingColumns(header: string[], rows: (string | number)[][], width: number = OUTPUT_COLUMNS, keep = 2): { header: string[]; rows: string[][]; omitted: number } {
  const cells = rows.map((r) => header.map((_, i) => String(r[i] ?? '')));
  let used = 0;
  let count = 0;
  for (let i = 0; i < header.length; i++) {
    const w = Math.max((header[i] as string).length, ...cells.map((r) => (r[i] as string).length));
    if (i >= keep && used + (i > 0 ? GAP : 0) + w > width) break;
    used += (i > 0 ? GAP : 0) + w;
    count = i + 1;
  }
  return { header: header.slice(0, count), rows: cells.map((r) => r.slice(0, count)), omitted: header.length - count };
}

/**
 * leaderboard.csv for the terminal: rank, loss, rank score, then the per-task means (what a reader
 * looks for), then the per-metric scores, as many as fit; long decimals rounded to 3 places; a
 * last line names the file with the columns left out.
 */
export function compactLeaderboard(csv: string, file: string, width: number = OUTPUT_COLUMNS): string {
  const [header, ...rows] = csv.trim().split('\n').map((l) => l.split(','));
  if (header === undefined) return '';
  const means = header.map((h, i) => (h.startsWith('mean_') ? i : -1)).filter((i) => i >= 0);
  const others = header.map((h, i) => (i > 2 && !h.startsWith('mean_') ? i : -1)).filter((i) => i >= 0);
  const order = [0, 1, 2, ...means, ...others].filter((i) => i < header.length);
  const round = (v: string) => (/^-?\d+\.\d{4,}$/.test(v) ? Number(v).toFixed(3) : v);
  const table = leadingColumns(order.map((i) => header[i] as string), rows.map((r) => order.map((i) => round(r[i] ?? ''))), width, 3);
  const text = fitTable(table.header, table.rows, width);
  return table.omitted > 0 ? `${text}\n(${table.omitted} more columns in ${file})` : text;
}
