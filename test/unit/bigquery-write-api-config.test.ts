import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "#runtime/config.ts";

describe("warehouse.bigquery.writeApi", () => {
  it("streams through the Storage Write API unless told otherwise", () => {
    expect(parseConfig({ version: 1 }, "f.json").warehouse.bigquery.writeApi).toBe("storage-write");
    expect(
      parseConfig({ version: 1, warehouse: { kind: "bigquery", bigquery: {} } }, "f.json").warehouse.bigquery
        .writeApi,
    ).toBe("storage-write");
  });

  it("switches back to tabledata.insertAll", () => {
    const config = parseConfig(
      { version: 1, warehouse: { kind: "bigquery", bigquery: { writeApi: "insert-all" } } },
      "f.json",
    );
    expect(config.warehouse.bigquery.writeApi).toBe("insert-all");
  });

  it("names the field of an API it does not know", () => {
    const parse = () =>
      parseConfig({ version: 1, warehouse: { bigquery: { writeApi: "streaming" } } }, "f.json");
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/warehouse\.bigquery\.writeApi: /);
  });
});
