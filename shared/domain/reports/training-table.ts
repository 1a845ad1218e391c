import type { ReportTable } from "../report-format.ts";
import type { JobSummary } from "../training/job-summary.ts";

/**
 * Training jobs, most expensive first: outcome, when they ran, GPU-hours, epochs, cost as the rollup
 * charges it and cost per epoch. Owner details and placement are in JSON and CSV.
 */
export function trainingTable(jobs: readonly JobSummary[]): ReportTable {
  const ordered = [...jobs].sort((a, b) =>
    a.cost_nanos === b.cost_nanos ? 0 : a.cost_nanos > b.cost_nanos ? -1 : 1,
  );
  return {
    columns: [
      { key: "job_id", heading: "job", kind: "text" },
      { key: "event_source", kind: "text", detail: true },
      { key: "team", kind: "text" },
      { key: "model", kind: "text" },
      { key: "business_unit", kind: "text", detail: true },
      { key: "instance_type", kind: "text", detail: true },
      { key: "outcome", kind: "text" },
      { key: "started_at", heading: "started (UTC)", kind: "time" },
      { key: "last_seen_at", kind: "time", detail: true },
      { key: "duration_seconds", heading: "duration", kind: "duration" },
      { key: "gpu_count", kind: "measure", digits: 2, detail: true },
      { key: "gpu_hours", heading: "gpu-h", kind: "measure", digits: 1, total: true },
      { key: "epochs", kind: "count" },
      { key: "currency", kind: "text" },
      { key: "cost_nanos", heading: "cost", kind: "money", amountKey: "amount", total: true },
      {
        key: "cost_per_epoch_nanos",
        heading: "per epoch",
        kind: "money",
        amountKey: "cost_per_epoch",
      },
    ],
    rows: ordered.map((j) => ({
      job_id: j.job_id,
      event_source: j.event_source,
      team: j.team,
      model: j.model,
      business_unit: j.business_unit,
      instance_type: j.instance_type,
      outcome: j.outcome,
      started_at: j.started_at,
      last_seen_at: j.last_seen_at,
      duration_seconds: j.duration_seconds,
      gpu_count: j.gpu_count,
      gpu_hours: j.gpu_hours,
      epochs: j.epochs,
      currency: j.currency,
      cost_nanos: j.cost_nanos,
      cost_per_epoch_nanos: j.cost_per_epoch_nanos,
    })),
  };
}
