import { describe, expect, it } from "vitest";
import { ConfigError, MAX_PARTITION_EXPIRATION_DAYS, parseConfig } from "#runtime/config.ts";

const withRetention = (days: number) => ({
  version: 1,
  warehouse: { kind: "bigquery", bigquery: { partitionExpirationDays: days } },
});

describe("the BigQuery retention (warehouse.bigquery.partitionExpirationDays)", () => {
  it("keeps cost_events' hourly partitions under BigQuery's 10,000 a table", () => {
    expect(MAX_PARTITION_EXPIRATION_DAYS * 24).toBeLessThanOrEqual(10_000);
    expect((MAX_PARTITION_EXPIRATION_DAYS + 1) * 24).toBeGreaterThan(10_000);
    const config = parseConfig(withRetention(MAX_PARTITION_EXPIRATION_DAYS), "f.json");
    expect(config.warehouse.bigquery.partitionExpirationDays).toBe(416);
  });

  it("refuses a longer retention, naming the field and why", () => {
    expect(() => parseConfig(withRetention(417), "f.json")).toThrow(ConfigError);
    expect(() => parseConfig(withRetention(417), "f.json")).toThrow(
      /warehouse\.bigquery\.partitionExpirationDays.*at most 416 days: cost_events is partitioned by the hour/,
    );
  });
});
