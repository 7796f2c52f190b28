/**
 * Minimal RFC 4180 CSV reading and writing for the results and ranking files: comma separated,
 * fields may be double-quoted (with "" for a quote inside), LF or CRLF line ends, a UTF-8 BOM is
 * ignored. Numbers are written with full precision; non-finite values as `nan`, `inf`, `-inf`.
 */

export interface CsvRecord {
  /** 1-based line number where the record starts (for error messages). */
  line: number;
  fields: string[];
}

/** Split CSV text into records; blank lines are skipped. Throws Error on an unterminated quote. */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let fields: string[] = [];
  let field = '';
  let recordLine = 1;
  let sawContent = false;
  const endRecord = () => {
    fields.push(field);
    if (sawContent || fields.length > 1 || field.length > 0) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
    sawContent = false;
  };
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"' && field.length === 0) {
      sawContent = true;
      i++;
      for (;;) {
        if (i >= text.length) throw new Error(`unterminated quoted field starting on line ${line}`);
        const c = text[i] as string;
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c === '\n') line++;
        field += c;
        i++;
      }
      continue;
    }
    if (ch === ',') {
      sawContent = true;
      fields.push(field);
      field = '';
      i++;
      continue;
    }
    if (ch === '\r' && text[i + 1] === '\n') i++;
    if (ch === '\n' || ch === '\r') {
      endRecord();
      line++;
      recordLine = line;
      i++;
      continue;
    }
    field += ch;
    i++;
  }
  if (field.length > 0 || fields.length > 0) endRecord();
  return records;
}

/** Quote a field when it contains a comma, quote or line break. */
export function csvField(value: string | number): string {
  const text = typeof value === 'number' ? formatNumber(value) : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Shortest round-trip representation; `nan`, `inf`, `-inf` for non-finite values. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return String(value);
}

export function formatCsv(header: string[], rows: (string | number)[][]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}
