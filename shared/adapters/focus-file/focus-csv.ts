import {
  type BilledLine,
  CHARGE_CATEGORIES,
  CHARGE_FREQUENCIES,
  type ChargeCategory,
  type ChargeFrequency,
  ownerColumns,
} from "#domain/billing/billed-line.ts";
import { type Charge, spreadCharge } from "#domain/billing/charge-spread.ts";
import type { OwnerMapping } from "#domain/billing/owner-mapping.ts";
import { decimalToNanos, nanosToDecimal } from "#domain/money.ts";
import { parseUtcInstant, TimeRangeError } from "#domain/time-range.ts";
import { BillingSourceError } from "#ports/billing-source.ts";
import { type CsvField, CsvSyntaxError, formatCsvRecord, parseCsv } from "./csv.ts";

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

/**
 * FOCUS says ISO 8601 UTC ("2024-09-01T00:00:00Z"); exports also write "2024-09-01 00:00:00". Read
 * as every surface reads a time: 2026-02-30 is refused, never rolled over into March.
 */
function parseInstant(text: string, column: string, where: string): Date {
  const trimmed = text.trim();
  try {
    return parseUtcInstant(trimmed.replace(/^(\d{4}-\d{2}-\d{2}) /, "$1T"), column);
  } catch (cause) {
    if (!(cause instanceof TimeRangeError)) throw cause;
    throw new BillingSourceError("invalid", `${where}: ${cause.message}`, { cause });
  }
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
  /** Which tags name the owner columns (DEFAULT_OWNER_MAPPING when absent). */
  ownerMapping?: OwnerMapping;
}

/** One of a FOCUS enumeration's values, matched case-insensitively (Oracle writes "Usage-based"). */
function enumValue<T extends string>(values: readonly T[], text: string, column: string, where: string): T {
  const found = values.find((v) => v.toLowerCase() === text.trim().toLowerCase());
  if (found === undefined)
    throw new BillingSourceError(
      "invalid",
      `${where}: ${column} ${JSON.stringify(text)} is not one of ${values.join(", ")}`,
    );
  return found;
}

/** A FOCUS table's column names, and what it is called in messages ("FOCUS CSV"), its rows numbered from `firstRowNumber`. */
export interface FocusTable {
  header: readonly string[];
  name: string;
  firstRowNumber: number;
}

/** A FOCUS table as text: each row's values (null for a null or empty field). */
export interface FocusRecords extends FocusTable {
  rows: ReadonlyArray<ReadonlyArray<string | null>>;
}

/** A row of a table (its values, null for a null or empty field, and its place) as billed lines. */
export type FocusRowReader = (row: ReadonlyArray<string | null>, index: number) => BilledLine[];

/**
 * The billed lines of a FOCUS (1.0 to 1.3) table: amounts parsed exactly, each row's cost spread
 * over the UTC days of its charge period in proportion to the time each holds (spreadOverDays), so
 * a month's charge gives each day its share. ChargeCategory (Usage when the column is absent),
 * ChargeClass, ChargeFrequency, ResourceId and Tags are kept. The owner columns (x_namespace,
 * x_team, x_model, x_cost_center, x_environment) come from columns of those names when present,
 * else from Tags through the owner mapping.
 */
export function focusLines(records: FocusRecords, options: FocusCsvOptions = {}): BilledLine[] {
  return records.rows.flatMap(focusRowReader(records, options));
}

