import type { Alert } from "#domain/alerts/alert.ts";
import { formatAmount, type Nanos } from "#domain/money.ts";
import type { TrainingJobRow } from "#domain/training/job-summary.ts";
import { type AnomalySettings, MICRO, severityForImpact, toMicro } from "./anomaly-settings.ts";
import { medianNanos } from "./spend-anomalies.ts";

export interface RunawayJob {
  job: TrainingJobRow;
  /** The median cost of the finished jobs of the same team, model and currency. */
  typical_nanos: Nanos;
  peers: number;
  key: string;
}

const peerKey = (job: TrainingJobRow) => JSON.stringify([job.team, job.model, job.currency]);

/**
 * Running jobs whose cost already passes `runawayMultiple` × the median cost of the finished jobs
 * of their team and model (at least `runawayMinPeers` of them): flagged while they run.
 */
export function detectRunaways(jobs: readonly TrainingJobRow[], s: AnomalySettings): RunawayJob[] {
  const finished = new Map<string, Nanos[]>();
  for (const job of jobs) {
    if (job.outcome !== "finished") continue;
    const costs = finished.get(peerKey(job)) ?? [];
    costs.push(job.cost_nanos);
    finished.set(peerKey(job), costs);
  }
  const multiple = toMicro(s.runawayMultiple);
  const out: RunawayJob[] = [];
  for (const job of jobs) {
    if (job.outcome !== "running") continue;
    const peers = finished.get(peerKey(job)) ?? [];
    if (peers.length < s.runawayMinPeers) continue;
    const typical = medianNanos(peers);
    if (typical <= 0n || job.cost_nanos * MICRO <= typical * multiple) continue;
    out.push({
      job,
      typical_nanos: typical,
      peers: peers.length,
      key: `spend.runaway:${job.event_source}:${job.job_id}`,
    });
  }
  return out;
}

/** One alert per job, whatever its cost does later: keyed and threaded by the job. */
export function runawayAlert(runaway: RunawayJob, s: AnomalySettings, now: Date): Alert {
  const { job } = runaway;
  const money = (n: Nanos) => `${formatAmount(n)} ${job.currency}`;
  const severity = severityForImpact(job.cost_nanos - runaway.typical_nanos, s);
  const times = Number((job.cost_nanos * 10n) / runaway.typical_nanos) / 10;
  return {
    idempotency_key: runaway.key,
    kind: "spend.runaway",
    severity: severity === "info" ? "warning" : severity,
    title: `Runaway training job ${job.job_id}: ${money(job.cost_nanos)} so far`.slice(0, 150),
    summary: (
      `Training job ${job.job_id} (${job.team}/${job.model}) is still running and has cost ` +
      `${money(job.cost_nanos)}, ${times}× the median ${money(runaway.typical_nanos)} of ` +
      `${runaway.peers} finished jobs of the same team and model.`
    ).slice(0, 2000),
    action: "Check the job's progress (stalled epochs, a loop) and stop it if it is not converging.",
    scope: { team: job.team, model: job.model, business_unit: job.business_unit },
    amounts: { spend_nanos: job.cost_nanos, forecast_nanos: runaway.typical_nanos, currency: job.currency },
    period: { start: job.started_at.toISOString(), end: job.last_seen_at.toISOString() },
    source: { system: "finops", id: `${job.event_source}/${job.job_id}`.slice(0, 512) },
    thread_key: runaway.key,
    created_at: now.toISOString(),
  };
}
