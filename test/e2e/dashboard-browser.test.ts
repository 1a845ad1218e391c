import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readEnv } from "#runtime/env.ts";
import { runDemoWithAlerts } from "../../bin/commands/demo-alerts.ts";
import type { LocalSession } from "../../bin/commands/local-session.ts";
import { type FakeSlack, startFakeSlack } from "../fixtures/slack/fake-slack-server.ts";
import { type Browser, launchChromium } from "../support/chromium.ts";
import { tempDuckDb } from "../support/local-stack-session.ts";
import { decodePng, imageStats } from "../support/png.ts";

// The dashboard in headless Chromium against the local stack loaded with the demo (events, budgets,
// alerts through the real notifier to a Slack stand-in): the page loads, every chart draws data, a
// filter changes them, nothing errs in the console, and a screenshot is not blank.

const SECRETS = { SLACK_BOT_TOKEN: "xoxb-dashboard-e2e-4f1c9a7e", MLFLOW_TRACKING_TOKEN: "mlflow-e2e-9b2d" };
const SCREENSHOT = join(tmpdir(), "finops-dashboard-e2e.png");
/** The charts every selection with spend draws (reconciliation and scorecard only when they have data). */
const CHARTS = ["chart-team", "chart-model", "chart-budget", "chart-top-models"];

const db = tempDuckDb("finops-dashboard-browser-");
let slack: FakeSlack;
let session: LocalSession;
let browser: Browser;
let page: Page;
const problems: string[] = [];

interface ChartData {
  id: string;
  labels: number;
  datasets: { label: string; data: (number | null)[] }[];
}

/** What Chart.js holds for each chart on the page (its own instances, not the DOM). */
function chartsOnPage(): Promise<ChartData[]> {
  return page.evaluate(`Object.values(Chart.instances).map((chart) => ({
    id: chart.canvas.id,
    labels: chart.data.labels.length,
    datasets: chart.data.datasets.map((d) => ({ label: d.label, data: [...d.data] })),
  }))`);
}

/** Until the page has drawn the answer to its last data request. */
// (Selectors, not functions: the page's CSP forbids the eval that waitForFunction would need.)
const idle = () => page.locator('#main[aria-busy="false"]').waitFor();

beforeAll(async () => {
  slack = await startFakeSlack();
  const env = readEnv({
    FINOPS_DUCKDB_PATH: db.path,
    FINOPS_LOG_LEVEL: "error",
    SLACK_API_URL: slack.url,
    ...SECRETS,
  });
  ({ session } = await runDemoWithAlerts({
    port: 0,
    hours: 24,
    seed: "e2e-dashboard",
    out: { write: () => true },
    env,
  }));
  browser = await launchChromium();
  page = await browser.context.newPage();
  // The first data request reads every budget's standing (a week of hourly reports): slow on a busy machine.
  page.setDefaultTimeout(45_000);
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
  await page.goto(`${session.stack.url}/`);
  await idle();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await session?.close();
  await slack?.close();
  db.remove();
});