/** focusLines one row at a time, for a table read as it streams; throws for a table without a mandatory column. */
export function focusRowReader(table: FocusTable, options: FocusCsvOptions = {}): FocusRowReader {
  const { header } = table;
  const columns = new Map(header.map((name, index) => [name.trim(), index]));
  const missing = REQUIRED.filter((name) => !columns.has(name));
  if (missing.length > 0)
    throw new BillingSourceError("invalid", `${table.name} lacks the columns ${missing.join(", ")}`);

  return (row, index) => {
    const where = `${table.name} row ${index + table.firstRowNumber}`;
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
    const provider = need("ProviderName");
    const mapped = ownerColumns(tags, provider, options.ownerMapping);
    const category = get("ChargeCategory");
    const chargeClass = get("ChargeClass");
    const frequency = get("ChargeFrequency");
    const start = parseInstant(need("ChargePeriodStart"), "ChargePeriodStart", where);
    const end = parseInstant(need("ChargePeriodEnd"), "ChargePeriodEnd", where);
    if (end < start) {
      throw new BillingSourceError(
        "invalid",
        `${where}: ChargePeriodEnd ${end.toISOString()} is before ChargePeriodStart ${start.toISOString()}`,
      );
    }
    const skuId = get("SkuId");
    const resourceId = get("ResourceId");
    const line: Charge = {
      ChargeCategory:
        category === null
          ? "Usage"
          : enumValue<ChargeCategory>(CHARGE_CATEGORIES, category, "ChargeCategory", where),
      ChargeClass:
        chargeClass !== null && chargeClass.trim().toLowerCase() === "correction" ? "Correction" : null,
      ChargeFrequency:
        frequency === null
          ? null
          : enumValue<ChargeFrequency>(CHARGE_FREQUENCIES, frequency, "ChargeFrequency", where),
      ProviderName: provider,
      BillingAccountId: need("BillingAccountId"),
      SubAccountId: get("SubAccountId"),
      ServiceName: need("ServiceName"),
      ...(skuId === null ? {} : { SkuId: skuId }),
      ...(resourceId === null ? {} : { ResourceId: resourceId }),
      BillingCurrency: need("BillingCurrency"),
      Tags: tags,
      x_namespace: get("x_namespace") ?? mapped.x_namespace,
      x_team: get("x_team") ?? mapped.x_team,
      x_model: get("x_model") ?? mapped.x_model,
      x_cost_center: get("x_cost_center") ?? mapped.x_cost_center,
      x_environment: get("x_environment") ?? mapped.x_environment,
    };
    return spreadCharge(line, start, end, money("BilledCost"), money("EffectiveCost"));
  };
}

/** A FOCUS CSV field's value: an unquoted `NULL` or an empty field is null. */
export function focusCsvValue(field: CsvField): string | null {
  return !field.quoted && (field.text === "NULL" || field.text === "") ? null : field.text;
}

/** A CSV that is not well formed, as the billing source says it; anything else as it was. */
export function focusCsvError(cause: unknown): unknown {
  return cause instanceof CsvSyntaxError
    ? new BillingSourceError("invalid", `FOCUS CSV: ${cause.message}`, { cause })
    : cause;
}

/** One billed line per row of a FOCUS CSV (focusLines, focusCsvValue). */
export function parseFocusCsv(text: string, options: FocusCsvOptions = {}): BilledLine[] {
  let records: ReturnType<typeof parseCsv>;
  try {
    records = parseCsv(text);
  } catch (cause) {
    throw focusCsvError(cause);
  }
  const [header, ...rows] = records;
  if (header === undefined) return [];
  return focusLines(
    {
      header: header.map((field) => field.text),
      rows: rows.map((row) => row.map(focusCsvValue)),
      name: "FOCUS CSV",
      firstRowNumber: 2,
    },
    options,
  );
}

const WRITTEN = [
  "ChargePeriodStart",
  "ChargePeriodEnd",
  "ChargeCategory",
  "ChargeClass",
  "ChargeFrequency",
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
  "x_cost_center",
  "x_environment",
] as const;

/**
 * Billed lines as a FOCUS CSV, one row per line over its days: parseFocusCsv reads a one-day line
 * back as the same line and a longer one as its days' shares (amounts exact).
 */
export function formatFocusCsv(lines: readonly BilledLine[]): string {
  const instant = (day: string) => `${day}T00:00:00Z`;
  const records = lines.map((l) =>
    formatCsvRecord([
      instant(l.ChargePeriodStart),
      instant(l.ChargePeriodEnd),
      l.ChargeCategory,
      l.ChargeClass,
      l.ChargeFrequency,
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
      l.x_cost_center,
      l.x_environment,
    ]),
  );
  return [formatCsvRecord(WRITTEN), ...records].join("");
}
