import type { Alert, Severity } from "#domain/alerts/alert.ts";
import { effectiveSeverity, percentUsed } from "#domain/alerts/alert-severity.ts";
import { formatMoney, formatPercent } from "#domain/alerts/format-money.ts";

/**
 * An alert as a Slack message (Block Kit), built without any Slack SDK: the notifier adapters send or
 * print it. Everything stays inside Slack's limits however long the alert's texts are.
 */
export interface PlainText {
  type: "plain_text";
  text: string;
  emoji?: boolean;
}

export interface Mrkdwn {
  type: "mrkdwn";
  text: string;
}

export interface HeaderBlock {
  type: "header";
  text: PlainText;
}

export interface SectionBlock {
  type: "section";
  text?: Mrkdwn;
  fields?: Mrkdwn[];
}

export interface ContextBlock {
  type: "context";
  elements: Mrkdwn[];
}

export type SlackBlock = HeaderBlock | SectionBlock | ContextBlock;

export interface SlackAttachment {
  /** The bar's colour, "#rrggbb". */
  color: string;
  fallback: string;
  blocks: SlackBlock[];
}

export interface SlackMessage {
  /** The notification fallback (push notifications, screen readers, clients without blocks). */
  text: string;
  /** The header; the body sits in the one coloured attachment. */
  blocks: SlackBlock[];
  attachments: SlackAttachment[];
}

/** Slack's published limits (FORMATS.md §9). */
export const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  contextElements: 10,
  contextText: 3000,
  text: 40_000,
} as const;

export const SEVERITY_EMOJI: Readonly<Record<Severity, string>> = {
  info: "📊",
  warning: "⚠️",
  critical: "🚨",
};

export const SEVERITY_COLOR: Readonly<Record<Severity, string>> = {
  info: "#439FE0",
  warning: "#ECB22E",
  critical: "#E01E5A",
};

export const BUDGET_EXCEEDED_ACTION = "Budget exceeded. Immediate action required.";

const DEFAULT_ACTION: Readonly<Record<Severity, string>> = {
  info: "No action needed yet: keep an eye on the trend.",
  warning: "Review spending before the limit is reached.",
  critical: "Investigate now.",
};

const ELLIPSIS = "…";

/**
 * Cuts `text` to at most `max` UTF-16 units (so also at most `max` characters, however Slack counts),
 * never inside a surrogate pair or an HTML entity, and marks the cut with "…".
 */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = "";
  for (const char of text) {
    if (out.length + char.length > max - ELLIPSIS.length) break;
    out += char;
  }
  return `${out.replace(/&[a-z]{0,4}$/, "")}${ELLIPSIS}`;
}

/** Slack's mrkdwn control characters, escaped as its docs ask. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const mrkdwn = (text: string, max: number): Mrkdwn => ({ type: "mrkdwn", text: truncateText(text, max) });

/** What the owner should do: ≥100% of a limit always says the budget is exceeded. */
export function actionLine(alert: Alert): string {
  const percent = percentUsed(alert);
  const exceeded = percent !== undefined && percent >= 100 && alert.amounts?.limit_nanos !== undefined;
  if (!exceeded) return alert.action ?? DEFAULT_ACTION[effectiveSeverity(alert)];
  return alert.action && alert.action !== BUDGET_EXCEEDED_ACTION
    ? `${BUDGET_EXCEEDED_ACTION} ${alert.action}`
    : BUDGET_EXCEEDED_ACTION;
}

function amountFields(alert: Alert): Mrkdwn[] {
  const amounts = alert.amounts;
  if (!amounts) return [];
  const limitLabel = alert.kind.startsWith("budget.") || alert.kind === "gcp.budget" ? "Budget" : "Limit";
  const percent = percentUsed(alert);
  const scorecard = alert.kind === "scorecard.digest";
  const fields: Array<[string, string | undefined]> = [
    [
      scorecard ? "Monthly spend" : "Current spend",
      amounts.spend_nanos === undefined ? undefined : formatMoney(amounts.spend_nanos, amounts.currency),
    ],
    [
      limitLabel,
      amounts.limit_nanos === undefined ? undefined : formatMoney(amounts.limit_nanos, amounts.currency),
    ],
    ["Percent used", percent === undefined ? undefined : formatPercent(percent)],
    [
      // For spend anomalies and runaway jobs the figure is what was expected, not a forecast.
      alert.kind.startsWith("spend.") ? "Expected" : "Forecast",
      amounts.forecast_nanos === undefined
        ? undefined
        : formatMoney(amounts.forecast_nanos, amounts.currency),
    ],
    [
      "Could save a month",
      amounts.savings_nanos === undefined ? undefined : formatMoney(amounts.savings_nanos, amounts.currency),
    ],
  ];
  return fields
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([label, value]) => mrkdwn(`*${label}*\n${value}`, SLACK_LIMITS.fieldText));
}

const DAY_MS = 86_400_000;

