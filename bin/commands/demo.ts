import { createWriteStream } from "node:fs";
import { generateDemoEvents } from "#domain/demo/demo-events.ts";
import { type Command, parseCommandArgs, UsageError } from "../cli-args.ts";
import { runDemoWithAlerts } from "./demo-alerts.ts";
import { demoWindow } from "./demo-feed.ts";
import { runDemoReconciliation } from "./demo-reconcile.ts";

export const demoCommand: Command = {
  name: "demo",
  summary: "stream a synthetic org's events through the local pipeline (or write them as NDJSON)",
  usage: `finops demo [--hours N] [--seed S] [--out FILE|-]

  A realistic org: three business units, several teams, five models with versions, A100/L4/V100 and
  AWS p3/g4dn fleets, diurnal inference traffic, training jobs on fixed UTC schedules (a retrain that
  fails every other day; every Saturday a fine-tune that stalls and runs all week: the runaway), a
  team that repeats the same requests, a provider API and a monthly licence. A training job running
  when the history starts is sent whole, from its start. Each whole hour also brings the Kubernetes
  allocations of the GKE serving cluster (gke-prod-us-central1) as the allocation import
  reports them: GPU list cost split by DCGM utilization, an L4 time-sliced by two teams, idle
  capacity, an unlabelled namespace (unallocated) and kube-system overhead. In the report, those
  allocations replace the request estimates of the namespace-hours they cover: each dollar once.
  Without --out the events go through the bus and the ingest function into the local warehouse and
  a report is printed. Then the alerts, through the same functions and bus as in production: the
  budgets (the synthetic org's when the configuration has none) evaluated twice, each threshold
  alerted once; a real GCP budget notification delivered twice, routed once; a signed AWS anomaly
  (SNS, with a certificate made with openssl) routed and a forged copy refused; detectAnomalies run
  twice, the spike in one team's inference over the last four hours (an agent loop on a provider
  API) and the runaway job (past 10× its peers Monday to Friday) alerted once each (with 24 hours
  of history or more). Without
  SLACK_BOT_TOKEN the alerts print here and go to the console notifier's JSONL file. Last, the
  reconciliation: a bill for the demo's days (each instance family at its own true price, the A100s
  a few percent above the catalog, and AWS data transfer no estimate covers) written as a FOCUS CSV
  next to the warehouse, imported, and each day reconciled; calibration learned from the days before
  cuts the next day's drift, and both figures are printed.

  --hours    hours of history ending now (default 48)
  --seed     seed (default "demo"). The org is one history: the same seed gives every event the same
             id and content whatever --hours, or when, a run covers (a request by its hour and its
             number in that hour, a training job by its start, the licence by its day), so a rerun,
             or --out then finops ingest, adds only what earlier runs had not sent, never a cost twice
  --out      write the events as NDJSON to FILE (or - for stdout) instead of ingesting them`,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      hours: { type: "string", default: "48" },
      seed: { type: "string", default: "demo" },
      out: { type: "string" },
    });
    const hours = Number(values.hours);
    if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 62)
      throw new UsageError("--hours: a whole number 1..1488");
    const seed = values.seed ?? "demo";
    if (values.out !== undefined) {
      const now = new Date();
      const { from } = demoWindow(now, hours);
      const out = values.out === "-" ? process.stdout : createWriteStream(values.out);
      let count = 0;
      for (const event of generateDemoEvents({ from, hours, seed })) {
        if (Date.parse(event.time) > now.getTime()) continue;
        if (!out.write(`${JSON.stringify(event)}\n`))
          await new Promise<void>((r) => out.once("drain", () => r()));
        count += 1;
      }
      if (out !== process.stdout) await new Promise<void>((r) => out.end(() => r()));
      process.stderr.write(`wrote ${count} events\n`);
      return 0;
    }
    process.stdout.write(`Streaming ${hours} h of a synthetic org's events through the local pipeline...\n`);
    const { session } = await runDemoWithAlerts({ port: 0, hours, seed, out: process.stdout });
    try {
      await runDemoReconciliation(session, { hours, seed, out: process.stdout });
    } finally {
      await session.close();
    }
    return 0;
  },
};
