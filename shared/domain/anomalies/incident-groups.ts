import type { Alert } from "#domain/alerts/alert.ts";
import { formatAmount, type Nanos } from "#domain/money.ts";
import {
  ANOMALY_DIMENSIONS,
  type AnomalyDimension,
  type AnomalySettings,
  severityForImpact,
} from "./anomaly-settings.ts";
import {
  anomalousRun,
  anomalyAlert,
  type HourEvaluation,
  incidentAlert,
  type SpendIncident,
  type SpendSeries,
  scopeLabel,
} from "./spend-anomalies.ts";

/** The values of the watched dimensions that one report group has (a team's model in a business unit). */
export type ScopeValues = Readonly<Partial<Record<AnomalyDimension, string>>>;

/** The hourly spend of one combination of scope values, in one currency (same hours as the scopes'). */
export interface CombinationSeries extends SpendSeries {
  values: ScopeValues;
  currency: string;
}

/** A combination's own run of anomalous hours. */
export interface CombinationRun {
  values: ScopeValues;
  currency: string;
  start: number;
  hours: HourEvaluation[];
  spend_nanos: Nanos;
  expected_nanos: Nanos;
  impact_nanos: Nanos;
}

/** What one alert speaks for: the scope incidents one combination explains, or one incident alone. */
export interface IncidentGroup {
  /** In the order of the scope dimensions (team, model, business unit). */
  incidents: SpendIncident[];
  /** The combination whose own spend ran over its baseline from the incidents' first hour. */
  cause: CombinationRun | null;
  key: string;
}

/** "team=search, model=query-ranker": for messages; keys join with "," alone. */
export const valuesLabel = (values: ScopeValues, separator = ", "): string =>
  ANOMALY_DIMENSIONS.flatMap((d) => (values[d] === undefined ? [] : [`${d}=${values[d]}`])).join(separator);

function combinationRun(series: CombinationSeries, hour: number, s: AnomalySettings): CombinationRun | null {
  const hours = anomalousRun(series, hour, s);
  const first = hours?.[0];
  if (hours === null || first === undefined) return null;
  const spend = hours.reduce((sum, h) => sum + h.spend_nanos, 0n);
  const expected = hours.reduce((sum, h) => sum + h.baseline.expected_nanos, 0n);
  return {
    values: series.values,
    currency: series.currency,
    start: first.hour,
    hours,
    spend_nanos: spend,
    expected_nanos: expected,
    impact_nanos: spend - expected,
  };
}

const dimensionRank = (incident: SpendIncident) => ANOMALY_DIMENSIONS.indexOf(incident.scope.dimension);

/**
 * One spike shows in every scope it belongs to: its team's, its model's and its business unit's
 * hourly spend all jump. Fresh incidents are one incident, alerted once, when one combination of
 * scope values (a report group holding each incident's scope value) explains them: its own spend
 * ran over its own baseline from the same hour as theirs. Of several such combinations the one
 * with the largest impact explains an incident; an incident that none explains (spend spread over
 * many groups, none unusual alone) stays on its own, keyed as before.
 */
export function groupIncidents(
  fresh: readonly SpendIncident[],
  combinations: readonly CombinationSeries[],
  hour: number,
  s: AnomalySettings,
): IncidentGroup[] {
  const runs = new Map<CombinationSeries, CombinationRun | null>();
  const runFor = (series: CombinationSeries) => {
    if (!runs.has(series)) runs.set(series, combinationRun(series, hour, s));
    return runs.get(series) ?? null;
  };
  const groups = new Map<string, IncidentGroup>();
  for (const incident of [...fresh].sort((a, b) => dimensionRank(a) - dimensionRank(b))) {
    const { scope } = incident;
    let cause: CombinationRun | null = null;
    for (const series of combinations) {
      if (series.currency !== scope.currency || series.values[scope.dimension] !== scope.value) continue;
      const run = runFor(series);
      if (run === null || run.start !== incident.start) continue;
      if (cause === null || run.impact_nanos > cause.impact_nanos) cause = run;
    }
    const key =
      cause === null
        ? incident.key
        : `spend.anomaly:${valuesLabel(cause.values, ",")}:${cause.currency}:${new Date(cause.start).toISOString()}`;
    const group = groups.get(key);
    if (group) group.incidents.push(incident);
    else groups.set(key, { incidents: [incident], cause, key });
  }
  return [...groups.values()];
}

/**
 * The alert of a group: an incident alone keeps its own alert; a combination's speaks for the
 * combination (its spend against its own baseline) and names the scopes that saw it, with the
 * severity of the largest impact among them.
 */
export function groupAlert(group: IncidentGroup, s: AnomalySettings, now: Date): Alert {
  const [first] = group.incidents;
  if (first === undefined) throw new RangeError("an incident group holds at least one incident");
  const { cause } = group;
  if (cause === null) return incidentAlert(first, now);
  let impact = cause.impact_nanos;
  for (const incident of group.incidents) if (incident.impact_nanos > impact) impact = incident.impact_nanos;
  const seen = group.incidents
    .map((i) => `${scopeLabel(i.scope)} +${formatAmount(i.impact_nanos)} ${cause.currency}`)
    .join(", ");
  return anomalyAlert(
    {
      label: valuesLabel(cause.values),
      scope: { ...cause.values },
      currency: cause.currency,
      start: cause.start,
      end: first.end,
      hours: cause.hours,
      spend_nanos: cause.spend_nanos,
      expected_nanos: cause.expected_nanos,
      impact_nanos: cause.impact_nanos,
      severity: severityForImpact(impact, s),
      key: group.key,
      note: `Over their own baselines too: ${seen}.`,
    },
    now,
  );
}
