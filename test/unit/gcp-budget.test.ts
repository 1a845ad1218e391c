import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseAlert } from "#domain/alerts/alert.ts";
import {
  budgetCrossings,
  budgetIdempotencyKey,
  budgetSeverity,
  budgetTeam,
  buildBudgetAlert,
} from "#domain/gcp-budget/budget-alert.ts";
import { type BudgetNotification, parseBudgetNotification } from "#domain/gcp-budget/budget-notification.ts";
import {
  DEFAULT_GCP_BUDGETS_SETTINGS,
  gcpBudgetsSettingsSchema,
} from "#domain/gcp-budget/gcp-budget-settings.ts";

const envelope = JSON.parse(
  readFileSync(
    new URL("../fixtures/gcp-budget/pubsub-push-budget.CONSTRUCTED.json", import.meta.url),
    "utf8",
  ),
) as { message: { data: string; attributes: Record<string, string> } };
const docsData = readFileSync(
  new URL("../fixtures/gcp-budget/budget-notification-data.docs-sample.json", import.meta.url),
);
const ATTRIBUTES = envelope.message.attributes;

function notification(data: Record<string, unknown> = {}, attributes = ATTRIBUTES): BudgetNotification {
  const base = JSON.parse(docsData.toString("utf8")) as Record<string, unknown>;
  const parsed = parseBudgetNotification(attributes, JSON.stringify({ ...base, ...data }));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.notification;
}

