import { describe, expect, it } from "vitest";
import {
  AlertRoutingError,
  channelSlug,
  explainRoute,
  parseAlertRouting,
  routeAlert,
} from "#domain/alerts/alert-routing.ts";
import { alertOf } from "../fixtures/slack/alert-builders.ts";

const routing = parseAlertRouting({
  fallbackChannel: "#finops-alerts",
  budgets: { "nlp-monthly": "#nlp-budget" },
  severities: { critical: "#finops-oncall" },
  teams: { vision: "#vision-costs" },
});

describe("routeAlert precedence", () => {
  it("takes the alert's own channel over everything", () => {
    expect(explainRoute(alertOf({ channel: "#explicit", severity: "critical" }), routing)).toEqual({
      channel: "#explicit",
      rule: "explicit",
    });
  });

  it("then the budget's override", () => {
    expect(explainRoute(alertOf({ severity: "critical" }), routing)).toEqual({
      channel: "#nlp-budget",
      rule: "budget",
    });
  });

  it("then the severity's override (the severity the message shows)", () => {
    const alert = alertOf({ scope: { team: "nlp-team", budget: "other" }, severity: "critical" });
    expect(explainRoute(alert, routing)).toEqual({ channel: "#finops-oncall", rule: "severity" });
  });

  it("then the team's channel: configured, or #team-<team>-alerts", () => {
    expect(routeAlert(alertOf({ scope: { team: "vision" } }), routing)).toBe("#vision-costs");
    expect(explainRoute(alertOf({ scope: { team: "nlp-team" } }), routing)).toEqual({
      channel: "#team-nlp-team-alerts",
      rule: "team",
    });
    expect(routeAlert(alertOf({ scope: { team: "Speech & Audio" } }), routing)).toBe(
      "#team-speech-audio-alerts",
    );
  });

  it("and the fallback channel last", () => {
    expect(explainRoute(alertOf({ scope: {} }), routing)).toEqual({
      channel: "#finops-alerts",
      rule: "fallback",
    });
    expect(routeAlert(alertOf({ scope: { team: "***" } }), routing)).toBe("#finops-alerts");
  });

  it("uses defaults when nothing is configured", () => {
    const defaults = parseAlertRouting(undefined);
    expect(defaults.fallbackChannel).toBe("#finops-alerts");
    expect(routeAlert(alertOf({ severity: "critical" }), defaults)).toBe("#team-nlp-team-alerts");
    expect(routeAlert(alertOf({ scope: {} }), parseAlertRouting({ teamChannel: "#costs-{team}" }))).toBe(
      "#finops-alerts",
    );
    expect(routeAlert(alertOf(), parseAlertRouting({ teamChannel: "#costs-{team}" }))).toBe(
      "#costs-nlp-team",
    );
  });
});

describe("routing configuration", () => {
  it("names the field at fault", () => {
    expect(() => parseAlertRouting({ budgets: { "nlp-monthly": "Not A Channel" } })).toThrow(
      /routing\.budgets\.nlp-monthly: must be a channel name/,
    );
    expect(() => parseAlertRouting({ severities: { panic: "#x" } })).toThrow(AlertRoutingError);
    expect(() => parseAlertRouting({ teamChannel: "#team-alerts" })).toThrow(
      /routing\.teamChannel: must contain \{team\}/,
    );
    expect(() => parseAlertRouting({ fallback: "#x" })).toThrow(/routing: Unrecognized key/);
  });

  it("accepts channel ids", () => {
    expect(parseAlertRouting({ fallbackChannel: "C1H9RESGL" }).fallbackChannel).toBe("C1H9RESGL");
  });

  it("slugs team names as Slack channel names", () => {
    expect(channelSlug("NLP Team")).toBe("nlp-team");
    expect(channelSlug("--ml__ops--")).toBe("ml__ops");
  });
});
