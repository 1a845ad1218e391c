import {
  type BilledLine,
  type DimensionTagKeys,
  dayCeiling,
  dayOf,
  tagDimensions,
} from "#domain/billing/billed-line.ts";
import { decimalToNanos, nanosToDecimal } from "#domain/money.ts";
import { BillingSourceError } from "#ports/billing-source.ts";
import { CsvSyntaxError, formatCsvRecord, parseCsv } from "./csv.ts";

const REQUIRED = [
  "ChargePeriodStart",
  "ChargePeriodEnd",
  "ProviderName",
  "BillingAccountId",
  "ServiceName",
  "BilledCost",
  "EffectiveCost",
  "BillingCurrency",
] as const;

/** FOCUS says ISO 8601 UTC ("2024-09-01T00:00:00Z"); exports also write "2024-09-01 00:00:00". */
const DATETIME = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(Z|[+-]\d{2}:?\d{2})?$/;

function parseInstant(text: string, where: string): Date {
  const m = DATETIME.exec(text.trim());
  const at = m ? new Date(`${m[1]}T${m[2] ?? "00:00:00"}${m[3] ?? "Z"}`) : undefined;
  if (!at || Number.isNaN(at.getTime()))
    throw new BillingSourceError("invalid", `${where}: not a datetime: ${JSON.stringify(text)}`);
  return at;
}

/** FOCUS Tags: a JSON object; valueless keys carry `true`, kept here as "true". */
function parseTags(text: string | null, where: string): Record<string, string> {
  if (text === null || text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new BillingSourceError("invalid", `${where}: Tags is not JSON`, { cause });
  }
  if (value === null) return {};
  if (typeof value !== "object" || Array.isArray(value))
    throw new BillingSourceError("invalid", `${where}: Tags is not an object`);
  const tags: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) tags[key] = typeof v === "string" ? v : JSON.stringify(v);
  return tags;
}

export interface FocusCsvOptions {
  dimensionTagKeys?: DimensionTagKeys;
}

/** A FOCUS table as text: its column names, and each row's values (null for a null or empty field). */
export interface FocusRecords {
  header: readonly string[];
  rows: ReadonlyArray<ReadonlyArray<string | null>>;
  /** What the table is called in messages ("FOCUS CSV"); its rows are numbered from `firstRowNumber`. */
  name: string;
  firstRowNumber: number;
}

/**
 * One billed line per row of a FOCUS (1.0 to 1.2) table: amounts are parsed exactly, the charge
 * period becomes days (start day, exclusive end day rounded up). x_namespace / x_team / x_model
 * come from columns of those names when present, else from Tags.
 */
export function focusLines(records: FocusRecords, options: FocusCsvOptions = {}): BilledLine[] {
  const { header, rows } = records;
  const columns = new Map(header.map((name, index) => [name.trim(), index]));
  const missing = REQUIRED.filter((name) => !columns.has(name));
  if (missing.length > 0)
    throw new BillingSourceError("invalid", `${records.name} lacks the columns ${missing.join(", ")}`);

  return rows.map((row, index) => {
    const where = `${records.name} row ${index + records.firstRowNumber}`;
    if (row.length !== header.length) {
      throw new BillingSourceError(
        "invalid",
        `${where}: ${row.length} fields, the header has ${header.length}`,
      );
    }
    const get = (name: string): string | null => {
      const at = columns.get(name);
      return at === undefined ? null : (row[at] ?? null);
    };
    const need = (name: string): string => {
      const value = get(name);
      if (value === null) throw new BillingSourceError("invalid", `${where}: ${name} is null`);
      return value;
    };
    const money = (name: string): bigint => {
      try {
        return decimalToNanos(need(name));
      } catch (cause) {
        if (cause instanceof BillingSourceError) throw cause;
        throw new BillingSourceError("invalid", `${where}: ${name} is not a decimal`, { cause });
      }
    };
    const tags = parseTags(get("Tags"), where);
    const fromTags = tagDimensions(tags, options.dimensionTagKeys);
    const skuId = get("SkuId");
    const resourceId = get("ResourceId");
    return {
      ChargePeriodStart: dayOf(parseInstant(need("ChargePeriodStart"), where)),
      ChargePeriodEnd: dayCeiling(parseInstant(need("ChargePeriodEnd"), where)),
      ProviderName: need("ProviderName"),
      BillingAccountId: need("BillingAccountId"),
      SubAccountId: get("SubAccountId"),
      ServiceName: need("ServiceName"),
      ...(skuId === null ? {} : { SkuId: skuId }),
      ...(resourceId === null ? {} : { ResourceId: resourceId }),
      BilledCost: money("BilledCost"),
      EffectiveCost: money("EffectiveCost"),
      BillingCurrency: need("BillingCurrency"),
      Tags: tags,
      x_namespace: get("x_namespace") ?? fromTags.x_namespace,
      x_team: get("x_team") ?? fromTags.x_team,
      x_model: get("x_model") ?? fromTags.x_model,
    };
  });
}

/** One billed line per row of a FOCUS CSV (focusLines): an unquoted `NULL` or an empty field is null. */
export function parseFocusCsv(text: string, options: FocusCsvOptions = {}): BilledLine[] {
  let records: ReturnType<typeof parseCsv>;
  try {
    records = parseCsv(text);
  } catch (cause) {
    if (cause instanceof CsvSyntaxError)
      throw new BillingSourceError("invalid", `FOCUS CSV: ${cause.message}`, { cause });
    throw cause;
  }
  const [header, ...rows] = records;
  if (header === undefined) return [];
  const value = (field: { text: string; quoted: boolean }) =>
    !field.quoted && (field.text === "NULL" || field.text === "") ? null : field.text;
  return focusLines(
    {
      header: header.map((field) => field.text),
      rows: rows.map((row) => row.map(value)),
      name: "FOCUS CSV",
      firstRowNumber: 2,
    },
    options,
  );
}

const WRITTEN = [
  "ChargePeriodStart",
  "ChargePeriodEnd",
  "ProviderName",
  "BillingAccountId",
  "SubAccountId",
  "ServiceName",
  "SkuId",
  "ResourceId",
  "BilledCost",
  "EffectiveCost",
  "BillingCurrency",
  "Tags",
  "x_namespace",
  "x_team",
  "x_model",
] as const;

/** Billed lines as a FOCUS CSV that parseFocusCsv reads back as the same lines (amounts exact). */
export function formatFocusCsv(lines: readonly BilledLine[]): string {
  const instant = (day: string) => `${day}T00:00:00Z`;
  const records = lines.map((l) =>
    formatCsvRecord([
      instant(l.ChargePeriodStart),
      instant(l.ChargePeriodEnd),
      l.ProviderName,
      l.BillingAccountId,
      l.SubAccountId,
      l.ServiceName,
      l.SkuId ?? null,
      l.ResourceId ?? null,
      nanosToDecimal(l.BilledCost),
      nanosToDecimal(l.EffectiveCost),
      l.BillingCurrency,
      JSON.stringify(l.Tags),
      l.x_namespace,
      l.x_team,
      l.x_model,
    ]),
  );
  return [formatCsvRecord(WRITTEN), ...records].join("");
}
