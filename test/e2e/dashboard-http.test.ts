import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DashboardOverview } from "#app/dashboard-data.ts";
import { alertToJson } from "#domain/alerts/alert.ts";
import { TOPICS } from "#ports/bus.ts";
import { CONTENT_SECURITY_POLICY } from "../../functions/dashboard/page-files.ts";
import { alertOf } from "../fixtures/slack/alert-builders.ts";
import { inferenceEvent } from "../support/ingest-builders.ts";
import {
  drainBus,
  floorHour,
  HOUR_MS,
  openTestSession,
  refreshRollups,
  type TestSession,
  tempDuckDb,
} from "../support/local-stack-session.ts";

// The dashboard function under the Functions Framework, as the local stack hosts it: the page at the
// stack's root URL (to a browser) and at /dashboard, its files, and its data, read-only.

const db = tempDuckDb("finops-dashboard-http-");
let session: TestSession;
const hour = floorHour(Date.now()) - HOUR_MS;
const day = new Date(hour).toISOString().slice(0, 10);
const HTML = { accept: "text/html,application/xhtml+xml" };

beforeAll(async () => {
  session = await openTestSession(db.path);
  const at = new Date(hour + 60_000).toISOString();
  const events = [
    inferenceEvent({
      id: "dash-a",
      time: at,
      data: { cost_nanos: "1500000001", team: "risk", model: "scorer" },
    }),
    inferenceEvent({
      id: "dash-b",
      time: at,
      data: { cost_nanos: "250000000", team: "search", model: "ranker" },
    }),
  ];
  const res = await fetch(`${session.stack.url}/v1/events`, { method: "POST", body: JSON.stringify(events) });
  expect(res.status).toBe(200);
  await refreshRollups(session.stack);
  // Alerts through the stack's notifier (the console one) into its alert log.
  const anomaly = { kind: "spend.anomaly", amounts: undefined, period: undefined } as const;
  const alerts = [
    alertOf({
      ...anomaly,
      idempotency_key: "dash-anomaly-risk",
      title: "Spend anomaly: model scorer",
      summary: "Model scorer spent 6× its usual hour.",
      scope: { team: "risk", model: "scorer" },
    }),
    alertOf({
      ...anomaly,
      idempotency_key: "dash-anomaly-search",
      title: "Spend anomaly: team search",
      summary: "Team search spent 4× its usual hour.",
      scope: { team: "search" },
    }),
  ];
  await session.runtime.bus.publish(
    TOPICS.alerts,
    alerts.map((a) => ({ data: Buffer.from(alertToJson(a)), attributes: {} })),
  );
  await drainBus(session.runtime);
});

afterAll(async () => {
  await session?.close();
  db.remove();
});

