import { http } from "@google-cloud/functions-framework";
import { ReportQueryError } from "#app/cost-report.ts";
import type { DashboardData } from "#app/dashboard-data.ts";
import { getRuntime } from "#runtime/runtime.ts";
import { pageFile, SECURITY_HEADERS } from "./page-files.ts";

const DATA: Readonly<Record<string, keyof DashboardData>> = {
  "/data": "overview",
  "/data/budget": "budget",
  "/data/reconciliation": "reconciliation",
  "/data/scorecard": "scorecard",
};

/** GET / the page, /assets/* its files, /data[/budget|/reconciliation|/scorecard]?team=&model=&business_unit=&from=&to=&budget= its data. */
http("dashboard", async (req, res) => {
  res.set(SECURITY_HEADERS);
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.set("Allow", "GET, HEAD").status(405).json({ error: "the dashboard is read-only: use GET" });
    return;
  }
  const file = pageFile(req.path, req.get("x-forwarded-prefix"));
  if (file) {
    res.status(200).type(file.type).send(file.body);
    return;
  }
  const part = Object.hasOwn(DATA, req.path) ? DATA[req.path] : undefined;
  if (part === undefined) {
    res.status(404).json({ error: `no page at ${req.path}` });
    return;
  }
  try {
    res.status(200).json(await (await getRuntime()).dashboardData[part](req.query));
  } catch (error) {
    if (!(error instanceof ReportQueryError)) throw error;
    res.status(400).json({ error: error.message, field: error.field });
  }
});