describe("GCP budget notification", () => {
  it("parses the documented data and the push envelope's attributes", () => {
    const parsed = parseBudgetNotification(ATTRIBUTES, Buffer.from(envelope.message.data, "base64"));
    expect(parsed).toEqual({
      ok: true,
      notification: {
        attributes: {
          billingAccountId: "01D4EE-079462-DFD6EC",
          budgetId: "de72f49d-779b-4945-a127-4d6ce8def0bb",
          schemaVersion: "1.0",
        },
        data: {
          budgetDisplayName: "name-of-budget",
          alertThresholdExceeded: 1,
          costAmount: 100.01,
          costIntervalStart: "2019-01-01T00:00:00Z",
          budgetAmount: 100,
          budgetAmountType: "SPECIFIED_AMOUNT",
          currencyCode: "USD",
        },
      },
    });
    expect(parseBudgetNotification(ATTRIBUTES, docsData).ok).toBe(true);
  });

  it("names the bad field, attribute or data", () => {
    const { budgetId: _b, ...noBudget } = ATTRIBUTES;
    expect(parseBudgetNotification(noBudget, docsData)).toMatchObject({
      ok: false,
      field: "attributes.budgetId",
    });
    expect(parseBudgetNotification({ ...ATTRIBUTES, schemaVersion: "2.0" }, docsData)).toMatchObject({
      field: "attributes.schemaVersion",
    });
    expect(parseBudgetNotification(undefined, docsData)).toMatchObject({
      ok: false,
      field: "attributes.billingAccountId",
    });
    const bad = (data: Record<string, unknown>) =>
      parseBudgetNotification(ATTRIBUTES, JSON.stringify({ ...JSON.parse(docsData.toString()), ...data }));
    expect(bad({ costAmount: "100" })).toMatchObject({ field: "data.costAmount" });
    expect(bad({ costIntervalStart: "2019-01-01" })).toMatchObject({ field: "data.costIntervalStart" });
    expect(bad({ alertThresholdExceeded: -1 })).toMatchObject({ field: "data.alertThresholdExceeded" });
    expect(bad({ currencyCode: "usd" })).toMatchObject({ field: "data.currencyCode" });
    expect(parseBudgetNotification(ATTRIBUTES, "Hello")).toMatchObject({ ok: false, field: "data" });
  });

  it("reports no crossing for a routine status update, and each kind it carries", () => {
    expect(budgetCrossings(notification({ alertThresholdExceeded: undefined }))).toEqual([]);
    expect(budgetCrossings(notification({ forecastThresholdExceeded: 1.2 }))).toEqual([
      { kind: "actual", threshold: 1 },
      { kind: "forecast", threshold: 1.2 },
    ]);
  });

  it("keys an alert by budget, the period start (Pacific midnight), kind and threshold", () => {
    const n = notification({ costIntervalStart: "2026-11-01T07:00:00Z", alertThresholdExceeded: 0.5 });
    expect(budgetIdempotencyKey(n, { kind: "actual", threshold: 0.5 })).toBe(
      "gcp-budget:de72f49d-779b-4945-a127-4d6ce8def0bb:2026-11-01T07:00:00Z:actual:0.5",
    );
  });

  it.each(["2026-11-01T07:00:00.000Z", "2026-11-01T00:00:00-07:00", "2026-11-01T07:00:00.000000Z"])(
    "keys the period by its instant however it is written (%s), so its alerts are sent once",
    (written) => {
      const n = notification({ costIntervalStart: written, alertThresholdExceeded: 0.5 });
      expect(budgetIdempotencyKey(n, { kind: "actual", threshold: 0.5 })).toBe(
        "gcp-budget:de72f49d-779b-4945-a127-4d6ce8def0bb:2026-11-01T07:00:00Z:actual:0.5",
      );
    },
  );

  it("maps a budget to its team: configured id, configured name, display-name convention, fallback", () => {
    const settings = gcpBudgetsSettingsSchema.parse({
      teams: { "de72f49d-779b-4945-a127-4d6ce8def0bb": "search", "Shared GPUs": "platform" },
      fallbackTeam: "finops",
    });
    expect(budgetTeam(notification(), settings)).toBe("search");
    const other = { ...ATTRIBUTES, budgetId: "other-id" };
    expect(budgetTeam(notification({ budgetDisplayName: "Shared GPUs" }, other), settings)).toBe("platform");
    expect(budgetTeam(notification({ budgetDisplayName: "team-nlp-monthly" }, other), settings)).toBe("nlp");
    expect(budgetTeam(notification({ budgetDisplayName: "Team-Vision" }, other), settings)).toBe("vision");
    expect(budgetTeam(notification({ budgetDisplayName: "name-of-budget" }, other), settings)).toBe("finops");
    expect(
      budgetTeam(notification({ budgetDisplayName: "name-of-budget" }, other), DEFAULT_GCP_BUDGETS_SETTINGS),
    ).toBe(undefined);
    const custom = gcpBudgetsSettingsSchema.parse({ displayNamePattern: "^(\\w+) budget$" });
    expect(budgetTeam(notification({ budgetDisplayName: "ranking budget" }, other), custom)).toBe("ranking");
  });

  it("rejects settings that would not work, naming the field", () => {
    const result = gcpBudgetsSettingsSchema.safeParse({ displayNamePattern: "(" });
    expect(result.success ? "" : result.error.issues[0]?.path.join(".")).toBe("displayNamePattern");
  });

  it("grades severity: actual 50% info, 80% warning, 100%+ critical; forecast 100% a warning", () => {
    expect(budgetSeverity({ kind: "actual", threshold: 0.5 })).toBe("info");
    expect(budgetSeverity({ kind: "actual", threshold: 0.8 })).toBe("warning");
    expect(budgetSeverity({ kind: "actual", threshold: 1.25 })).toBe("critical");
    expect(budgetSeverity({ kind: "forecast", threshold: 1 })).toBe("warning");
    expect(budgetSeverity({ kind: "forecast", threshold: 0.9 })).toBe("info");
  });

  it("builds a valid alert that says which threshold, with exact nanos", () => {
    const n = notification({
      budgetDisplayName: "team-nlp-monthly",
      costIntervalStart: "2026-11-01T07:00:00Z",
    });
    const alert = buildBudgetAlert(
      n,
      { kind: "actual", threshold: 1 },
      DEFAULT_GCP_BUDGETS_SETTINGS,
      new Date("2026-11-20T10:00:00Z"),
    );
    expect(
      parseAlert(JSON.parse(JSON.stringify(alert, (_, v) => (typeof v === "bigint" ? String(v) : v)))),
    ).toMatchObject({
      ok: true,
    });
    expect(alert).toMatchObject({
      idempotency_key: "gcp-budget:de72f49d-779b-4945-a127-4d6ce8def0bb:2026-11-01T07:00:00Z:actual:1",
      kind: "gcp.budget",
      severity: "critical",
      action: "Budget exceeded. Immediate action required.",
      scope: { cloud: "gcp", team: "nlp", budget: "team-nlp-monthly" },
      amounts: {
        spend_nanos: 100_010_000_000n,
        limit_nanos: 100_000_000_000n,
        percent: 100.01,
        currency: "USD",
      },
      source: {
        system: "gcp-billing",
        id: "de72f49d-779b-4945-a127-4d6ce8def0bb",
        url: "https://console.cloud.google.com/billing/01D4EE-079462-DFD6EC/budgets/de72f49d-779b-4945-a127-4d6ce8def0bb/edit",
      },
      created_at: "2026-11-20T10:00:00.000Z",
    });
    expect(alert.title).toBe("GCP budget team-nlp-monthly: 100% of $100.00 spent");
    expect(alert.summary).toContain("(actual spend)");
    expect(alert.summary).toContain("2026-11-01T07:00:00Z");
    const forecast = buildBudgetAlert(
      n,
      { kind: "forecast", threshold: 1.2 },
      DEFAULT_GCP_BUDGETS_SETTINGS,
      new Date(),
    );
    expect(forecast.title).toBe("GCP budget team-nlp-monthly: forecast to reach 120% of $100.00");
    expect(forecast.summary).toContain("(forecasted spend)");
    expect(forecast.idempotency_key.endsWith(":forecast:1.2")).toBe(true);
  });

  it("leaves percent out of a zero budget", () => {
    const alert = buildBudgetAlert(
      notification({ budgetAmount: 0 }),
      { kind: "actual", threshold: 1 },
      DEFAULT_GCP_BUDGETS_SETTINGS,
      new Date(),
    );
    expect(alert.amounts?.percent).toBeUndefined();
  });
});
