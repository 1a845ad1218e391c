import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { alertToJson, parseAlert } from "#domain/alerts/alert.ts";
import { anomalySeverity, anomalyTeam, buildAnomalyAlert } from "#domain/aws-anomaly/anomaly-alert.ts";
import { type AwsAnomaly, parseAnomaly } from "#domain/aws-anomaly/anomaly-notification.ts";
import { awsAnomaliesSettingsSchema } from "#domain/aws-anomaly/aws-anomaly-settings.ts";

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/aws-anomaly/${name}`, import.meta.url), "utf8");
const FULL = fixture("sns-message-anomaly.json");
const MINIMAL = fixture("sns-message-anomaly-minimal-rootcause.json");
const TOPIC = "arn:aws:sns:us-west-2:123456789012:MyTopic";
const settings = awsAnomaliesSettingsSchema.parse({ topicArns: [TOPIC] });

function anomaly(text: string): AwsAnomaly {
  const parsed = parseAnomaly(text);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.anomaly;
}

describe("AWS cost anomaly notification", () => {
  it("parses both SNS variants (full and service-only root causes), keeping dimensionalValue", () => {
    expect(anomaly(FULL)).toMatchObject({
      anomalyId: "12345678-abcd-ef12-3456-987654321a12",
      dimensionalValue: "Amazon Elastic Compute Cloud - Compute",
      impact: {
        totalImpact: 1001,
        totalActualSpend: 1301,
        totalExpectedSpend: 300,
        totalImpactPercentage: 333.67,
      },
      rootCauses: [
        {
          service: "Amazon Elastic Compute Cloud - Compute",
          region: "ap-northeast-1",
          linkedAccount: "123456789012",
        },
      ],
    });
    expect(anomaly(MINIMAL).rootCauses).toEqual([{ service: "Amazon Simple Notification Service" }]);
  });

  it("normalizes the EventBridge form (detail, dimensionValue)", () => {
    const { dimensionalValue, ...rest } = JSON.parse(FULL) as Record<string, unknown>;
    const event = {
      version: "0",
      source: "aws.ce",
      "detail-type": "Anomaly Detected",
      detail: { ...rest, feedback: "YES", dimensionValue: dimensionalValue },
    };
    expect(parseAnomaly(event)).toMatchObject({
      ok: true,
      anomaly: { dimensionalValue: "Amazon Elastic Compute Cloud - Compute", feedback: "YES" },
    });
  });

  it("names the bad field under Message", () => {
    const raw = JSON.parse(FULL) as Record<string, unknown>;
    expect(parseAnomaly(JSON.stringify({ ...raw, impact: {} }))).toMatchObject({
      ok: false,
      field: "Message.impact.totalImpact",
    });
    expect(parseAnomaly(JSON.stringify({ ...raw, anomalyId: "" }))).toMatchObject({
      field: "Message.anomalyId",
    });
    expect(parseAnomaly("Hello world!")).toMatchObject({ ok: false, field: "Message" });
  });

  it("grades severity from the total impact with configurable thresholds", () => {
    expect(anomalySeverity(99_999_999_999n, settings.severity)).toBe("info");
    expect(anomalySeverity(100_000_000_000n, settings.severity)).toBe("warning");
    expect(anomalySeverity(1_001_000_000_000n, settings.severity)).toBe("critical");
    const strict = awsAnomaliesSettingsSchema.parse({
      topicArns: [TOPIC],
      severity: { warning: 10, critical: 50 },
    });
    expect(anomalySeverity(20_000_000_000n, strict.severity)).toBe("warning");
  });

  it("maps the anomaly to a team by monitor, account or service, else the fallback", () => {
    const a = anomaly(FULL);
    const by = (teams: Record<string, string>, fallbackTeam?: string) =>
      anomalyTeam(a, { teams, ...(fallbackTeam ? { fallbackTeam } : {}) });
    expect(by({ [a.monitorArn]: "ml-infra", "123456789012": "accounts" })).toBe("ml-infra");
    expect(by({ "123456789012": "accounts" })).toBe("accounts");
    expect(by({ "Amazon Elastic Compute Cloud - Compute": "compute" })).toBe("compute");
    expect(by({}, "finops")).toBe("finops");
    expect(by({})).toBeUndefined();
  });

  it("builds a valid alert with impact, root causes, monitor and link, threaded on the anomaly", () => {
    const alert = buildAnomalyAlert(anomaly(FULL), settings, new Date("2021-05-25T12:00:00Z"));
    expect(parseAlert(JSON.parse(alertToJson(alert)))).toEqual({ ok: true, alert });
    expect(alert).toMatchObject({
      idempotency_key: "aws-anomaly:12345678-abcd-ef12-3456-987654321a12:critical:1001000000000",
      kind: "aws.anomaly",
      severity: "critical",
      title: "AWS cost anomaly: +$1,001.00 on Amazon Elastic Compute Cloud - Compute",
      scope: { cloud: "aws" },
      amounts: { spend_nanos: 1_301_000_000_000n, currency: "USD" },
      period: { start: "2021-05-25T00:00:00Z", end: "2021-05-25T00:00:00Z" },
      source: {
        system: "aws-cost-anomaly",
        id: "12345678-abcd-ef12-3456-987654321a12",
        url: "https://console.aws.amazon.com/cost-management/home#/anomaly-detection/monitors/abcdef12-1234-4ea0-84cc-918a97d736ef/anomalies/12345678-abcd-ef12-3456-987654321a12",
      },
      thread_key: "aws-anomaly:12345678-abcd-ef12-3456-987654321a12",
    });
    expect(alert.summary).toContain("(+333.67%)");
    expect(alert.summary).toContain("Actual $1,301.00 against $300.00 expected.");
    expect(alert.summary).toContain(
      "• Amazon Elastic Compute Cloud - Compute, ap-northeast-1, account 123456789012 (test), usage type AnomalousUsageType",
    );
    expect(alert.summary).toContain(
      "arn:aws:ce::123456789012:anomalymonitor/abcdef12-1234-4ea0-84cc-918a97d736ef",
    );
    const minimal = buildAnomalyAlert(anomaly(MINIMAL), settings, new Date());
    expect(minimal.summary).toContain("• Amazon Simple Notification Service");
  });

  it("refuses settings without a topic or with a bad ARN, naming the field", () => {
    const none = awsAnomaliesSettingsSchema.safeParse({ topicArns: [] });
    expect(none.success ? "" : none.error.issues[0]?.path.join(".")).toBe("topicArns");
    const bad = awsAnomaliesSettingsSchema.safeParse({ topicArns: ["MyTopic"] });
    expect(bad.success ? "" : bad.error.issues[0]?.path.join(".")).toBe("topicArns.0");
    const inverted = awsAnomaliesSettingsSchema.safeParse({
      topicArns: [TOPIC],
      severity: { warning: 10, critical: 5 },
    });
    expect(inverted.success ? "" : inverted.error.issues[0]?.path.join(".")).toBe("severity.critical");
  });
});
