import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inferenceEvent } from "../support/ingest-builders.ts";
import {
  floorHour,
  HOUR_MS,
  openTestSession,
  refreshRollups,
  type TestSession,
  tempDuckDb,
} from "../support/local-stack-session.ts";

describe("costReport over HTTP (what `finops report --url` asks)", () => {
  const db = tempDuckDb();
  let session: TestSession;
  const hour = floorHour(Date.now()) - HOUR_MS;
  const range = `from=${new Date(hour).toISOString()}&to=${new Date(hour + 2 * HOUR_MS).toISOString()}`;

  beforeAll(async () => {
    session = await openTestSession(db.path);
    const at = new Date(hour + 60_000).toISOString();
    const events = [
      inferenceEvent({ id: "a", time: at, data: { cost_nanos: "1500000000", team: "risk" } }),
      inferenceEvent({ id: "b", time: at, data: { cost_nanos: "250000000", team: "search" } }),
    ];
    const res = await fetch(`${session.stack.url}/v1/events`, {
      method: "POST",
      body: JSON.stringify(events),
    });
    expect(res.status).toBe(200);
    await refreshRollups(session.stack);
  });
  afterAll(async () => {
    await session.close();
    db.remove();
  });

  it("answers JSON by default, one object per group with exact nanos", async () => {
    const res = await fetch(`${session.stack.url}/costReport?by=team&${range}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual([
      { team: "risk", currency: "USD", cost_nanos: "1500000000", amount: "1.5" },
      { team: "search", currency: "USD", cost_nanos: "250000000", amount: "0.25" },
    ]);
  });

  it("answers CSV and tables as asked", async () => {
    const csv = await fetch(`${session.stack.url}/costReport?by=team&format=csv&${range}`);
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    expect((await csv.text()).split("\n")[0]).toBe("team,currency,cost_nanos,amount");
    const table = await (await fetch(`${session.stack.url}/costReport?by=team&format=table&${range}`)).text();
    expect(table).toMatch(/TOTAL\s+1\.75 USD/);
  });

  it("answers 400 naming the field for a bad query", async () => {
    for (const [query, field] of [
      ["by=nonsense", "by"],
      ["format=xml", "format"],
      ["from=2026-11-01T00:30:00Z", "from"],
    ]) {
      const res = await fetch(`${session.stack.url}/costReport?${query}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { field: string }).field).toBe(field);
    }
  });
});
