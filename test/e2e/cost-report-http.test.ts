import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPORT_VIEWS } from "#app/report-views.ts";
import { inferenceEvent, trainingEvent } from "../support/ingest-builders.ts";
import {
  floorHour,
  HOUR_MS,
  openTestSession,
  refreshRollups,
  type TestSession,
  tempDuckDb,
} from "../support/local-stack-session.ts";
import { runCli } from "../support/run-cli.ts";

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
      trainingEvent({
        id: "job-9-done",
        time: at,
        data: {
          job_id: "job-9",
          phase: "finished",
          epoch: 4,
          elapsed_seconds: 1800,
          cost_nanos: "2000000000",
        },
      }),
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
      { team: "research", currency: "USD", cost_nanos: "2000000000", amount: "2" },
      { team: "risk", currency: "USD", cost_nanos: "1500000000", amount: "1.5" },
      { team: "search", currency: "USD", cost_nanos: "250000000", amount: "0.25" },
    ]);
  });

  it("answers CSV and tables as asked", async () => {
    const csv = await fetch(`${session.stack.url}/costReport?by=team&format=csv&${range}`);
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    expect((await csv.text()).split("\n")[0]).toBe("team,currency,cost_nanos,amount");
    const table = await (await fetch(`${session.stack.url}/costReport?by=team&format=table&${range}`)).text();
    expect(table).toMatch(/TOTAL\s+3\.75 USD/);
  });

  it("answers every view: the daily trend, training jobs, inference unit costs", async () => {
    const get = async (query: string) => {
      const res = await fetch(`${session.stack.url}/costReport?${query}&${range}`);
      expect(res.status).toBe(200);
      return (await res.json()) as Record<string, unknown>[];
    };
    const day = new Date(hour).toISOString().slice(0, 10);
    expect(await get("view=trend&by=team")).toEqual(
      expect.arrayContaining([
        { day, team: "research", currency: "USD", cost_nanos: "2000000000", amount: "2" },
        { day, team: "risk", currency: "USD", cost_nanos: "1500000000", amount: "1.5" },
      ]),
    );
    expect(await get("view=training")).toEqual([
      expect.objectContaining({ job_id: "job-9", outcome: "finished", epochs: 4, cost_nanos: "2000000000" }),
    ]);
    expect(await get("view=training")).toEqual([
      expect.objectContaining({ cost_per_epoch_nanos: "500000000", cost_per_epoch: "0.5" }),
    ]);
    expect(await get("view=inference")).toEqual([
      expect.objectContaining({ model: "fraud-scorer", requests: 2, cost_nanos: "1750000000" }),
    ]);
  });

  it("finops report --url asks it for every view, as the function answers", async () => {
    // Each view in another format; --url opens no DuckDB file, so the runs may overlap.
    const [from, to] = [new Date(hour).toISOString(), new Date(hour + 2 * HOUR_MS).toISOString()];
    const formats = ["table", "json", "csv"];
    await Promise.all(
      REPORT_VIEWS.map(async (view, i) => {
        const format = formats[i % formats.length] as string;
        const params = `view=${view}&format=${format}&${range}`;
        const answer = await (await fetch(`${session.stack.url}/costReport?${params}`)).text();
        const args = ["--view", view, "--format", format, "--from", from, "--to", to];
        const cli = await runCli(["report", ...args, "--url", session.stack.url], {});
        expect(cli, `${view} ${format}`).toEqual({ code: 0, stdout: answer, stderr: "" });
        expect(answer.length, `${view} ${format}`).toBeGreaterThan(0);
      }),
    );
  }, 60_000);

  it("answers 400 naming the field for a bad query", async () => {
    for (const [query, field] of [
      ["by=nonsense", "by"],
      ["format=xml", "format"],
      ["from=2026-11-01T00:30:00Z", "from"],
      ["view=pivot", "view"],
      ["view=inference&by=team", "by"],
      ["view=trend&by=day", "by"],
      // Impossible dates are refused, never rolled over; the range is at most 367 days.
      ["from=2026-11-31", "from"],
      ["from=2026-02-30&to=2026-03-05", "from"],
      ["to=2026-11-01T24:00", "to"],
      ["from=1970-01-01", "from"],
      // A parameter given twice is neither of them: it is refused, not read as absent.
      ["from=2026-11-01&from=2026-11-02", "from"],
      ["by=team&by=model", "by"],
    ]) {
      const res = await fetch(`${session.stack.url}/costReport?${query}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { field: string }).field).toBe(field);
    }
  });
});