/** "2026-11-01 – 2026-11-30" for whole UTC days (the end is exclusive), else minutes in UTC. */
export function formatPeriod(period: { start: string; end: string }): string {
  const start = new Date(period.start);
  const end = new Date(period.end);
  const wholeDays = start.getTime() % DAY_MS === 0 && end.getTime() % DAY_MS === 0 && end > start;
  if (wholeDays) {
    const last = new Date(end.getTime() - DAY_MS);
    const day = (d: Date) => d.toISOString().slice(0, 10);
    return last.getTime() === start.getTime() ? day(start) : `${day(start)} – ${day(last)}`;
  }
  const minute = (d: Date) => `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
  return `${minute(start)} – ${minute(end)}`;
}

/** A link Slack will not misread: `|` and `>` would end the label or the link. */
function slackLink(url: string, label: string): string {
  return `<${url.replace(/\|/g, "%7C").replace(/>/g, "%3E")}|${label}>`;
}

function scopeLine(alert: Alert): string | undefined {
  const parts = Object.entries(alert.scope)
    .filter((entry): entry is [string, string] => typeof entry[1] === "string")
    .map(([name, value]) => `${name}: *${escapeMrkdwn(value)}*`);
  return parts.length === 0 ? undefined : parts.join(" · ");
}

function sourceLine(alert: Alert): string {
  const { system, id, url } = alert.source;
  const source = `Source: ${escapeMrkdwn(system)}${id === undefined ? "" : ` (${escapeMrkdwn(id)})`}`;
  const link = url === undefined ? "" : ` · ${slackLink(url, "details")}`;
  const period = alert.period === undefined ? "" : ` · Period: ${formatPeriod(alert.period)}`;
  return `${source}${period}${link}`;
}

function contextBlock(alert: Alert, note: string | undefined): ContextBlock {
  const lines = [
    note === undefined ? undefined : `:warning: ${escapeMrkdwn(note)}`,
    scopeLine(alert),
    sourceLine(alert),
  ];
  return {
    type: "context",
    elements: lines
      .filter((line): line is string => line !== undefined)
      .slice(0, SLACK_LIMITS.contextElements)
      .map((line) => mrkdwn(line, SLACK_LIMITS.contextText)),
  };
}

/** The plain fallback: "🚨 title: summary Action." within Slack's `text` limit. */
export function fallbackText(alert: Alert): string {
  const emoji = SEVERITY_EMOJI[effectiveSeverity(alert)];
  return truncateText(`${emoji} ${alert.title}: ${alert.summary} ${actionLine(alert)}`, SLACK_LIMITS.text);
}

export interface RenderOptions {
  /** A line shown above the context, e.g. why the message is in the fallback channel. */
  note?: string;
}

/** The Block Kit message for an alert: header with the severity emoji, amounts, summary, action, context. */
export function renderAlertMessage(alert: Alert, options: RenderOptions = {}): SlackMessage {
  const severity = effectiveSeverity(alert);
  const fields = amountFields(alert).slice(0, SLACK_LIMITS.fields);
  const body: SlackBlock[] = [
    ...(fields.length === 0 ? [] : [{ type: "section" as const, fields }]),
    { type: "section", text: mrkdwn(escapeMrkdwn(alert.summary), SLACK_LIMITS.sectionText) },
    { type: "section", text: mrkdwn(`*${escapeMrkdwn(actionLine(alert))}*`, SLACK_LIMITS.sectionText) },
    contextBlock(alert, options.note),
  ];
  const text = fallbackText(alert);
  const header = truncateText(`${SEVERITY_EMOJI[severity]} ${alert.title}`, SLACK_LIMITS.headerText);
  return {
    text,
    blocks: [{ type: "header", text: { type: "plain_text", text: header, emoji: true } }],
    attachments: [{ color: SEVERITY_COLOR[severity], fallback: text, blocks: body }],
  };
}

/** Every Slack limit the message breaks, as readable reasons; [] when it is within all of them. */
export function slackLimitViolations(message: SlackMessage): string[] {
  const all = [...message.blocks, ...message.attachments.flatMap((a) => a.blocks)];
  const problems: string[] = [];
  if (all.length > SLACK_LIMITS.blocks)
    problems.push(`${all.length} blocks (at most ${SLACK_LIMITS.blocks})`);
  if (message.text.length > SLACK_LIMITS.text) problems.push(`text is ${message.text.length} characters`);
  all.forEach((block, index) => {
    problems.push(...blockViolations(block).map((problem) => `block ${index} (${block.type}): ${problem}`));
  });
  return problems;
}

function blockViolations(block: SlackBlock): string[] {
  const over = (text: string, max: number, what: string) =>
    text.length > max ? [`${what} is ${text.length} characters (at most ${max})`] : [];
  if (block.type === "header") return over(block.text.text, SLACK_LIMITS.headerText, "text");
  if (block.type === "context") {
    const count =
      block.elements.length > SLACK_LIMITS.contextElements ? [`${block.elements.length} elements`] : [];
    return [
      ...count,
      ...block.elements.flatMap((e, i) => over(e.text, SLACK_LIMITS.contextText, `element ${i}`)),
    ];
  }
  const fields = block.fields ?? [];
  return [
    ...(block.text ? over(block.text.text, SLACK_LIMITS.sectionText, "text") : []),
    ...(fields.length > SLACK_LIMITS.fields ? [`${fields.length} fields`] : []),
    ...fields.flatMap((f, i) => over(f.text, SLACK_LIMITS.fieldText, `field ${i}`)),
  ];
}