describe("the dashboard in headless Chromium, on the demo", () => {
  it("draws every chart with data, shows the alerts, and logs no error", async () => {
    // Act
    const charts = await chartsOnPage();
    const alertRows = await page.locator("#alerts tbody tr").count();
    const error = await page.locator("#error").isHidden();

    // Assess
    expect(charts.map((c) => c.id).sort()).toEqual(expect.arrayContaining(CHARTS.sort()));
    for (const chart of charts) {
      expect(chart.labels, chart.id).toBeGreaterThan(0);
      expect(chart.datasets.length, chart.id).toBeGreaterThan(0);
      const values = chart.datasets.flatMap((d) => d.data).filter((v): v is number => v !== null);
      expect(Math.max(...values), `${chart.id} has no positive value`).toBeGreaterThan(0);
    }
    const burn = charts.find((c) => c.id === "chart-budget");
    expect(burn?.datasets.map((d) => d.label)).toEqual(
      expect.arrayContaining([
        "Spend to date",
        expect.stringMatching(/^Forecast/),
        expect.stringMatching(/^100% · /),
      ]),
    );
    expect(alertRows).toBeGreaterThan(0);
    expect(error).toBe(true);
    expect(problems).toEqual([]);
  });

  it("narrows every chart when a team is picked, and keeps the choice in the URL", async () => {
    // Prepare
    const before = await chartsOnPage();
    const teams = before.find((c) => c.id === "chart-team")?.datasets.map((d) => d.label) ?? [];
    const team = teams[1] as string;

    // Act
    await page.selectOption("select[name=team]", team);
    await page.locator("#subtitle", { hasText: `team ${team}` }).waitFor();
    await idle();
    const after = await chartsOnPage();

    // Assess
    expect(after.find((c) => c.id === "chart-team")?.datasets.map((d) => d.label)).toEqual([team]);
    const total = (charts: ChartData[], id: string) =>
      (charts.find((c) => c.id === id)?.datasets ?? [])
        .flatMap((d) => d.data)
        .reduce<number>((s, v) => s + (v ?? 0), 0);
    expect(total(after, "chart-model")).toBeLessThan(total(before, "chart-model"));
    expect(total(after, "chart-top-models")).toBeLessThan(total(before, "chart-top-models"));
    expect(new URL(page.url()).searchParams.get("team")).toBe(team);
    expect(problems).toEqual([]);
  });

  it("reads each alert as a sentence: its title and scope in words, never an idempotency key", async () => {
    // Act
    const about = await page.locator("#alerts tbody tr td:nth-child(4)").allTextContents();

    // Assess
    expect(about.length).toBeGreaterThan(0);
    for (const text of about) {
      expect(text).toMatch(/\.( \(.+\))?$/);
      expect(text).not.toMatch(/[a-z_]+=[^ ]|:USD:|^budget:|^spend\.|^recon/);
    }
  });

  it.each([
    ["business_unit", "consumer", "business unit consumer"],
    ["model", "vision-tagger", "model vision-tagger"],
  ])(
    "filters the budget panel by %s as the charts: only budgets holding the selection's spend, never a wider one as the selection's",
    async (dimension, value, words) => {
      // Prepare: which teams have spend in the selection, as the charts say.
      const base = `${session.stack.url}/dashboard/data`;
      const query = `${dimension}=${value}`;
      const overview = (await (await fetch(`${base}?${query}`)).json()) as {
        spend_by_team: { name: string }[];
      };
      const teams = new Set(overview.spend_by_team.map((t) => t.name));
      const all = (await (await fetch(`${base}/budget`)).json()) as {
        list: { name: string; scope: { team?: string } }[];
      };

      // Act
      await page.selectOption("select[name=team]", "");
      await page.selectOption(`select[name=${dimension}]`, value);
      await page.locator("#subtitle", { hasText: words }).waitFor();
      await idle();
      const options = await page.locator("#budget-select option").allTextContents();
      const note = (await page.locator("#budget-note").isVisible())
        ? await page.locator("#budget-note").textContent()
        : null;
      const kpi = await page.locator("#kpi-budget").getAttribute("class");
      const summary = await page.locator("#budget-summary").textContent();
      const empty = await page
        .locator("#chart-budget")
        .locator("xpath=ancestor::section")
        .locator(".empty")
        .textContent();
      writeFileSync(
        join(tmpdir(), `finops-dashboard-${dimension}.png`),
        await page.screenshot({ fullPage: true }),
      );

      // Assess: a team budget is listed only when its team has spend in the selection.
      const listed = options.map((o) => o.split(" (")[0]);
      const expected = all.list
        .filter((b) => b.scope.team === undefined || teams.has(b.scope.team))
        .map((b) => b.name);
      expect(listed.sort()).toEqual(expected.sort());
      if (listed.length === 0) {
        expect(empty).toMatch(/^No budget concerns this selection/);
        expect(await page.locator("#kpi-budget").textContent()).toBe("none");
      } else {
        // The budget shown says what the filter cannot narrow, and is red only when it is the selection's.
        expect(note).toMatch(new RegExp(`^Team budget: not narrowed by ${dimension.replace("_", " ")}`));
        if (note?.includes("not the selection's")) expect(kpi).toContain("unnarrowed");
        else expect(note).toContain(`all of its spend this period is ${words}`);
        expect(summary).toMatch(/reconciled against the bill|nothing reconciled/);
      }
      expect(problems).toEqual([]);
      await page.selectOption(`select[name=${dimension}]`, "");
      await idle();
    },
  );

  it("takes a screenshot that is not blank, each chart drawn (and the check fails on a blank page)", async () => {
    // Prepare
    await page.selectOption("select[name=team]", "");
    await idle();

    // Act
    const shot = await page.screenshot({ fullPage: true });
    writeFileSync(SCREENSHOT, shot);
    const chartShots = await Promise.all(CHARTS.map((id) => page.locator(`#${id}`).screenshot()));
    const blankPage = await browser.context.newPage();
    const blank = await blankPage.screenshot();
    await blankPage.close();

    // Assess
    const whole = imageStats(decodePng(shot));
    expect(whole.inkShare, `screenshot at ${SCREENSHOT}`).toBeGreaterThan(0.05);
    expect(whole.colours, `screenshot at ${SCREENSHOT}`).toBeGreaterThanOrEqual(8);
    chartShots.forEach((png, i) => {
      const chart = imageStats(decodePng(png));
      expect(chart.inkShare, `${CHARTS[i]} in ${SCREENSHOT}`).toBeGreaterThan(0.03);
      expect(chart.colours, `${CHARTS[i]} in ${SCREENSHOT}`).toBeGreaterThanOrEqual(3);
    });
    const empty = imageStats(decodePng(blank));
    expect(empty.inkShare).toBeLessThan(0.05);
    expect(empty.colours).toBeLessThan(3);
  });

  it("puts no secret or environment value in the page, its scripts or its data", async () => {
    // Act
    const base = `${session.stack.url}/dashboard`;
    const paths = [
      "/",
      "/assets/dashboard.js",
      "/assets/charts.js",
      "/assets/format.js",
      "/assets/tables.js",
    ];
    const texts = await Promise.all(
      [...paths.map((p) => `${base}${p}`), `${base}/data`, `${base}/data?team=unallocated`].map(async (url) =>
        (await fetch(url)).text(),
      ),
    );

    // Assess
    const served = texts.join("\n");
    for (const value of [...Object.values(SECRETS), slack.url, db.path, db.dir]) {
      expect(served).not.toContain(value);
    }
    expect(served).not.toMatch(/xox[abposr]-/);
  });
});
