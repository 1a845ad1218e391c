import { ReportQueryError } from "#app/cost-report.ts";
import type { DashboardData } from "#app/dashboard-data.ts";
import { HttpError, httpFunction } from "#runtime/http-errors.ts";
import { getRuntime } from "#runtime/runtime.ts";
import { pageFile, SECURITY_HEADERS } from "./page-files.ts";

const DATA: Readonly<Record<string, keyof DashboardData>> = {
  "/data": "overview",
  "/data/budget": "budget",
  "/data/reconciliation": "reconciliation",
  "/data/scorecard": "scorecard",
};

/** GET / the page, /assets/* its files, /data[/budget|/reconciliation|/scorecard]?team=&model=&business_unit=&from=&to=&budget= its data. */
httpFunction("dashboard", { methods: ["GET"], headers: SECURITY_HEADERS }, async (req, res) => {
  const file = pageFile(req.path, req.get("x-forwarded-prefix"));
  if (file) {
    res.status(200).type(file.type).send(file.body);
    return;
  }
  const part = Object.hasOwn(DATA, req.path) ? DATA[req.path] : undefined;
  if (part === undefined) throw new HttpError(404, `no page at ${req.path}`);
  try {
    res.status(200).json(await (await getRuntime()).dashboardData[part](req.query));
  } catch (error) {
    if (!(error instanceof ReportQueryError)) throw error;
    throw new HttpError(400, error.message, { field: error.field });
  }
});
