/** A CSV field: its text, and whether it was quoted (so a quoted "NULL" is text, an unquoted NULL is not). */
export interface CsvField {
  text: string;
  quoted: boolean;
}

export class CsvSyntaxError extends Error {
  override readonly name = "CsvSyntaxError";
}

/**
 * Parses RFC 4180 CSV: comma separated, fields optionally in double quotes with "" for a quote,
 * quoted fields may hold commas and line breaks; CRLF or LF ends a record. A trailing line break
 * adds no record, and a BOM is dropped.
 */
export function parseCsv(text: string): CsvField[][] {
  const records: CsvField[][] = [];
  let record: CsvField[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  if (i >= n) return records;
  for (;;) {
    let field: CsvField;
    if (text[i] === '"') {
      const startLine = line;
      let value = "";
      i++;
      for (;;) {
        const close = text.indexOf('"', i);
        if (close < 0) throw new CsvSyntaxError(`line ${startLine}: unterminated quoted field`);
        const chunk = text.slice(i, close);
        line += chunk.split("\n").length - 1;
        value += chunk;
        if (text[close + 1] === '"') {
          value += '"';
          i = close + 2;
        } else {
          i = close + 1;
          break;
        }
      }
      if (i < n && text[i] !== "," && text[i] !== "\n" && text[i] !== "\r") {
        throw new CsvSyntaxError(`line ${line}: text after a closing quote`);
      }
      field = { text: value, quoted: true };
    } else {
      let end = i;
      while (end < n && text[end] !== "," && text[end] !== "\n" && text[end] !== "\r") end++;
      const value = text.slice(i, end);
      if (value.includes('"')) throw new CsvSyntaxError(`line ${line}: quote inside an unquoted field`);
      field = { text: value, quoted: false };
      i = end;
    }
    record.push(field);
    if (i < n && text[i] === ",") {
      i++;
      continue;
    }
    records.push(record);
    record = [];
    if (text[i] === "\r") i++;
    if (text[i] === "\n") i++;
    line++;
    if (i >= n) return records;
  }
}

/** Whether a text must be quoted for parseCsv to read it back as itself (not as null, not split). */
const NEEDS_QUOTES = /[",\r\n]|^$|^NULL$/;

/**
 * One CSV record, as parseCsv reads it back: a null is an empty unquoted field; a text is quoted
 * when it holds a comma, quote or line break, or would otherwise read as null ("" or NULL).
 * Ends with a line break.
 */
export function formatCsvRecord(fields: readonly (string | null)[]): string {
  return `${fields
    .map((field) => {
      if (field === null) return "";
      return NEEDS_QUOTES.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
    })
    .join(",")}\n`;
}
