import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDuckDbAlertLog } from "#adapters/duckdb-alert-log/duckdb-alert-log.ts";
import { createMemoryAlertLog } from "#adapters/memory-alert-log/memory-alert-log.ts";
import { type AlertDelivery, type AlertLog, AlertLogError } from "#ports/alert-log.ts";

const AT = new Date("2026-11-20T10:00:00.123Z");

function delivery(overrides: Partial<AlertDelivery> = {}): AlertDelivery {
  return {
    idempotency_key: "k1",
    kind: "aws.anomaly",
    severity: "warning",
    scope: {},
    channel: "C1H9RESGL",
    ts: "1503435956.000247",
    action: "posted",
    delivered_at: AT,
    ...overrides,
  };
}

// One contract, every adapter: the use case cannot tell them apart.
const ADAPTERS: Array<[string, () => AlertLog]> = [
  ["memory", () => createMemoryAlertLog()],
  ["duckdb", () => createDuckDbAlertLog({ path: ":memory:" })],
];

describe.each(ADAPTERS)("AlertLog contract: %s", (_, create) => {
  let log: AlertLog;
  beforeEach(async () => {
    log = create();
    await log.init();
    await log.init();
  });
  afterEach(() => log.close());

  it("finds a recorded key, field for field", async () => {
    const first = delivery({
      thread_key: "anomaly-1",
      routed_channel: "#team-x-alerts",
      title: "AWS anomaly in Amazon SageMaker",
      scope: { team: "nlp", model: "llm", business_unit: "research" },
    });
    expect(await log.record(first)).toBe(true);
    expect(await log.find("k1")).toEqual(first);
    expect(await log.find("k2")).toBeUndefined();
  });

  it("keeps the first record of a key", async () => {
    expect(await log.record(delivery())).toBe(true);
    expect(await log.record(delivery({ channel: "C2", ts: "2.0", title: "T", scope: { team: "x" } }))).toBe(
      false,
    );
    expect(await log.find("k1")).toEqual(delivery());
  });

  it("stores absent optional fields as absent", async () => {
    await log.record(delivery());
    const found = await log.find("k1");
    expect(found?.thread_key).toBeUndefined();
    expect(found?.routed_channel).toBeUndefined();
    expect(found?.title).toBeUndefined();
    expect(found?.scope).toEqual({});
  });

  it("finds a thread's message: posted, highest severity, then latest", async () => {
    await log.record(
      delivery({ idempotency_key: "a", thread_key: "t", severity: "warning", ts: "1.000001" }),
    );
    await log.record(
      delivery({
        idempotency_key: "b",
        thread_key: "t",
        severity: "warning",
        ts: "1.000002",
        action: "updated",
      }),
    );
    expect((await log.findThread("t"))?.idempotency_key).toBe("a");
    await log.record(
      delivery({ idempotency_key: "c", thread_key: "t", severity: "critical", ts: "1.000003" }),
    );
    await log.record(delivery({ idempotency_key: "d", thread_key: "t", severity: "info", ts: "1.000004" }));
    await log.record(
      delivery({ idempotency_key: "e", thread_key: "other", severity: "critical", ts: "9.0" }),
    );
    expect((await log.findThread("t"))?.idempotency_key).toBe("c");
    await log.record(
      delivery({ idempotency_key: "f", thread_key: "t", severity: "critical", ts: "1.000005" }),
    );
    expect((await log.findThread("t"))?.idempotency_key).toBe("f");
    expect(await log.findThread("none")).toBeUndefined();
  });

  it("lists the deliveries of a time range newest first, at most the limit", async () => {
    // Prepare
    const minutes = (n: number) => new Date(AT.getTime() + n * 60_000);
    await log.record(delivery({ idempotency_key: "before", delivered_at: minutes(-1) }));
    await log.record(delivery({ idempotency_key: "first", delivered_at: minutes(0), ts: "1.000001" }));
    await log.record(delivery({ idempotency_key: "tie-b", delivered_at: minutes(5), ts: "1.000002" }));
    await log.record(delivery({ idempotency_key: "tie-a", delivered_at: minutes(5), ts: "1.000002" }));
    await log.record(delivery({ idempotency_key: "later-ts", delivered_at: minutes(5), ts: "1.000003" }));
    await log.record(delivery({ idempotency_key: "at-until", delivered_at: minutes(10) }));
    const scoped = { title: "Spend anomaly", scope: { team: "nlp", business_unit: "research" } };
    await log.record(delivery({ idempotency_key: "scoped", delivered_at: minutes(1), ...scoped }));

    // Act
    const all = await log.recent({ since: minutes(0), until: minutes(10), limit: 10 });
    const two = await log.recent({ since: minutes(0), until: minutes(10), limit: 2 });

    // Assess
    expect(all.map((d) => d.idempotency_key)).toEqual(["later-ts", "tie-a", "tie-b", "scoped", "first"]);
    expect(all[3]).toEqual(delivery({ idempotency_key: "scoped", delivered_at: minutes(1), ...scoped }));
    expect(all[4]).toEqual(delivery({ idempotency_key: "first", delivered_at: minutes(0), ts: "1.000001" }));
    expect(two.map((d) => d.idempotency_key)).toEqual(["later-ts", "tie-a"]);
  });

  it("refuses a recent query without a valid range or limit", async () => {
    const range = { since: AT, until: new Date(AT.getTime() + 60_000) };
    await expect(log.recent({ ...range, limit: 0 })).rejects.toMatchObject({ code: "invalid" });
    await expect(log.recent({ ...range, limit: 1.5 })).rejects.toMatchObject({ code: "invalid" });
    await expect(log.recent({ ...range, since: new Date(Number.NaN), limit: 5 })).rejects.toThrow(/since/);
  });

  it("refuses a delivery without a valid time, and calls after close", async () => {
    await expect(log.record(delivery({ delivered_at: new Date(Number.NaN) }))).rejects.toMatchObject({
      code: "invalid",
    });
    await log.close();
    const error = await log.find("k1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AlertLogError);
    expect((error as AlertLogError).retryable).toBe(true);
  });
});

describe("DuckDB alert log in a file made before it kept titles and scopes", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "alert-log-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("adds the columns at init, keeps the old rows without them, and records new rows with them", async () => {
    // Prepare: the table and a row as the log wrote them before.
    const path = join(dir, "finops.duckdb");
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    await connection.run(`CREATE TABLE alert_log (
      idempotency_key VARCHAR PRIMARY KEY, thread_key VARCHAR, kind VARCHAR NOT NULL,
      severity VARCHAR NOT NULL, channel VARCHAR NOT NULL, ts VARCHAR NOT NULL, action VARCHAR NOT NULL,
      routed_channel VARCHAR, delivered_at TIMESTAMPTZ NOT NULL)`);
    await connection.run(
      "INSERT INTO alert_log VALUES ('old', NULL, 'aws.anomaly', 'warning', 'C1', '1.0', 'posted', NULL, '2026-11-20 10:00:00+00')",
    );
    connection.closeSync();
    instance.closeSync();
    const log = createDuckDbAlertLog({ path });

    // Act
    await log.init();
    const recorded = await log.record(
      delivery({ idempotency_key: "new", title: "T", scope: { team: "nlp" } }),
    );
    const again = await log.record(delivery({ idempotency_key: "old", title: "T", scope: { team: "nlp" } }));
    const recent = await log.recent({
      since: new Date("2026-11-01"),
      until: new Date("2026-12-01"),
      limit: 10,
    });
    await log.close();

    // Assess
    expect([recorded, again]).toEqual([true, false]);
    expect(recent.map((d) => [d.idempotency_key, d.title, d.scope])).toEqual([
      ["new", "T", { team: "nlp" }],
      ["old", undefined, {}],
    ]);
  });
});
