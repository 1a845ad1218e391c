import { describe, expect, it } from "vitest";
import { type Alert, alertToJson, parseAlert } from "#domain/alerts/alert.ts";

const alert: Alert = {
  idempotency_key: "budget:nlp-monthly:2026-11:80",
  kind: "budget.threshold",
  severity: "warning",
  title: "nlp-team budget at 80%",
  summary: "Spend is $16,000.00 of $20,000.00 (80%).",
  action: "Review spending.",
  scope: { team: "nlp-team", budget: "nlp-monthly" },
  amounts: {
    spend_nanos: 16_000n * 10n ** 9n,
    limit_nanos: 20_000n * 10n ** 9n,
    percent: 80,
    currency: "USD",
  },
  period: { start: "2026-11-01T00:00:00Z", end: "2026-12-01T00:00:00Z" },
  source: { system: "finops" },
  created_at: "2026-11-20T10:00:00Z",
};

describe("alert", () => {
  it("round-trips through the topic's JSON with exact nanos", () => {
    const parsed = parseAlert(JSON.parse(alertToJson(alert)));
    expect(parsed).toEqual({ ok: true, alert });
  });

  it("names the bad field", () => {
    const parsed = parseAlert({ ...JSON.parse(alertToJson(alert)), severity: "panic" });
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? "" : parsed.field).toBe("severity");
  });
});