describe("the dashboard on the local stack", () => {
  it("serves the page at the root URL to a browser, its links under /dashboard/, with a strict CSP", async () => {
    // Act
    const root = await fetch(`${session.stack.url}/`, { headers: HTML });
    const mounted = await fetch(`${session.stack.url}/dashboard`, { headers: HTML });

    // Assess
    expect(root.status).toBe(200);
    expect(root.headers.get("content-type")).toMatch(/^text\/html/);
    expect(root.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toMatch(/default-src 'none'.*script-src 'self'/);
    const html = await root.text();
    expect(html).toContain('<base href="/dashboard/">');
    expect(html).toContain('src="assets/chart.umd.js"');
    expect(html).not.toMatch(/<script>|https?:\/\/|style="/);
    expect(await mounted.text()).toBe(html);
  });

  it("serves Chart.js and the page's scripts from its own origin, and nothing else by path", async () => {
    // Act
    const chart = await fetch(`${session.stack.url}/dashboard/assets/chart.umd.js`);
    const app = await fetch(`${session.stack.url}/dashboard/assets/dashboard.js`);
    const other = await fetch(`${session.stack.url}/dashboard/assets/..%2F..%2Fpackage.json`);

    // Assess
    expect(chart.status).toBe(200);
    expect(chart.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(await chart.text()).toMatch(/Chart\.js v4\./);
    expect(app.status).toBe(200);
    expect(await app.text()).toContain('from "./charts.js"');
    expect(other.status).toBe(404);
  });

  it("answers the page's data as JSON, money as exact decimal strings, and each panel apart", async () => {
    // Act
    const res = await fetch(`${session.stack.url}/dashboard/data?from=${day}&team=risk`);
    const body = (await res.json()) as DashboardOverview;
    const panels = await Promise.all(
      ["budget", "reconciliation", "scorecard"].map(async (part) => {
        const answer = await fetch(`${session.stack.url}/dashboard/data/${part}?from=${day}&team=risk`);
        return [answer.status, await answer.json()] as const;
      }),
    );

    // Assess
    expect(res.status).toBe(200);
    expect(body.filters).toEqual({ team: "risk" });
    expect(body.total).toBe("1.500000001");
    expect(body.spend_by_team).toEqual([{ name: "risk", total: "1.500000001", daily: expect.any(Array) }]);
    expect(body.options.team).toEqual(["risk", "search"]);
    expect(panels.map(([status]) => status)).toEqual([200, 200, 200]);
    expect(panels[0]?.[1]).toMatchObject({ list: [], burn_down: null });
    expect(panels[1]?.[1]).toEqual({
      status: "empty",
      note: expect.stringMatching(/^No reconciliation yet/),
    });
    expect(panels[2]?.[1]).toMatchObject({
      status: "ok",
      models: [expect.objectContaining({ model: "scorer" })],
    });
  });

  it("lists the recent alerts the filters apply to as they apply to the charts, as sentences", async () => {
    // Act
    const alertsFor = async (filter: string) => {
      const res = await fetch(`${session.stack.url}/dashboard/data?from=${day}${filter}`);
      return ((await res.json()) as DashboardOverview).alerts;
    };
    const [all, risk, scorer, search, searchRanker] = await Promise.all(
      ["", "&team=risk", "&model=scorer", "&team=search", "&team=search&model=ranker"].map(alertsFor),
    );

    // Assess
    const RISK = "Spend anomaly: model scorer, for team risk.";
    const SEARCH = "Spend anomaly: team search.";
    const listed = (...sentences: string[]) => ({
      items: sentences.map((about) => expect.objectContaining({ about, not_narrowed: null })),
    });
    expect(all).toEqual(listed(SEARCH, RISK));
    expect(risk).toEqual(listed(RISK));
    // Team search spent nothing on model scorer: its alert is not the selection's.
    expect(scorer).toEqual(listed(RISK));
    expect(search).toEqual(listed(SEARCH));
    // A model filter cannot narrow a team's alert, but all of team search's spend is model ranker's.
    expect(searchRanker).toEqual(listed(SEARCH));
  });

  it("answers 400 naming the bad parameter, 405 to a write, 404 to an unknown path", async () => {
    // Act
    const bad = await fetch(`${session.stack.url}/dashboard/data?from=yesterday`);
    const write = await fetch(`${session.stack.url}/dashboard/data`, { method: "POST", body: "{}" });
    const missing = await fetch(`${session.stack.url}/dashboard/admin`);

    // Assess
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      field: "from",
      error: expect.stringMatching(/^from: "yesterday" is not a date/),
    });
    expect(write.status).toBe(405);
    expect(write.headers.get("allow")).toBe("GET, HEAD");
    expect(missing.status).toBe(404);
  });

  it("keeps the JSON list of functions at / for anything but a browser, and /<target> routes", async () => {
    // Act
    const list = await fetch(`${session.stack.url}/`);
    const report = await fetch(`${session.stack.url}/costReport?by=team&from=${day}`);

    // Assess
    expect(list.headers.get("content-type")).toMatch(/^application\/json/);
    expect(((await list.json()) as { functions: unknown[] }).functions).toContainEqual({
      target: "dashboard",
      trigger: { kind: "http" },
    });
    expect(report.status).toBe(200);
  });
});
