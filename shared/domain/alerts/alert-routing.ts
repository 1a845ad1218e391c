import { z } from "zod";
import { type Alert, SEVERITIES } from "#domain/alerts/alert.ts";
import { effectiveSeverity } from "#domain/alerts/alert-severity.ts";

/** A channel by name ("#team-nlp-alerts", Slack's rules: lower case, digits, - and _) or by id ("C1H9RESGL"). */
const CHANNEL = /^(#[a-z0-9_][a-z0-9_-]{0,79}|[CGD][A-Z0-9]{8,20})$/;
const channelSchema = z
  .string()
  .regex(
    CHANNEL,
    "must be a channel name like #team-alerts (lower case, digits, - and _) or an id like C1H9RESGL",
  );

/** Channel routing for alerts, as the configuration file holds it (validated at start-up). */
export const alertRoutingSchema = z
  .object({
    /** Where an alert goes when no rule names a channel, and where it goes when its channel is unusable. */
    fallbackChannel: channelSchema.default("#finops-alerts"),
    /** A team's own channel; `{team}` is the team's name as a channel name ("nlp-team" → nlp-team). */
    teamChannel: z
      .string()
      .refine((s) => s.includes("{team}"), "must contain {team}")
      .default("#team-{team}-alerts"),
    /** Per-team channels that replace teamChannel. */
    teams: z.record(z.string().min(1), channelSchema).default({}),
    /** Per-budget channels (by the alert's scope.budget), over every severity and team rule. */
    budgets: z.record(z.string().min(1), channelSchema).default({}),
    /** Per-severity channels, over the team's channel. */
    severities: z.partialRecord(z.enum(SEVERITIES), channelSchema).default({}),
  })
  .strict();

export type AlertRouting = z.output<typeof alertRoutingSchema>;
export type AlertRoutingInput = z.input<typeof alertRoutingSchema>;

export class AlertRoutingError extends Error {
  override readonly name = "AlertRoutingError";
  readonly code = "invalid";
}

/** Parses routing configuration; the error names the field ("routing.budgets.nlp-monthly: ..."). */
export function parseAlertRouting(raw: unknown, where = "routing"): AlertRouting {
  const parsed = alertRoutingSchema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `${[where, ...i.path.map(String)].join(".")}: ${i.message}`);
  throw new AlertRoutingError(lines.join("; "), { cause: parsed.error });
}

/** A team name as a Slack channel name: "NLP Team" → "nlp-team"; "" when nothing usable is left. */
export function channelSlug(team: string): string {
  return team
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-|-$/g, "");
}

export type RouteRule = "explicit" | "budget" | "severity" | "team" | "fallback";

export interface Route {
  channel: string;
  rule: RouteRule;
}

function teamChannel(team: string, routing: AlertRouting): string | undefined {
  const configured = routing.teams[team];
  if (configured !== undefined) return configured;
  const slug = channelSlug(team);
  const channel = slug === "" ? "" : routing.teamChannel.replace("{team}", slug);
  return CHANNEL.test(channel) ? channel : undefined;
}

/**
 * Which channel an alert goes to, and by which rule: the alert's own channel, then a per-budget
 * override, a per-severity override, the team's channel, and the fallback channel last.
 */
export function explainRoute(alert: Alert, routing: AlertRouting): Route {
  if (alert.channel !== undefined && alert.channel !== "")
    return { channel: alert.channel, rule: "explicit" };
  const budget = alert.scope.budget === undefined ? undefined : routing.budgets[alert.scope.budget];
  if (budget !== undefined) return { channel: budget, rule: "budget" };
  const severity = routing.severities[effectiveSeverity(alert)];
  if (severity !== undefined) return { channel: severity, rule: "severity" };
  const team = alert.scope.team === undefined ? undefined : teamChannel(alert.scope.team, routing);
  if (team !== undefined) return { channel: team, rule: "team" };
  return { channel: routing.fallbackChannel, rule: "fallback" };
}

/** The channel an alert goes to (see explainRoute for the precedence). */
export function routeAlert(alert: Alert, routing: AlertRouting): string {
  return explainRoute(alert, routing).channel;
}
